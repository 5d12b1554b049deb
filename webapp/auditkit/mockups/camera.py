"""Take the mockups' pictures: drive the stage app (stage.py) in Chromium through every state,
measure the callouts' boxes from the DOM while the picture is taken, crop and compress it."""

from __future__ import annotations

import io
import re

from webapp.auditkit.mockups.scenes import Callout, Shot, State
from webapp.tiktok.rules import PRIVACY_FIELD_LABEL

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
