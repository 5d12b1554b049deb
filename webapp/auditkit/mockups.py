"""The UX mockups PDF: one landscape page per state TikTok's reviewers check, each a screenshot of
the real app driven in Chromium against the sandbox (see stage.py), with numbered callouts
boxing what matters (boxes measured from the DOM when the picture is taken), the guideline
point quoted from our spec, what the reviewer should notice, and TikTok's wording as text.
Printed with WeasyPrint (landscape A4) after a cover and a contents page."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import escape

from webapp.tiktok.composer import (
    BRANDED_CONTENT,
    BRANDED_NOT_PRIVATE,
    CANT_POST,
    CANT_POST_SUFFIX,
    DECLARATION_BRANDED,
    DECLARATION_DEFAULT,
    DISCLOSE_LABEL,
    LABEL_PAID,
    LABEL_PROMOTIONAL,
    NEED_DISCLOSURE_CHOICE,
    PRIVACY_FIELD_LABEL,
    PROCESSING_NOTICE,
    UNAUDITED_NOTE,
    YOUR_BRAND,
)

# The guideline points as our spec (shared/spec/direct-post-ux.md) words them.
POINTS = {
    "1a": "Query creator_info when the composer is rendered for an account, and show that "
    "account's creator_nickname (and avatar) so the user sees where the post goes.",
    "1b": "If creator_info answers that the creator can't post now (spam_risk_too_many_posts, "
    "spam_risk_user_banned_from_posting, reached_active_user_cap), publishing is blocked and "
    "the user is told to try again later.",
    "1c": "A video longer than max_video_post_duration_sec is refused before upload, with the "
    "limit shown.",
    "2b": "Privacy: a dropdown whose options are exactly privacy_level_options, shown with human "
    "labels (Everyone / Friends / Followers / Only me), with NO default selection: the user must "
    "pick one. Nothing can be posted until they do.",
    "2c": "Interaction settings “Allow Comment”, “Allow Duet”, “Allow Stitch”: all unchecked by "
    "default; each one the creator disabled (comment_disabled, duet_disabled, stitch_disabled) "
    "is disabled and greyed out. Photo posts show only “Allow Comment”.",
    "3a": "A toggle for the content disclosure setting, OFF by default. Turning it on reveals two "
    "checkboxes, both unchecked: “Your brand” and “Branded content”. Your brand only: “Your "
    "photo/video will be labeled as 'Promotional content'”. Branded content, alone or with Your "
    "brand: “Your photo/video will be labeled as 'Paid partnership'”. Toggle on and nothing "
    "ticked: the publish button is disabled, and hovering it shows “You need to indicate if your "
    "content promotes yourself, a third party, or both.”",
    "3b": "Branded content can't be private. If “Only me” is selected, “Branded content” is "
    "disabled with an explanation; if “Branded content” is ticked first, the “Only me” option "
    "is disabled with the hover text “Branded content visibility cannot be set to private.”",
    "4": "Declaration above the publish button. Default, and with Your brand only: “By posting, "
    "you agree to TikTok's Music Usage Confirmation.” With Branded content (alone or both): “By "
    "posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation.”",
    "5a": "A preview of the exact media that will be posted (video player / image carousel) "
    "beside the form.",
    "5c": "Nothing is sent to TikTok until the user clicks the publish button (Post now / "
    "Schedule) after seeing the declaration.",
    "5d": "After publishing, tell the user it can take a few minutes for the post to be "
    "processed and to appear on their profile.",
    "5e": "Show the post's status as TikTok reports it: uploading with progress, processing, "
    "published (with a link to the post when TikTok gives a public id), failed (with the reason "
    "in plain words and what to do).",
}
POINT_TITLES = {
    "1": "Fresh creator info on the post page",
    "2": "Metadata the user enters",
    "3": "Commercial content disclosure",
    "4": "Declaration above the publish button",
    "5": "The user stays aware and in control",
}
AUDITED_WHY = (
    "Drawn with the app marked as audited: until the audit TikTok accepts only “Only me” posts, "
    "so the unaudited app shows this same page but refuses to post a public (or branded) choice, "
    "giving that reason on the button. Everything else on the page is identical."
)
UNAUDITED_WHY = (
    "Drawn as the reviewer will see it: the app is not audited yet, so the note above the "
    "settings says TikTok accepts only “Only me” posts; every option and interaction still works."
)
POSTED_WHY = (
    "Posted with the app marked as audited, to “Everyone”, so TikTok gives the post a public id. "
    "The unaudited demo posts “Only me” and shows these same pages; its “Open on TikTok” opens "
    "the creator's profile, where a private post is visible to its owner."
)
CANT_POST_TEXT = CANT_POST["spam_risk_too_many_posts"] + CANT_POST_SUFFIX


@dataclass(frozen=True)
class State:
    """One mockup page: what it proves and the TikTok wording it carries."""

    key: str
    title: str
    points: tuple[str, ...]
    notice: str  # what the reviewer should notice
    strings: tuple[str, ...]  # verbatim wording shown on the page (also printed as text)
    audited: bool = False  # drawn with the app marked audited (see AUDITED_WHY)
    why: str = ""  # how the page was drawn, when neither AUDITED_WHY nor UNAUDITED_WHY says it


STATES: list[State] = [
    State(
        "connected",
        "A connected TikTok account",
        ("1a",),
        "The account was connected through TikTok's own authorization page (the sandbox here). "
        "Its card shows the avatar, nickname and @username TikTok returned, and its status.",
        ("Connected",),
        why="Four sandbox creators are connected: a public one, a private one with duets and "
        "stitches off, one limited to 60 s videos and one that can't post now.",
    ),
    State(
        "untouched",
        "The composer, untouched",
        ("1a", "2b", "2c", "3a", "4"),
        "The panel names the account with its TikTok nickname and avatar, read from creator_info "
        "just now. No visibility is chosen, every interaction is unchecked, disclosure is off, "
        "and the publish buttons are disabled with the reasons listed.",
        (
            PRIVACY_FIELD_LABEL,
            "Allow Comment",
            "Allow Duet",
            "Allow Stitch",
            DISCLOSE_LABEL,
            DECLARATION_DEFAULT,
            UNAUDITED_NOTE,
        ),
    ),
    State(
        "privacy",
        "The visibility list: exactly the creator's options",
        ("2b",),
        "This private account's privacy_level_options are Followers, Friends and Only me, so "
        "the list shows exactly those (no “Everyone”), with nothing chosen.",
        (PRIVACY_FIELD_LABEL, "Followers", "Friends", "Only me", UNAUDITED_NOTE),
    ),
    State(
        "greyed",
        "Interactions the creator turned off",
        ("2c",),
        "kenji.private turned duets and stitches off in TikTok (duet_disabled, stitch_disabled): "
        "“Allow Duet” and “Allow Stitch” are disabled and greyed, with the reason beside them.",
        ("Allow Comment", "Allow Duet", "Allow Stitch"),
    ),
    State(
        "photo",
        "A photo post: only “Allow Comment”",
        ("2c",),
        "For a photo post TikTok takes no duet or stitch setting, so only “Allow Comment” is "
        "offered, unchecked. The photos to be posted are previewed beside the form.",
        ("Allow Comment",),
    ),
    State(
        "cant_post",
        "The creator can't post now",
        ("1b",),
        "creator_info answered spam_risk_too_many_posts for omar.paused: the panel says so and "
        "asks to try again later, and nothing can be posted to that account.",
        (CANT_POST_TEXT,),
    ),
    State(
        "too_long",
        "A video over the creator's limit",
        ("1c",),
        "lena.quiet accepts videos up to 60 s (max_video_post_duration_sec); the chosen video "
        "lasts 62 s, so it is refused before any upload, with the limit shown.",
        ("limit of 60 s",),
    ),
    State(
        "disclose_nothing",
        "Disclosure on, nothing ticked",
        ("3a",),
        "Turning the disclosure on reveals “Your brand” and “Branded content”, both unchecked. "
        "The publish buttons are disabled; hovering “Post now” shows TikTok's sentence in a "
        "tooltip drawn in the page (also on keyboard focus).",
        (DISCLOSE_LABEL, YOUR_BRAND, BRANDED_CONTENT, NEED_DISCLOSURE_CHOICE),
    ),
    State(
        "your_brand",
        "Your brand",
        ("3a", "4"),
        "With only “Your brand” ticked, the post is labeled “Promotional content” and the "
        "declaration above “Post now” is the default one.",
        (YOUR_BRAND, LABEL_PROMOTIONAL, DECLARATION_DEFAULT),
    ),
    State(
        "branded_first",
        "Branded content ticked: “Only me” disabled",
        ("3b", "3a", "4"),
        "“Branded content” was ticked first: “Only me” is disabled in the visibility list and "
        "hovering it shows TikTok's sentence. The label becomes “Paid partnership” and the "
        "declaration names the Branded Content Policy.",
        (BRANDED_CONTENT, BRANDED_NOT_PRIVATE, LABEL_PAID, DECLARATION_BRANDED),
        audited=True,
    ),
    State(
        "only_me_first",
        "“Only me” chosen first: Branded content disabled",
        ("3b",),
        "“Only me” was chosen first: “Branded content” is disabled and greyed, and hovering it "
        "says why. “Your brand” stays available.",
        ("Only me", BRANDED_CONTENT, YOUR_BRAND),
    ),
    State(
        "both",
        "Both ticked",
        ("3a", "4"),
        "“Your brand” and “Branded content” together: the label is “Paid partnership” and the "
        "declaration is the branded one, with both policies linked. Posting is allowed.",
        (YOUR_BRAND, BRANDED_CONTENT, LABEL_PAID, DECLARATION_BRANDED),
        audited=True,
    ),
    State(
        "preview",
        "Preview and consent",
        ("5a", "5c", "4"),
        "A player shows exactly the video that will be posted, beside the form. The declaration "
        "sits right above “Post now”; nothing is sent to TikTok before that click.",
        (DECLARATION_DEFAULT, "Post now"),
        audited=True,
        why=POSTED_WHY,
    ),
    State(
        "processing_notice",
        "After “Post now”: the processing notice",
        ("5d",),
        "Right after the click, the post's page says that TikTok may take a few minutes to "
        "process the post and show it on the profile.",
        (PROCESSING_NOTICE,),
        audited=True,
        why=POSTED_WHY,
    ),
    State(
        "live",
        "Live status: processing on TikTok",
        ("5e",),
        "The status updates by itself (no reload) as TikTok reports it: uploading with its "
        "progress, then processing, here with the notice repeated.",
        ("Processing on TikTok", PROCESSING_NOTICE),
        audited=True,
        why=POSTED_WHY,
    ),
    State(
        "published",
        "Published, with “Open on TikTok”",
        ("5e",),
        "TikTok reported the post published and gave its public id: “Open on TikTok” opens the "
        "post itself. (A private “Only me” post, as the unaudited demo sends, opens the "
        "creator's profile instead.)",
        ("Published", "Open on TikTok"),
        audited=True,
        why=POSTED_WHY,
    ),
]


@dataclass
class Callout:
    """A numbered box over the picture, in the picture's pixels."""

    number: int
    label: str
    box: tuple[float, float, float, float]  # x, y, width, height


