"""Drive a browser through the demo guide, finding every element by the label the guide names.
The guide-following browser test and `flask audit-kit record` both use this, so the recording
shows exactly what the test proves works."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from webapp.addresses import CALLBACK_PATH
from webapp.auditkit.guide import Step, steps
from webapp.tiktok.rules import PRIVACY_FIELD_LABEL

DEMO_ACCOUNT = "kenji.private"  # the sandbox's private demo creator
# Tooltips drawn in the page (role="tooltip") that are shown right now, with their text. An
# element hidden by display, visibility or opacity (tooltips fade in) doesn't count.
SHOWN_TOOLTIPS_JS = """() => [...document.querySelectorAll('[role=tooltip]')].filter((el) => {
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return style.display !== 'none' && style.visibility !== 'hidden' &&
    Number(style.opacity) > 0.95 && box.width > 0 && box.height > 0;
}).map((el) => el.textContent.trim())"""


class Show:
    """What a recording adds to the walk (captions, a gliding pointer, pauses); the plain walk
    adds nothing."""

    typing_delay_ms = 0  # type the caption key by key, this many ms apart (0: fill it at once)

    def begin(self, number: int, total: int, step: Step, page) -> None:
        """Start a step on the tab that shows it."""

    def point(self, page, target) -> None:
        """Bring the pointer onto target before acting on it."""

    def switch(self, page) -> None:
        """Show another tab (TikTok's authorization tab, or back to the app)."""

    def hover_shown(self, number: int, step: Step, page) -> None:
        """Keep a tooltip on screen long enough to read; it was just checked to be shown."""

    def pause(self, page) -> None:
        """Leave the result of a step on screen for a moment."""


def shown_tooltips(page) -> list[str]:
    """Return the texts of the in-page tooltips visible right now."""
    return page.locator("body").evaluate(SHOWN_TOOLTIPS_JS)


def wait_for_tooltip(page, text: str, timeout_ms: int) -> None:
    """Wait until a tooltip with exactly text is visible; raise AssertionError if it never is."""
    deadline = time.monotonic() + timeout_ms / 1000
    seen: list[str] = []
    while time.monotonic() < deadline:
        seen = shown_tooltips(page)
        if text in seen:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"tooltip “{text}” not shown (shown: {seen or 'none'})")


def _settle(page) -> None:
    page.wait_for_timeout(50)
    page.locator(".htmx-request").first.wait_for(state="detached")


def _named(label: str) -> re.Pattern:
    # A control's accessible name starts with its label; a tooltip or hint inside the same
    # <label> may follow it.
    return re.compile(rf"^\s*{re.escape(label)}(\s|$)")


def _privacy_option(page, label: str):
    group = page.get_by_role("radiogroup", name=PRIVACY_FIELD_LABEL)
    return group.get_by_role("radio", name=_named(label)).first


def _hover_target(page, label: str):
    control = (
        page.get_by_role("button", name=label, exact=True)
        .or_(_privacy_option(page, label))
        .or_(page.get_by_role("checkbox", name=_named(label)))
        .first
    )
    # The pointer goes onto the tooltip's wrapper (the element it describes): a disabled
    # control takes no pointer events itself.
    return control.locator(
        "xpath=ancestor-or-self::*[@aria-describedby and .//*[@role='tooltip']][1]"
    )


