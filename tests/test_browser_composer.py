"""The composer in a real browser: every interaction TikTok's auditors check, live over htmx."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests import accounts_flow as flow
from tests.conftest import ffmpeg_clip, home
from tests.test_browser import sign_in
from tests.test_composer import add_video
from webapp.models import Account, TikTokService
from webapp.tiktok.rules import BRANDED_DISABLED_BY_PRIVATE

pytestmark = pytest.mark.browser

HOVER_NEED = "You need to indicate if your content promotes yourself, a third party, or both."


def settled(page) -> None:
    """Wait until htmx has no request in flight (each change swaps the panel)."""
    page.wait_for_timeout(50)
    # Locator waits, not wait_for_function: the page's CSP forbids evaluating strings.
    page.locator(".htmx-request").first.wait_for(state="detached")


@pytest.fixture
def settings(settings, sandbox_server):
    """Point the app at the sandbox in its config too, so the CSP admits its avatars."""
    return {
        **settings,
        "TIKTOK_AUTH_BASE_URL": sandbox_server.url,
        "TIKTOK_API_BASE_URL": sandbox_server.url,
    }


def real_video(owner, app):
    """A media row with a real file behind it, for the preview."""
    from pathlib import Path

    video = add_video(owner)
    ffmpeg_clip(Path(app.config["MEDIA_ROOT"]) / video.stored_name)
    return video


@pytest.fixture
def ready(app, admin_client, tiktok, admin):
    service = TikTokService.load()
    service.audited = True
    service.save()
    flow.connect(admin_client)
    return Account.get(), real_video(admin, app)


def tooltip_of(page, wrapped):
    """Return the tooltip element that describes the wrapper around `wrapped` (a locator)."""
    wrapper = wrapped.locator("xpath=ancestor::*[contains(@class, 'has-tip')][1]")
    return wrapper, page.locator(f"#{wrapper.get_attribute('aria-describedby')}")


def test_the_five_points_live(live_server, page, admin, ready, tmp_path):
    account, video = ready
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/compose/?media={video.id}")
    panel = page.locator(f"#panel-{account.id}")
    post_now = page.get_by_role("button", name="Post now")
    privacy = panel.get_by_role("radiogroup", name="Who can view this video")
    # Point 1: the nickname; point 2b: no privacy chosen, nothing can be posted yet.
    assert panel.get_by_text("Maya Rivers").is_visible()
    assert privacy.get_by_role("radio").count() == 3
    assert privacy.locator("input:checked").count() == 0 and post_now.is_disabled()
    # Point 2c: interactions start unchecked.
    for label in ("Allow Comment", "Allow Duet", "Allow Stitch"):
        assert not panel.get_by_label(label).is_checked()
    panel.get_by_label("Everyone", exact=True).check()
    expect(post_now).to_be_enabled()
    # Point 3: disclosure on with nothing ticked blocks the buttons with the required hover text.
    panel.get_by_label("Disclose post content").check()
    panel.get_by_label("Your brand").wait_for()
    expect(post_now).to_be_disabled()
    assert page.locator("#actions [title]").count() == 0  # the tooltip replaced the title
    _, tip = tooltip_of(page, post_now)
    expect(tip).to_have_text(HOVER_NEED)
    panel.get_by_label("Your brand").check()
    page.get_by_text("Your photo/video will be labeled as 'Promotional content'").wait_for()
    assert page.get_by_text(
        "By posting, you agree to TikTok's Music Usage Confirmation."
    ).is_visible()
    panel.get_by_label("Branded content").check()
    page.get_by_text("Your photo/video will be labeled as 'Paid partnership'").wait_for()
    assert page.locator(".declaration").inner_text() == (
        "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation."
    )
    # Point 3b: Branded content disables "Only me", with the required hover text.
    only_me = panel.get_by_label("Only me", exact=True)
    expect(only_me).to_be_disabled()
    _, tip = tooltip_of(page, only_me)
    expect(tip).to_have_text("Branded content visibility cannot be set to private.")
    assert panel.locator(".privacy [title]").count() == 0
    # ...and "Only me" first disables Branded content, with its reason in a tooltip.
    panel.get_by_label("Branded content").uncheck()
    settled(page)
    expect(only_me).to_be_enabled()
    only_me.check()
    settled(page)
    panel.locator("label.greyed", has_text="Branded content").wait_for()
    branded = panel.get_by_label("Branded content")
    assert branded.is_disabled()
    wrapper, tip = tooltip_of(page, branded)
    expect(tip).to_have_text(BRANDED_DISABLED_BY_PRIVATE)
    wrapper.hover()
    expect(tip).to_be_visible()
    page.screenshot(path=tmp_path / "branded-content-disabled.png", caret="initial")
    # The caption counter counts UTF-16 units live.
    page.get_by_label("Caption").fill("😀😀 hi")
    page.get_by_text("7 / 2200").wait_for()


def test_private_creator_greys_duet_and_stitch(
    live_server, page, app, admin, admin_client, tiktok, tmp_path
):
    flow.connect(admin_client, creator="kenji.private")
    account = Account.get()
    video = real_video(admin, app)
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/compose/?media={video.id}")
    panel = page.locator(f"#panel-{account.id}")
    assert (
        panel.get_by_label("Allow Duet").is_disabled()
        and panel.get_by_label("Allow Stitch").is_disabled()
    )
    assert not panel.get_by_label("Allow Comment").is_disabled()
    reason = panel.locator("small", has_text="Duets are turned off for this account in TikTok.")
    assert reason.is_visible()
    # The reason is also the greyed box's tooltip, drawn on hover (no `title`).
    wrapper, tip = tooltip_of(page, panel.get_by_label("Allow Duet"))
    assert panel.locator(".interactions [title]").count() == 0
    expect(tip).to_be_hidden()
    wrapper.hover()
    expect(tip).to_be_visible()
    expect(tip).to_have_text("Duets are turned off for this account in TikTok.")
    page.screenshot(path=tmp_path / "duet-greyed.png")


def test_a_photo_post_shows_only_allow_comment(live_server, page, admin, ready, tmp_path):
    account, _video = ready
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/compose/")
    page.get_by_label("Photos", exact=True).check()
    page.get_by_label("Description").wait_for()
    panel = page.locator(f"#panel-{account.id}")
    assert panel.get_by_label("Allow Comment").count() == 1
    assert (
        panel.get_by_label("Allow Duet").count() == 0
        and panel.get_by_label("Allow Stitch").count() == 0
    )
    page.screenshot(path=tmp_path / "composer-photo.png", full_page=True)  # per worker


@pytest.mark.parametrize(
    "creator, labels",
    [
        ("kenji.private", ["Followers", "Friends", "Only me"]),
        ("maya.rivers", ["Everyone", "Friends", "Only me"]),
    ],
)
def test_unaudited_mode_shows_the_full_list_and_refuses_all_but_only_me(
    live_server, page, app, admin, admin_client, tiktok, creator, labels, tmp_path
):
    from webapp.models import Post
    from webapp.tiktok.rules import UNAUDITED_NOTE, UNAUDITED_REFUSED

    service = TikTokService.load()
    service.audited = False
    service.save()
    flow.connect(admin_client, creator=creator)
    account = Account.get()
    video = real_video(admin, app)
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/compose/?media={video.id}")
    panel = page.locator(f"#panel-{account.id}")
    privacy = panel.get_by_role("radiogroup", name="Who can view this video")
    radios = privacy.get_by_role("radio")
    assert [r.locator("xpath=..").inner_text().strip() for r in radios.all()] == labels
    assert privacy.locator("input:checked").count() == 0
    assert not any(r.is_disabled() for r in radios.all())
    expect(panel.locator(".note")).to_have_text(UNAUDITED_NOTE)
    post_now = page.get_by_role("button", name="Post now")
    panel.get_by_label("Friends", exact=True).check()
    settled(page)
    expect(post_now).to_be_disabled()
    wrapper, tip = tooltip_of(page, post_now)
    expect(tip).to_have_text(UNAUDITED_REFUSED)
    wrapper.hover()
    expect(tip).to_be_visible()
    page.screenshot(path=tmp_path / f"unaudited-{creator}.png")
    expect(page.locator(".reasons")).to_contain_text(UNAUDITED_REFUSED)
    # Forced past the disabled button, the server refuses the same way; nothing is saved or sent.
    post_now.evaluate("button => { button.disabled = false; }")
    post_now.click()
    expect(page.locator(".reasons")).to_contain_text(UNAUDITED_REFUSED)
    assert Post.select().count() == 0
    assert tiktok.control("state")["inits"] == []
    # "Only me" is accepted.
    panel.get_by_label("Only me", exact=True).check()
    settled(page)
    expect(post_now).to_be_enabled()
    assert page.locator("#actions .has-tip").count() == 0  # no reason, no tooltip, no tab stop


# What the browser draws (tooltips, layout) doesn't depend on the engine: SQLite pass only.
@pytest.mark.engine_independent
@pytest.mark.parametrize("audited", [True, False])
def test_tooltips_show_on_hover_and_on_keyboard_focus(live_server, page, admin, ready, audited):
    """The hover texts are elements drawn in the page, shown on hover and on keyboard focus;
    unaudited, every interaction still shows (and TikTok's sentence still wins the hover)."""
    account, video = ready
    TikTokService.update(audited=audited).execute()
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/compose/?media={video.id}")
    panel = page.locator(f"#panel-{account.id}")
    panel.get_by_label("Everyone", exact=True).check()
    settled(page)
    panel.get_by_label("Disclose post content").check()
    panel.get_by_label("Your brand").wait_for()
    settled(page)

    def shows_on_hover(wrapped, text):
        wrapper, tip = tooltip_of(page, wrapped)
        assert wrapper.get_attribute("tabindex") == "0" and tip.get_attribute("role") == "tooltip"
        expect(tip).to_be_hidden()
        wrapper.hover()
        expect(tip).to_be_visible()
        expect(tip).to_have_text(text)
        page.mouse.move(0, 0)
        expect(tip).to_be_hidden()
        return wrapper, tip

    def shows_on_focus(wrapper, tip, key, start):
        start.focus()
        page.keyboard.press(key)
        expect(wrapper).to_be_focused()
        expect(tip).to_be_visible()
        page.keyboard.press(key)
        expect(tip).to_be_hidden()

    post_now = page.get_by_role("button", name="Post now")
    schedule = page.get_by_role("button", name="Schedule")
    expect(post_now).to_be_disabled()
    wrapper, tip = shows_on_hover(post_now, HOVER_NEED)
    shows_on_focus(wrapper, tip, "Tab", page.locator(".declaration a").last)
    wrapper, tip = shows_on_hover(schedule, HOVER_NEED)
    shows_on_focus(wrapper, tip, "Shift+Tab", page.get_by_role("button", name="Save draft"))

    panel.get_by_label("Branded content").check()
    only_me = panel.get_by_label("Only me", exact=True)
    expect(only_me).to_be_disabled()
    wrapper, tip = shows_on_hover(only_me, "Branded content visibility cannot be set to private.")
    shows_on_focus(wrapper, tip, "Tab", panel.get_by_label("Everyone", exact=True))


# What the browser draws (tooltips, layout) doesn't depend on the engine: SQLite pass only.
@pytest.mark.engine_independent
def test_with_nothing_chosen_and_disclosure_on_the_hover_is_tiktoks_sentence(
    live_server, page, admin, ready
):
    account, _video = ready
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/compose/")  # no video, no privacy
    panel = page.locator(f"#panel-{account.id}")
    _, tip = tooltip_of(page, page.get_by_role("button", name="Post now"))
    expect(tip).to_have_text("Choose a video to post.")
    panel.get_by_label("Disclose post content").check()
    panel.get_by_label("Your brand").wait_for()
    settled(page)
    for name in ("Post now", "Schedule"):
        _, tip = tooltip_of(page, page.get_by_role("button", name=name))
        expect(tip).to_have_text(HOVER_NEED)
    # The other problems stay listed below the buttons.
    reasons = page.locator(".reasons")
    for problem in ("Choose a video to post.", "Choose who can view this video.", HOVER_NEED):
        expect(reasons).to_contain_text(problem)


def _inside(inner: dict, outer: dict) -> bool:
    return (
        inner["x"] >= outer["x"]
        and inner["y"] >= outer["y"]
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
    )


# What the browser draws (tooltips, layout) doesn't depend on the engine: SQLite pass only.
@pytest.mark.engine_independent
@pytest.mark.parametrize("width", [1280, 1440])
def test_tooltips_fit_the_page_and_leave_the_caption_visible(
    live_server, page, admin, ready, width, tmp_path
):
    """A shown tooltip lies inside the window, beside or above its control, off the caption."""
    account, video = ready
    sign_in(page, live_server, admin.email)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server}/compose/?media={video.id}")
    panel = page.locator(f"#panel-{account.id}")
    page.get_by_label("Caption").fill("First look at the spring collection")
    panel.get_by_label("Friends", exact=True).check()
    settled(page)
    panel.get_by_label("Disclose post content").check()
    panel.get_by_label("Branded content").check()
    settled(page)
    view = {"x": 0, "y": 0, "width": width, "height": 900}

    def looks_right(wrapped, name):
        wrapper, tip = tooltip_of(page, wrapped)
        wrapper.scroll_into_view_if_needed()
        wrapper.hover()
        expect(tip).to_be_visible()
        box = tip.bounding_box()
        assert _inside(box, view), (name, box)
        assert not _overlap(box, wrapped.bounding_box()), name
        assert not _overlap(box, page.get_by_label("Caption").bounding_box()), name
        page.screenshot(path=tmp_path / f"tooltip-{name}-{width}.png", caret="initial")

    only_me = panel.get_by_label("Only me", exact=True)
    expect(only_me).to_be_disabled()
    looks_right(only_me, "only-me")
    panel.get_by_label("Branded content").uncheck()  # disclosure on, nothing ticked
    settled(page)
    post_now = page.get_by_role("button", name="Post now")
    expect(post_now).to_be_disabled()
    looks_right(post_now, "post-now")


