"""Approval in a real browser: an editor composes and submits, the manager approves from the
queue, the post is published on the sandbox; a viewer sees it all with no post buttons."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.test_approval import job_settings, service, team, video  # noqa: F401 - fixtures
from tests.test_jobs import run_worker_burst
from tests.test_publishing import accepted_inits, drive
from webapp.models import Post, PostEvent

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(settings, sandbox_server):
    """Point the app at the sandbox in its config too, so the CSP admits its avatars."""
    return {
        **settings,
        "TIKTOK_AUTH_BASE_URL": sandbox_server.url,
        "TIKTOK_API_BASE_URL": sandbox_server.url,
    }


def sign_in(page, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/w/**")


def test_an_editor_submits_the_manager_approves_and_it_is_published(
    live_server, page, request, sandbox
):
    # The fixtures of tests/test_approval.py (imported above), asked for by name.
    people, settings = request.getfixturevalue("team"), request.getfixturevalue("job_settings")
    media = video(people, settings)
    base = f"{live_server}{people['base']}"
    account = people["account"]

    sign_in(page, live_server, "eddie@example.com")
    page.goto(f"{base}/compose/?accounts={account.id}&media={media.id}")
    expect(page.get_by_text("nothing reaches TikTok until they approve it")).to_be_visible()
    page.locator(f"#panel-{account.id}").get_by_label("Everyone", exact=True).check()
    post_now = page.get_by_role("button", name="Post now")
    expect(post_now).to_be_enabled()
    post_now.click()
    expect(page.get_by_text("Sent for approval.")).to_be_visible()
    post = Post.get()
    assert post.status == "awaiting_approval"
    assert sandbox.control("state")["inits"] == []
    # Editors have no Approvals page in their menu.
    expect(page.get_by_role("link", name="Approvals")).to_have_count(0)

    sign_in(page, live_server, "mona@example.com")
    page.get_by_role("link", name="Approvals").click()
    row = page.locator(f"tr[data-post-id='{post.id}']")
    expect(row).to_contain_text("Eddie Editor")
    expect(row).to_contain_text("Awaiting approval")
    row.get_by_role("link").click()
    # The panel as the editor left it, decided again: the creator, the choice, the declaration.
    panel = page.locator(f"#panel-{account.id}")
    expect(panel.get_by_text("Maya Rivers")).to_be_visible()
    expect(panel.get_by_label("Everyone", exact=True)).to_be_checked()
    expect(panel.get_by_label("Everyone", exact=True)).to_be_disabled()
    expect(page.locator("video.preview-media")).to_be_visible()
    expect(page.locator("p.declaration")).to_contain_text("Music Usage Confirmation")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approved and sent for publishing.")).to_be_visible()
    consent = PostEvent.get(PostEvent.kind == "consent")
    assert consent.data["user_id"] == people["mona"].id

    result = run_worker_burst(settings)
    assert result.returncode == 0, result.stderr
    target = drive(post.targets.get().id)
    assert target.status == "published", target.error_message
    assert len(accepted_inits(sandbox)) == 1

    sign_in(page, live_server, "vera@example.com")
    page.goto(f"{base}/posts/{post.id}")
    expect(page.locator("#approval")).to_contain_text("Approved by Mona Manager")
    expect(page.locator("#approval")).to_contain_text("Sent for approval by Eddie Editor")
    for name in ("Edit", "Cancel post", "Review", "Retry"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Approvals")).to_have_count(0)