@dataclass
class Shot:
    """The picture taken for one state, with its callouts."""

    state: State
    jpeg: bytes
    size: tuple[int, int]
    callouts: list[Callout] = field(default_factory=list)


CREATORS = ("maya.rivers", "kenji.private", "lena.quiet", "omar.paused")  # the sandbox's


class MockupError(Exception):
    """The mockups could not be made; the message is one line for the operator."""


# --- driving the app ---------------------------------------------------------------------------

WIDTH, HEIGHT = 1280, 1180  # the page as the picture shows it (CSS pixels)
SCALE = 1.5  # device pixels per CSS pixel: text stays sharp once printed


class Director:
    """Drives the stage app in one Chromium page and takes each state's picture."""

    def __init__(self, page, stage):
        self.page = page
        self.stage = stage
        self.url = stage.url
        self.accounts: dict[str, str] = {}
        self.media: dict[str, str] = {}
        self.audited = False

    # navigation
    def settle(self) -> None:
        """Wait until htmx has no request in flight."""
        self.page.wait_for_timeout(60)
        self.page.locator(".htmx-request").first.wait_for(state="detached")

    def sign_in(self) -> None:
        """Sign in as the stage's demo admin."""
        page = self.page
        page.goto(f"{self.url}/login")
        page.get_by_label("Email").fill(self.stage.email)
        page.get_by_label("Password", exact=True).fill(self.stage.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    def connect(self, username: str, *, new_tab: bool = True) -> None:
        """Connect a sandbox creator through the real OAuth flow.

        As a person does it (new_tab): Add Account → TikTok opens the authorization in a second
        tab, and the first reloads once the tab reports back. Otherwise the same connect link is
        followed in this tab (no wait for the first tab's poll).
        """
        page = self.page
        page.goto(f"{self.url}/accounts/")
        page.get_by_role("button", name="Add Account").click()
        dialog = page.get_by_role("dialog")
        dialog.wait_for()
        button = dialog.get_by_role("button", name="TikTok")
        if new_tab:
            with page.context.expect_page() as opened:
                button.click()
            tab = opened.value
        else:
            tab = page
            tab.goto(self.url + button.get_attribute("href"))
        tab.wait_for_load_state()
        tab.locator(f"input[name=creator][value='{username}']").check()
        tab.get_by_role("button", name="Authorize").click()
        tab.wait_for_url(lambda u: u.startswith(self.url), timeout=30_000)
        tab.wait_for_load_state()
        if new_tab:
            tab.close()
            # The dialog polls until the tab reports back, then reloads with the new card.
            page.locator(".account-card", has_text=f"@{username}").wait_for()
            page.wait_for_load_state()

    def ids(self) -> None:
        """Read the accounts' and media's ids from the composer's own lists."""
        page = self.page
        for post_type in ("video", "photo"):
            page.goto(f"{self.url}/compose/?post_type={post_type}")
            for option in page.locator("select#media option").all():
                value = option.get_attribute("value")
                if value:
                    self.media[option.inner_text().split(" (")[0].strip()] = value
        for box in page.locator("input[name=accounts]").all():
            label = box.locator("xpath=..").inner_text()
            match = re.search(r"@([\w.]+)", label)
            if match:
                self.accounts[match.group(1)] = box.get_attribute("value")

    def set_audited(self, audited: bool) -> None:
        """Tick or untick the audited box in Admin → Services, as an operator would."""
        if audited == self.audited:
            return
        page = self.page
        page.goto(f"{self.url}/admin/services")
        box = page.locator("input[name=audited]")
        box.set_checked(audited)
        with page.expect_navigation():
            box.evaluate("el => el.form.requestSubmit()")
        self.audited = audited

    def compose(self, username: str, media: str, post_type: str = "video", caption: str = ""):
        """Open the composer for one account and one media file; return the account's panel."""
        query = (
            f"accounts={self.accounts[username]}&post_type={post_type}&media={self.media[media]}"
        )
        if caption:
            query += "&caption=" + caption.replace(" ", "+")
        self.page.goto(f"{self.url}/compose/?{query}")
        panel = self.page.locator(f"#panel-{self.accounts[username]}")
        panel.wait_for()
        return panel

    # controls of a panel
    def privacy_group(self, panel):
        """Return the visibility control (a list of radio options, or a select)."""
        group = panel.locator(
            "fieldset", has=self.page.locator("legend", has_text=PRIVACY_FIELD_LABEL)
        )
        if group.count():
            return group.first
        return panel.locator("select[name$=privacy]").first

    def privacy_option(self, panel, label: str):
        """Return the element showing one visibility option (its label row)."""
        group = self.privacy_group(panel)
        row = group.locator("label", has_text=re.compile(rf"^\s*{re.escape(label)}\b"))
        return row.first if row.count() else group

    def choose(self, panel, label: str) -> None:
        """Choose a visibility by its label."""
        select = panel.locator("select[name$=privacy]")
        if select.count():
            select.select_option(label=label)
        else:
            panel.get_by_label(label, exact=True).check()
        self.settle()

    def tick(self, panel, label: str) -> None:
        """Tick a checkbox (or switch) of the panel by its label."""
        panel.get_by_label(label, exact=True).first.check()
        self.settle()

    def row(self, panel, label: str):
        """Return the label row of a checkbox, with its note below when there is one."""
        return panel.locator("label", has_text=label).first

    def post_now(self):
        """Return the wrapper around the Post now button (the button when there is none)."""
        button = self.page.get_by_role("button", name="Post now")
        wrapper = self.page.locator("#actions .buttons > *", has=button)
        return wrapper.first if wrapper.count() else button

    def tip_wrapper(self, element):
        """Return the tooltip wrapper (.has-tip) around element, or element itself."""
        wrapper = element.locator("xpath=ancestor-or-self::*[contains(@class,'has-tip')][1]")
        return wrapper.first if wrapper.count() else element

    def tooltip(self, element):
        """Return the visible tooltip of element's wrapper (None when it shows none)."""
        tip = self.tip_wrapper(element).locator("[role=tooltip]")
        for index in range(tip.count()):
            if tip.nth(index).is_visible():
                return tip.nth(index)
        return None

    # pictures
    def shoot(self, state: State, marks: list, hover=None) -> Shot:
        """Take the page's picture with callouts around marks [(locator, label)].

        A mark whose locator is the string "tooltip" boxes the tooltip of the hovered element.
        """
        from PIL import Image

        page = self.page
        for video in page.locator("video").all():
            # A preview shows a frame, not a black box: seek into the clip and wait for it.
            # Played for a moment (muted), paused and sought to 1 s: a frame shows, and the
            # clip is buffered, so no loading spinner covers it.
            video.evaluate(
                "v => new Promise(done => { setTimeout(done, 5000); v.muted = true;"
                " const settle = () => v.readyState >= 3 ? done()"
                " : v.addEventListener('canplay', () => done(), {once: true});"
                " v.addEventListener('playing', () => { v.pause();"
                " v.addEventListener('seeked', settle, {once: true});"
                " v.currentTime = Math.min(1, (v.duration || 2) / 2); }, {once: true});"
                " v.play().catch(() => done()); })"
            )
        # Scroll as a person would so the marked elements are in view, starting just above the
        # first one; the menu and the preview are sticky, so they stay in the picture.
        first = next(
            (
                loc
                for loc, _ in marks
                if not isinstance(loc, str) and loc is not None and loc.count()
            ),
            None,
        )
        box = first.first.bounding_box() if first is not None else None
        scrolled = page.locator("html").evaluate("el => window.scrollY")
        if box:
            target = max(0, scrolled + box["y"] - 110)
            page.locator("html").evaluate("(el, y) => window.scrollTo(0, y)", target)
            page.wait_for_timeout(80)
        if hover is not None:
            hover = self.tip_wrapper(hover)
            hover.hover()
            page.wait_for_timeout(300)  # the tooltip's fade-in
        callouts = []
        for locator, label in marks:
            if isinstance(locator, str) and locator == "tooltip":
                locator = self.tooltip(hover) if hover is not None else None
            if locator is None or not locator.count():
                continue
            box = locator.first.bounding_box()
            if not box or box["width"] <= 0 or box["height"] <= 0:
                continue
            # Clip to the picture; an element entirely out of view gets no callout.
            x0, y0 = max(box["x"], 0), max(box["y"], 0)
            x1 = min(box["x"] + box["width"], WIDTH)
            y1 = min(box["y"] + box["height"], HEIGHT)
            if x1 - x0 > 2 and y1 - y0 > 2:
                callouts.append(Callout(len(callouts) + 1, label, (x0, y0, x1 - x0, y1 - y0)))
        png = page.screenshot()
        page.mouse.move(0, 0)
        image = Image.open(io.BytesIO(png)).convert("RGB")
        # Short pages end early: keep down to a little below the last callout.
        bottom = max((c.box[1] + c.box[3] for c in callouts), default=HEIGHT)
        keep = min(HEIGHT, max(bottom + 120, 860))
        image = image.crop((0, 0, image.width, int(keep * SCALE)))
        for c in callouts:
            c.box = tuple(v * SCALE for v in c.box)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80, optimize=True, progressive=True)
        return Shot(state, out.getvalue(), image.size, callouts)


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


