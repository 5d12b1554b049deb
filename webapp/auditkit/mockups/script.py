"""The walk through the states: connect the sandbox's creators, then bring the app into each
state in order (clicks, ticks, hovers, a real post through the stage's worker) and take its
picture with the callouts that matter."""

from __future__ import annotations

import re
from collections.abc import Callable

from webapp.auditkit.mockups.camera import HEIGHT, SCALE, WIDTH, Director
from webapp.auditkit.mockups.scenes import CREATORS, STATES, MockupError, Shot
from webapp.tiktok.rules import BRANDED_CONTENT, DISCLOSE_LABEL, YOUR_BRAND


def _shoot_all(director: Director, progress: Callable[[str], None]) -> list[Shot]:
    d = director
    page = d.page
    shots: list[Shot] = []
    by_key = {s.key: s for s in STATES}
    video, long_video, photo = "sample-vertical.mp4", "over-the-limit.mp4", "sample-photo.jpg"

    def done(shot: Shot) -> None:
        shots.append(shot)
        progress(f"[{len(shots)}/{len(STATES)}] {shot.state.title}")

    def note(panel):
        return panel.locator("p.note").first if panel.locator("p.note").count() else None

    # 1a: the accounts page after connecting through TikTok's authorization.
    maya_id = d.accounts["maya.rivers"]
    page.goto(f"{d.url}/accounts/")
    card = page.locator(f"#account-{maya_id}")
    card.locator("img.avatar").evaluate(
        "img => img.complete ? 0 : new Promise(r => { img.onload = img.onerror = r; })"
    )
    done(
        d.shoot(
            by_key["connected"],
            [
                (card, "Avatar, nickname and @username, as TikTok returned them"),
                (card.locator(".badge").first, "Status “Connected”"),
                (page.get_by_role("button", name="Add Account"), "Connect another account"),
            ],
        )
    )

    panel = d.compose("maya.rivers", video)
    done(
        d.shoot(
            by_key["untouched"],
            [
                (panel.locator(".panel-head"), "Nickname and avatar from creator_info"),
                (note(panel), "Unaudited: only “Only me” posts until the audit"),
                (d.privacy_group(panel), "Who can view this video: nothing chosen"),
                (panel.locator("fieldset.interactions"), "Interactions: all unchecked"),
                (d.row(panel, DISCLOSE_LABEL), "Disclosure: off"),
                (page.locator("#actions .buttons"), "Publishing disabled until chosen"),
                (page.locator("#actions .reasons"), "What is missing, in words"),
            ],
        )
    )

    panel = d.compose("kenji.private", video)
    options = [d.privacy_option(panel, label) for label in ("Followers", "Friends", "Only me")]
    done(
        d.shoot(
            by_key["privacy"],
            [
                (panel.locator(".panel-head"), "A private account"),
                (note(panel), "Unaudited: all its options shown, only “Only me” accepted"),
                (d.privacy_group(panel), "Exactly its options, none chosen"),
                *[
                    (o, f"“{label}”")
                    for o, label in zip(options, ("Followers", "Friends", "Only me"), strict=True)
                ],
            ],
        )
    )

    done(
        d.shoot(
            by_key["greyed"],
            [
                (d.row(panel, "Allow Comment"), "Allowed by the creator, unchecked"),
                (d.row(panel, "Allow Duet"), "Duets turned off by the creator: greyed"),
                (d.row(panel, "Allow Stitch"), "Stitches turned off by the creator: greyed"),
            ],
        )
    )

    panel = d.compose("maya.rivers", photo, post_type="photo")
    done(
        d.shoot(
            by_key["photo"],
            [
                (panel.locator(".panel-head"), "The account"),
                (panel.locator("fieldset.interactions"), "Only “Allow Comment”"),
                (page.locator("#preview .carousel"), "The photo that will be posted"),
            ],
        )
    )

    panel = d.compose("omar.paused", video)
    done(
        d.shoot(
            by_key["cant_post"],
            [
                (panel.locator(".panel-head"), "The account"),
                (panel.locator("[role=alert]").first, "Can't post now: try again later"),
                (page.locator("#actions .buttons"), "Publishing disabled"),
            ],
        )
    )

    panel = d.compose("lena.quiet", long_video)
    done(
        d.shoot(
            by_key["too_long"],
            [
                (panel.locator(".panel-head"), "lena.quiet: up to 60 s"),
                (page.locator("#preview video"), "The 62 s video"),
                (panel.locator(".panel-errors"), "Refused, with the limit"),
                (page.locator("#actions .buttons"), "Publishing disabled"),
            ],
        )
    )

    panel = d.compose("maya.rivers", video)
    d.tick(panel, "Allow Comment")
    d.tick(panel, DISCLOSE_LABEL)
    done(
        d.shoot(
            by_key["disclose_nothing"],
            [
                (d.row(panel, DISCLOSE_LABEL), "Disclosure turned on"),
                (panel.locator(".disclosure-options"), "Both choices unchecked"),
                ("tooltip", "Hovering “Post now”: TikTok's sentence"),
                (page.locator("#actions .buttons"), "Publishing disabled"),
            ],
            hover=d.post_now(),
        )
    )

    d.choose(panel, "Only me")
    d.tick(panel, YOUR_BRAND)
    done(
        d.shoot(
            by_key["your_brand"],
            [
                (d.row(panel, YOUR_BRAND), "“Your brand” ticked"),
                (panel.locator(".content-label"), "Labeled “Promotional content”"),
                (page.locator("#actions .declaration"), "The default declaration"),
                (page.locator("#actions .buttons"), "Post now"),
            ],
        )
    )

    d.set_audited(True)
    panel = d.compose("maya.rivers", video)
    d.tick(panel, DISCLOSE_LABEL)
    d.tick(panel, BRANDED_CONTENT)
    d.choose(panel, "Everyone")
    only_me = d.privacy_option(panel, "Only me")
    done(
        d.shoot(
            by_key["branded_first"],
            [
                (d.row(panel, BRANDED_CONTENT), "“Branded content” ticked first"),
                (only_me, "“Only me” disabled"),
                ("tooltip", "Its hover text, TikTok's sentence"),
                (panel.locator(".content-label"), "Labeled “Paid partnership”"),
                (page.locator("#actions .declaration"), "The branded declaration"),
            ],
            hover=only_me,
        )
    )

    d.set_audited(False)
    panel = d.compose("maya.rivers", video)
    d.choose(panel, "Only me")
    d.tick(panel, DISCLOSE_LABEL)
    branded = d.row(panel, BRANDED_CONTENT)
    done(
        d.shoot(
            by_key["only_me_first"],
            [
                (d.privacy_option(panel, "Only me"), "“Only me” chosen first"),
                (branded, "“Branded content” disabled, greyed"),
                ("tooltip", "Why, on hover"),
            ],
            hover=branded,
        )
    )

    d.set_audited(True)
    panel = d.compose("maya.rivers", video)
    d.choose(panel, "Everyone")
    d.tick(panel, "Allow Comment")
    d.tick(panel, DISCLOSE_LABEL)
    d.tick(panel, YOUR_BRAND)
    d.tick(panel, BRANDED_CONTENT)
    done(
        d.shoot(
            by_key["both"],
            [
                (panel.locator(".disclosure-options"), "Both ticked"),
                (panel.locator(".content-label"), "Labeled “Paid partnership”"),
                (page.locator("#actions .declaration"), "The branded declaration, both links"),
                (page.locator("#actions .buttons"), "Posting allowed"),
            ],
        )
    )

    panel = d.compose("maya.rivers", video, caption="First look at the spring collection")
    d.choose(panel, "Everyone")
    d.tick(panel, "Allow Comment")
    done(
        d.shoot(
            by_key["preview"],
            [
                (page.locator("#caption"), "The caption, editable"),
                (page.locator("#preview video"), "The exact video, playable"),
                (d.privacy_group(panel), "The visibility the user chose"),
                (page.locator("#actions .declaration"), "The declaration above the button"),
                (page.get_by_role("button", name="Post now"), "Nothing is sent before this click"),
            ],
        )
    )

    page.get_by_role("button", name="Post now").click()
    page.wait_for_url(re.compile(r".*/posts/\d+"))
    done(
        d.shoot(
            by_key["processing_notice"],
            [
                (page.locator(".flash").first, "The processing notice"),
                (page.locator("#post-status"), "The post's status, live"),
            ],
        )
    )

    status = page.locator("#post-status")
    status.get_by_text("Processing on TikTok").wait_for(timeout=60_000)
    done(
        d.shoot(
            by_key["live"],
            [
                (status.locator(".badge").first, "The post's status"),
                (status.locator("p.live").first, "TikTok's phase, with the notice"),
                (status.locator("progress").first, "Progress, updated by itself"),
            ],
        )
    )

    link = status.get_by_role("button", name="Open on TikTok")
    link.wait_for(timeout=60_000)
    done(
        d.shoot(
            by_key["published"],
            [
                (status.locator(".badge").first, "Published, as TikTok reported"),
                (link, "Opens the post on TikTok"),
            ],
        )
    )
    return shots


def shoot(
    stage, progress: Callable[[str], None] = print, chromium: str | None = None
) -> list[Shot]:
    """Drive the stage app through every state in Chromium; return the pictures."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from webapp.auditkit.record import CHROMIUM_FLAGS, chromium_path

    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=chromium or chromium_path(), args=CHROMIUM_FLAGS
            )
            context = browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT},
                device_scale_factor=SCALE,
                bypass_csp=True,
            )
            context.set_default_timeout(30_000)
            page = context.new_page()
            director = Director(page, stage)
            director.sign_in()
            for number, username in enumerate(CREATORS):
                director.connect(username, new_tab=number == 0)
                progress(f"connected @{username} through the sandbox's authorization page")
            director.ids()
            shots = _shoot_all(director, progress)
            browser.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MockupError(f"driving the app stopped: {first}") from None
    return shots