def video_with_frames(app, owner):
    """Add a 2-second video with its cover frames made, as an upload's check job leaves it."""
    from pathlib import Path

    from webapp.media.storage import extract_frames

    video = add_video(owner, duration_ms=2000)
    ffmpeg_clip(Path(app.config["MEDIA_ROOT"]) / video.stored_name, seconds=2)
    extract_frames(video, app.config["MEDIA_ROOT"])
    return video


class SlowPaths:
    """WSGI wrapper for tests only: the next request to a path prefix waits, as a slow link or
    a slow server would make it (production never has this)."""

    def __init__(self, app):
        import threading

        self.app, self.wrapped, self.pending = app, app.wsgi_app, {}
        self.answered: dict[str, threading.Event] = {}
        app.wsgi_app = self

    def slow_next(self, prefix: str, seconds: float) -> None:
        import threading

        self.pending[prefix] = seconds
        self.answered[prefix] = threading.Event()

    def wait_answered(self, prefix: str, timeout: float = 15) -> None:
        """Wait until the slowed request to prefix has been answered (not a fixed time)."""
        assert self.answered[prefix].wait(timeout), f"the slowed {prefix} request never came"

    def __call__(self, environ, start_response):
        import time

        # Prefixes name a page's own path ("/compose/check"), inside whichever workspace.
        path = re.sub(r"^/w/[^/]+", "", environ.get("PATH_INFO", ""))
        for prefix, seconds in list(self.pending.items()):
            if path.startswith(prefix):
                del self.pending[prefix]
                time.sleep(seconds)
                try:
                    return self.wrapped(environ, start_response)
                finally:
                    self.answered[prefix].set()
        return self.wrapped(environ, start_response)