# --- the PDF ---------------------------------------------------------------------------------

PAGE_CSS = """
@page { size: A4 landscape; margin: 9mm 10mm 10mm 10mm;
        @bottom-right { content: counter(page) " / " counter(pages); font-size: 7.5pt;
                        color: #777; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 8.5pt; color: #1d2430; margin: 0; }
section { page-break-after: always; }
section:last-child { page-break-after: auto; }
.cover { padding-top: 45mm; text-align: center; }
.cover h1 { font-size: 30pt; margin: 0 0 4mm; }
.cover .app { font-size: 16pt; color: #444; }
.cover .meta { margin-top: 14mm; font-size: 10pt; color: #555; line-height: 1.6; }
.contents h1 { font-size: 18pt; margin: 0 0 5mm; }
.contents table { border-collapse: collapse; width: 100%; font-size: 9.5pt; }
.contents td, .contents th { border-bottom: 1px solid #dde; padding: 2.2mm 2mm; text-align: left;
                             vertical-align: top; }
.contents td.pages { white-space: nowrap; font-weight: bold; }
.contents .line { margin-top: 1mm; font-size: 8.5pt; }
.contents .pg { display: inline-block; width: 11mm; color: #fe2c55; font-weight: bold; }
.contents .sub { color: #777; }
.state { position: relative; height: 190mm; }
.state header { height: 11mm; border-bottom: 2px solid #fe2c55; margin-bottom: 3mm; }
.state header h2 { font-size: 14pt; margin: 0; display: inline; }
.state header .pts { float: right; font-size: 10pt; color: #fe2c55; font-weight: bold;
                     padding-top: 1.5mm; }
.shot { position: absolute; left: 0; top: 15mm; border: 1px solid #c8ccd4; }
.shot img { display: block; width: 100%; height: 100%; }
.box { position: absolute; border: 0.6mm solid #fe2c55; border-radius: 1mm; }
.num { position: absolute; width: 5.2mm; height: 5.2mm; border-radius: 2.6mm; background: #fe2c55;
       color: #fff; font-weight: bold; font-size: 8pt; text-align: center; line-height: 5.2mm; }
.side { position: absolute; right: 0; top: 15mm; width: 92mm; font-size: 7.8pt; }
.side h3 { font-size: 8pt; text-transform: uppercase; letter-spacing: .04em; color: #667;
           margin: 0 0 1.5mm; }
.side blockquote { margin: 0 0 2mm; padding: 1.5mm 2.5mm; background: #f4f5f8;
                   border-left: 1mm solid #25f4ee; font-size: 7.4pt; }
.side blockquote b { color: #000; }
.side p { margin: 0 0 3mm; line-height: 1.3; }
.side ol { margin: 0 0 3.5mm; padding: 0; list-style: none; }
.side ol li { margin: 0 0 1.4mm; }
.side ol li .n { display: inline-block; width: 4.4mm; height: 4.4mm; border-radius: 2.2mm;
                 background: #fe2c55; color: #fff; font-weight: bold; font-size: 7pt;
                 text-align: center; line-height: 4.4mm; margin-right: 1.5mm; }
.side ul.words { margin: 0 0 3.5mm; padding-left: 4mm; }
.side ul.words li { margin: 0 0 1mm; font-family: "DejaVu Sans Mono", monospace; font-size: 6.9pt; }
.side.compact { font-size: 7.4pt; }
.side.compact blockquote { font-size: 6.9pt; margin-bottom: 1.5mm; padding: 1.2mm 2.2mm; }
.side.compact p, .side.compact ol, .side.compact ul.words { margin-bottom: 2mm; }
.side.compact ul.words li { font-size: 6.6pt; margin-bottom: .5mm; }
.mode { font-size: 7.5pt; color: #555; border-top: 1px solid #dde; padding-top: 2mm; }
"""
SHOT_MAX_W, SHOT_MAX_H = 176.0, 172.0  # mm