def walk(
    page,
    base_url: str,
    email: str,
    password: str,
    *,
    audited: bool = False,
    video: str = "",
    account: str = DEMO_ACCOUNT,
    on_step: Callable[[int, Step, object], None] | None = None,
    wait_for_person: Callable[[Step, object], None] | None = None,
    show: Show | None = None,
    timeout_ms: int = 30_000,
) -> None:
    """Follow steps(audited) from the sign-in page to the post (or profile) open on TikTok.

    on_step(number, step, page) runs after each step (checks, progress lines).
    wait_for_person(step, tab), when given, is called at steps a person must do in TikTok's tab
    (signing in, authorizing); without it the sandbox's demo `account` is chosen and authorized.
    show adds what a recording needs; every hover step asserts its tooltip text either way.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    show = show or Show()
    guide = steps(audited)
    base_url = base_url.rstrip("/")
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    context = page.context
    tab = None
    number, label = 0, ""
    try:
        for number, step in enumerate(guide, 1):
            label = step.label
            in_tab = step.role == "account" or step.label == "Authorize"
            shown = tab if in_tab else page
            show.begin(number, len(guide), step, shown)
            if step.role in ("link", "button"):
                scope = (
                    shown.get_by_role("complementary", name="Main menu")
                    if step.label == "Accounts"
                    else shown
                )
                target = scope.get_by_role(step.role, name=step.label, exact=True).first
                if in_tab and wait_for_person is not None:
                    wait_for_person(step, tab)
                else:
                    expect(target).to_be_visible(timeout=timeout_ms)
                    show.point(shown, target)
                if step.label == "TikTok":
                    with context.expect_page() as opened:
                        target.click()
                    tab = opened.value
                    tab.wait_for_load_state()
                    show.switch(tab)
                    shown = tab
                elif step.label == "Authorize":
                    if wait_for_person is None:
                        target.click()
                    tab.wait_for_url(
                        re.compile(re.escape(base_url + CALLBACK_PATH)), timeout=10 * timeout_ms
                    )
                    tab.wait_for_load_state()
                    show.pause(tab)
                    if on_step:
                        on_step(number, step, tab)
                    show.switch(page)
                    tab.close()
                    page.locator(".account-card").first.wait_for(timeout=timeout_ms)
                    show.pause(page)
                    continue
                elif step.label == "Open on TikTok":
                    with context.expect_page() as opened:
                        target.click()
                    shown = opened.value
                    shown.wait_for_load_state()
                    show.switch(shown)
                else:
                    target.click()
                    if step.label == "Post now":
                        page.wait_for_url(f"{base_url}/w/*/posts/*", timeout=timeout_ms)
                    else:
                        page.wait_for_load_state()
            elif step.role == "account":
                if wait_for_person is None:
                    choice = tab.get_by_role("radio", name=re.compile(rf"@{re.escape(account)}\b"))
                    show.point(tab, choice)
                    choice.check()
            elif step.role == "radio":
                choice = _privacy_option(page, step.label)
                show.point(page, choice)
                choice.check()
                _settle(page)
            elif step.role in ("checkbox", "uncheck", "switch"):
                kind = "switch" if step.role == "switch" else "checkbox"
                box = page.get_by_role(kind, name=_named(step.label)).first
                show.point(page, box)
                tick = box.uncheck if step.role == "uncheck" else box.check
                try:
                    tick()
                except PlaywrightError:
                    # Seen once in a loaded CI run: the box kept its state after the click (a
                    # late answer moved the page under the pointer). Let the page settle and
                    # click again, as a person would; a second miss stops the walk.
                    _settle(page)
                    tick()
                _settle(page)
            elif step.role == "hover":
                target = _hover_target(page, step.label)
                expect(target).to_be_visible(timeout=timeout_ms)
                show.point(page, target)
                target.hover()
                wait_for_tooltip(page, step.tooltip, timeout_ms)
                show.hover_shown(number, step, page)
                # Still the tooltip after the pause: the recording showed it all along.
                wait_for_tooltip(page, step.tooltip, 1000)
            elif step.role == "field":
                field = page.get_by_label(step.label, exact=True).first
                expect(field).to_be_visible(timeout=timeout_ms)
                show.point(page, field)
                if step.label == "Video to post":
                    if video:
                        field.select_option(label=video)
                    else:
                        field.select_option(index=1)
                elif show.typing_delay_ms:
                    field.press_sequentially(step.value, delay=show.typing_delay_ms)
                else:
                    field.fill(step.value)
                _settle(page)
            elif step.role == "look":
                field = page.get_by_role("radiogroup", name=step.label)
                expect(field).to_be_visible(timeout=timeout_ms)
                show.point(page, field)
            elif step.role == "page":
                status = page.locator("#post-status")
                show.point(page, status)
                expect(status).to_contain_text("Published", timeout=2 * timeout_ms)
            show.pause(shown)
            if on_step:
                on_step(number, step, shown)
    except PlaywrightError as exc:
        # Say which step of the guide could not be done: the error alone names only the action.
        raise PlaywrightError(f"step {number} (“{label}”): {exc}") from exc
    except AssertionError as exc:
        raise AssertionError(f"step {number} (“{label}”): {exc}") from exc