def test_a_slow_check_never_undoes_what_was_typed_or_ticked_meanwhile(
    live_server, page, app, admin, admin_client, tiktok
):
    """Issue 13.1: choose a video, type and tick while its check is slow; nothing is lost."""

    from webapp.models import Post, PostTarget
    from webapp.tiktok.rules import utf16_len

    service = TikTokService.load()
    service.audited = True
    service.save()
    flow.connect(admin_client)
    account = Account.get()
    video = video_with_frames(app, admin)  # the picker only reads them (slowed below)
    slow = SlowPaths(app)
    sign_in(page, live_server, admin.email)
    covers = []
    page.on("request", lambda r: "/compose/cover/" in r.url and covers.append(r.url))
    page.goto(f"{live_server}/compose/")
    panel = page.locator(f"#panel-{account.id}")
    caption = "Spring drop, first look 😀 #newin"

    # The check of the chosen video takes 3 s; its cover frames take 2.5 s more, on their own.
    slow.slow_next("/compose/check", 3.0)
    slow.slow_next("/compose/cover/", 2.5)
    page.locator("#media").select_option(str(video.id))
    page.get_by_label("Caption").fill(caption)
    panel.get_by_label("Everyone", exact=True).check()
    panel.get_by_label("Allow Comment").check()
    panel.get_by_label("Disclose post content").check()
    # The checks that followed answered at once, while the frames were still being made.
    panel.get_by_label("Your brand").wait_for()
    assert page.get_by_text("Loading cover frames…").is_visible()
    slow.wait_answered("/compose/check")  # the slow first check lands (or was dropped) now
    settled(page)

    assert page.get_by_label("Caption").input_value() == caption
    assert page.locator("#caption-counter").inner_text() == f"{utf16_len(caption)} / 2200"
    assert panel.get_by_label("Everyone", exact=True).is_checked()
    assert panel.get_by_label("Allow Comment").is_checked()
    assert panel.get_by_label("Disclose post content").is_checked()
    assert page.locator("#media").input_value() == str(video.id)
    # The cover frames arrive by themselves; the chosen one survives later checks.
    page.locator(".cover-frames img").first.wait_for()
    page.locator("input[name=cover_timestamp_ms]").nth(2).check()
    chosen_ms = int(page.locator("input[name=cover_timestamp_ms]").nth(2).get_attribute("value"))
    panel.get_by_label("Your brand").check()
    expect(page.get_by_role("button", name="Post now")).to_be_enabled()
    assert page.locator("input[name=cover_timestamp_ms]").nth(2).is_checked()
    assert page.get_by_label("Caption").input_value() == caption
    assert len(covers) == 1  # every later check kept the picker instead of loading it again

    page.get_by_role("button", name="Post now").click()
    page.wait_for_url(f"{live_server}/w/*/posts/**")
    post = Post.get()
    target = PostTarget.get()
    assert (post.caption, post.cover_timestamp_ms) == (caption, chosen_ms)
    assert (target.privacy_level, target.allow_comment, target.disclose) == (
        "PUBLIC_TO_EVERYONE",
        True,
        True,
    )
    assert (target.brand_organic, target.brand_content, target.allow_duet) == (True, False, False)