def how_drawn(state: State) -> str:
    """Say how the page was drawn (audited or not, and why)."""
    return state.why or (AUDITED_WHY if state.audited else UNAUDITED_WHY)


def _first_sentence(text: str) -> str:
    """Return text's first sentence, with an ellipsis when there is more."""
    head = re.split(r"(?<=\.)\s", text, maxsplit=1)
    return head[0] + (" …" if len(head) > 1 else "")


def _state_page(number: int, shot: Shot) -> str:
    state = shot.state
    w_px, h_px = shot.size
    scale = min(SHOT_MAX_W / w_px, SHOT_MAX_H / h_px)  # mm per pixel
    width, height = w_px * scale, h_px * scale
    import base64

    data = base64.b64encode(shot.jpeg).decode()
    boxes, placed = [], []
    for c in shot.callouts:
        x, y, w, h = (v * scale for v in c.box)
        pad = 0.8
        boxes.append(
            f'<div class="box" style="left:{x - pad:.1f}mm;top:{y - pad:.1f}mm;'
            f'width:{w + 2 * pad:.1f}mm;height:{h + 2 * pad:.1f}mm"></div>'
        )
        # The number sits outside the box's top-left corner; where another number already is,
        # it moves to the box's right side, then below, kept inside the picture.
        for nx, ny in (
            (x - 6.2, y - 3),
            (x + w + 1, y - 1),
            (x - 6.2, y + h - 4),
            (x + w + 1, y + 4),
        ):
            nx, ny = min(max(nx, 0.3), width - 5.5), min(max(ny, 0.3), height - 5.5)
            if all(abs(nx - px) > 5.6 or abs(ny - py) > 5.6 for px, py in placed):
                break
        placed.append((nx, ny))
        boxes.append(f'<div class="num" style="left:{nx:.1f}mm;top:{ny:.1f}mm">{c.number}</div>')
    # A page proving many points quotes its first one whole and the others' first sentence
    # (each has a page of its own where it is quoted whole).
    compact = len(state.points) > 2
    quotes = "".join(
        f"<blockquote><b>Point {p}.</b> "
        f"{escape(_first_sentence(POINTS[p]) if compact and i else POINTS[p])}</blockquote>"
        for i, p in enumerate(state.points)
    )
    legend = "".join(
        f'<li><span class="n">{c.number}</span>{escape(c.label)}</li>' for c in shot.callouts
    )
    words = "".join(f"<li>{escape(s)}</li>" for s in state.strings)
    return (
        f'<section class="state"><header><h2>{escape(state.title)}</h2>'
        f'<span class="pts">Guideline point {", ".join(state.points)}</span></header>'
        f'<div class="shot" style="width:{width:.1f}mm;height:{height:.1f}mm">'
        f'<img src="data:image/jpeg;base64,{data}" alt="">{"".join(boxes)}</div>'
        f'<div class="side{" compact" if compact else ""}"><h3>The guideline</h3>{quotes}'
        f"<h3>What to notice</h3><p>{escape(state.notice)}</p>"
        f"<h3>Callouts</h3><ol>{legend}</ol>"
        f'<h3>TikTok wording on this page</h3><ul class="words">{words}</ul>'
        f'<p class="mode">{escape(how_drawn(state))}</p></div>'
        f"</section>"
    )


