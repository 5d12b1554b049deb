"""The post page in a real browser: the status widget follows the publish without a reload."""

from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect

from jobs import publishing as pubjobs
from tests.test_browser import sign_in
from tests.test_publishing import add_media, make_post, maya, service  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def job_settings(app, monkeypatch):
    import jobs.context

    settings = dict(app.config)
    monkeypatch.setattr(jobs.context, "settings", lambda: settings)
    return settings


def test_status_widget_updates_itself_until_open_on_tiktok(
    live_server,
    page,
    admin,
    maya,  # noqa: F811 - the fixture imported above
    job_settings,
    sandbox,  # noqa: F811 - fixtures
    tmp_path,
):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/posts/{target.post_id}")
    widget = page.locator("#post-status")
    expect(widget).to_contain_text("Due now: on its way to TikTok.")  # due at once, like Post now

    def publish():
        from webapp.db import connected

        with connected():
            pubjobs.publish_target(target.id)
            for _ in range(30):
                if pubjobs.check_status(target.id) == "nothing to check":
                    break
                threading.Event().wait(0.3)

    worker = threading.Thread(target=publish)
    worker.start()
    worker.join(30)
    from webapp.models import PostTarget

    done = PostTarget.get_by_id(target.id)
    assert done.status == "published" and done.public_url, (done.status, done.error_message)
    # No reload: htmx polls the widget every 2 s until the post is public.
    link = widget.locator("a", has_text="Open on TikTok")
    expect(link).to_be_visible(timeout=10_000)
    assert link.get_attribute("href").startswith(f"{sandbox.url}/@maya.rivers/video/")
    expect(widget).to_contain_text("Published")
    expect(widget.get_by_role("button", name="Cancel post")).to_have_count(0)
    assert widget.get_attribute("hx-trigger") is None  # polling stopped
    assert widget.locator(".tiktok-note").count() == 0  # a public post opens itself, no note
    page.screenshot(path=str(tmp_path / "post-public.png"), full_page=True)
    # The timeline followed along (out-of-band swap), still without a reload.
    timeline = page.locator("#post-timeline")
    expect(timeline).to_contain_text("The whole video reached TikTok")
    expect(timeline).to_contain_text("Published on TikTok")
    expect(page.locator("#post-timeline")).to_have_count(1)


def test_a_private_posts_open_on_tiktok_opens_the_creators_profile(
    live_server,
    page,
    admin,
    maya,  # noqa: F811 - the fixture imported above
    job_settings,
    sandbox,  # noqa: F811 - fixtures
    tmp_path,
):
    _, target = make_post(
        admin,
        maya,
        add_media(admin, job_settings),
        privacy="SELF_ONLY",
        caption="First look at the spring collection",
    )
    from webapp.db import connected

    with connected():
        pubjobs.publish_target(target.id)
        for _ in range(30):
            if pubjobs.check_status(target.id) == "nothing to check":
                break
            threading.Event().wait(0.3)
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/posts/{target.post_id}")
    widget = page.locator("#post-status")
    expect(widget).to_contain_text("Published (only you can see it)")
    expect(widget).to_contain_text("This post is visible only to its owner")
    assert widget.get_attribute("hx-trigger") is None  # nothing left to wait for
    page.screenshot(path=str(tmp_path / "post-private.png"), full_page=True)
    link = widget.get_by_role("button", name="Open on TikTok")
    with page.context.expect_page() as opened:
        link.click()
    profile = opened.value
    profile.wait_for_load_state()
    assert profile.url == f"{sandbox.url}/@maya.rivers"
    item = profile.get_by_role("listitem").filter(has_text="First look at the spring collection")
    expect(item).to_contain_text("Only me (private)")
    profile.screenshot(path=str(tmp_path / "sandbox-profile.png"), full_page=True)