def test_a_slow_check_keeps_a_photo_posts_title_and_description(
    live_server, page, app, admin, admin_client, tiktok
):
    """Issue 13.1's siblings: the photo title and description (and their counters) survive too."""
    from pathlib import Path

    from tests.conftest import ffmpeg_image
    from webapp.models import Media
    from webapp.tiktok.rules import utf16_len

    flow.connect(admin_client)
    account = Account.get()
    photo = Media.create(
        workspace=home(admin),
        owner=admin,
        kind="photo",
        original_name="look.jpg",
        stored_name=f"{admin.id}/p.jpg",
    )
    ffmpeg_image(Path(app.config["MEDIA_ROOT"]) / photo.stored_name)
    slow = SlowPaths(app)
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/compose/?post_type=photo")
    panel = page.locator(f"#panel-{account.id}")
    title, description = "First look 😀", "Three colours, one jacket. ✨ Link in bio."
    slow.slow_next("/compose/check", 3.0)
    page.locator("#media").select_option(str(photo.id))
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill(description)
    panel.get_by_label("Allow Comment").check()
    slow.wait_answered("/compose/check")
    settled(page)
    assert page.get_by_label("Title").input_value() == title
    assert page.get_by_label("Description").input_value() == description
    assert page.locator("#caption-counter").inner_text() == f"{utf16_len(title)} / 90"
    assert page.locator("#description-counter").inner_text() == (f"{utf16_len(description)} / 4000")
    assert panel.get_by_label("Allow Comment").is_checked()
    assert page.locator("#media").input_value() == str(photo.id)
    # Trying the other post type and coming back loses nothing typed.
    page.get_by_label("Video", exact=True).check()
    page.get_by_label("Caption").wait_for()
    settled(page)
    page.get_by_label("Photos", exact=True).check()
    page.get_by_label("Description").wait_for()
    settled(page)
    assert page.get_by_label("Title").input_value() == title
    assert page.get_by_label("Description").input_value() == description


def _overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("width", [1280, 1440])
def test_the_cover_frames_never_cover_the_schedule_button(
    live_server, page, app, admin, admin_client, tiktok, width
):
    """Issue 13.1: at 1280 px the sticky cover-frame grid slid over the Schedule button."""

    flow.connect(admin_client)
    video = video_with_frames(app, admin)
    sign_in(page, live_server, admin.email)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(f"{live_server}/compose/?media={video.id}")
    page.locator(".cover-frames img").last.wait_for()
    schedule = page.get_by_role("button", name="Schedule")
    for y in (0, 300, 600, 3000):  # the preview is sticky: look at every scroll position
        page.mouse.wheel(0, y)
        page.wait_for_timeout(150)
        frames = page.locator(".cover-frames").bounding_box()
        assert not _overlap(frames, schedule.bounding_box()), y
        assert not _overlap(frames, page.get_by_role("button", name="Save draft").bounding_box())