def contents_rows(first_page: int = 3) -> list[tuple[str, str, list[int]]]:
    """Return (point, title, page numbers) for points 1–5, from the states' points."""
    rows = []
    for point, title in POINT_TITLES.items():
        pages = [
            first_page + i
            for i, state in enumerate(STATES)
            if any(p == point or p.rstrip("abcde") == point for p in state.points)
        ]
        rows.append((point, title, pages))
    return rows


def document(shots: list[Shot], *, app_name: str, instance: str = "", when=None) -> str:
    """Return the mockups as one HTML document (cover, contents, a page per state)."""
    when = when or dt.date.today()
    cover = (
        f'<section class="cover"><h1>Direct Post UX mockups</h1>'
        f'<p class="app">{escape(app_name)}</p><p class="meta">'
        + (f"{escape(instance)}<br>" if instance else "")
        + f"{when:%d %B %Y}<br>Pictures of the running app, driven in Chromium against a "
        "TikTok sandbox: nothing here is drawn by hand.</p></section>"
    )
    rows = "".join(
        f"<tr><td><b>Point {p}</b></td><td><b>{escape(title)}</b>"
        + "".join(
            f'<div class="line"><span class="pg">p. {n}</span> {escape(STATES[n - 3].title)}'
            f' <span class="sub">({", ".join(q for q in STATES[n - 3].points if q[0] == p)})'
            "</span></div>"
            for n in pages
        )
        + f'</td><td class="pages">{", ".join(str(n) for n in pages)}</td></tr>'
        for p, title, pages in contents_rows()
    )
    contents = (
        '<section class="contents"><h1>Contents</h1><table><tr><th>Guideline</th><th>What it '
        f"covers, page by page</th><th>Pages</th></tr>{rows}</table></section>"
    )
    pages = "".join(_state_page(i + 3, s) for i, s in enumerate(shots))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(app_name)} — Direct "
        f"Post UX mockups</title><style>{PAGE_CSS}</style></head><body>{cover}{contents}{pages}"
        "</body></html>"
    )


def render(shots: list[Shot], *, app_name: str, instance: str = "") -> bytes:
    """Print the mockups to PDF bytes with WeasyPrint."""
    from weasyprint import HTML

    return HTML(string=document(shots, app_name=app_name, instance=instance)).write_pdf()


def build(
    out: Path,
    *,
    redis_url: str,
    app_name: str,
    instance: str = "",
    progress: Callable[[str], None] = print,
) -> Path:
    """Set up the stage, shoot every state, and write the PDF to out; return its path."""
    from webapp.auditkit.record import RecordError, chromium_path
    from webapp.auditkit.stage import Stage

    try:
        chromium = chromium_path()
    except RecordError as exc:
        raise MockupError(str(exc)) from None
    with Stage(redis_url=redis_url, app_name=app_name, progress=progress) as stage:
        shots = shoot(stage, progress, chromium)
    progress("printing the PDF")
    data = render(shots, app_name=app_name, instance=instance)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_bytes(data)
    partial.replace(out)
    progress(f"wrote {out} ({len(data) / 1e6:.1f} MB, {len(shots) + 2} pages)")
    return out
