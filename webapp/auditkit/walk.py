"""Drive a browser through the demo guide, finding every element by the label the guide names.
The guide-following browser test and `flask audit-kit record` both use this, so the recording
shows exactly what the test proves works."""

from __future__ import annotations

from collections.abc import Callable

from webapp.auditkit.guide import STEPS, Step

CAPTION = "Made with Cadence #demo"


def _settle(page) -> None:
    page.wait_for_timeout(50)
    page.locator(".htmx-request").first.wait_for(state="detached")


def walk(
    page,
    base_url: str,
    email: str,
    password: str,
    *,
    video: str = "",
    on_step: Callable[[int, Step, object], None] | None = None,
    wait_for_person: Callable[[Step, object], None] | None = None,
    timeout_ms: int = 30_000,
) -> None:
    """Follow STEPS from the sign-in page to the published post.

    on_step(number, step, page) runs after each step (screenshots, progress lines).
    wait_for_person(step, tab), when given, is called at steps a person must do in TikTok's tab
    (signing in, authorizing); without it the step is clicked (the sandbox needs no sign-in).
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    base_url = base_url.rstrip("/")
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    context = page.context
    tab = None
    number, label = 0, ""
    try:
        for number, step in enumerate(STEPS, 1):
            label = step.label
            shown = page
            if step.role in ("link", "button"):
                where = tab if step.label == "Authorize" else page
                scope = (
                    where.get_by_role("complementary", name="Main menu")
                    if step.label == "Accounts"
                    else where
                )
                target = scope.get_by_role(step.role, name=step.label, exact=True).first
                if step.label == "Authorize" and wait_for_person is not None:
                    wait_for_person(step, tab)
                else:
                    expect(target).to_be_visible(timeout=timeout_ms)
                if step.label == "TikTok":
                    with context.expect_page() as opened:
                        target.click()
                    tab = opened.value
                    tab.wait_for_load_state()
                    shown = tab
                elif step.label == "Authorize":
                    if wait_for_person is None:
                        target.click()
                    tab.wait_for_url(
                        f"{base_url}/accounts/tiktok/callback*", timeout=10 * timeout_ms
                    )
                    shown = tab
                    if on_step:
                        on_step(number, step, shown)
                    tab.close()
                    page.locator(".account-card").first.wait_for(timeout=timeout_ms)
                    continue
                elif step.label == "Open on TikTok":
                    with context.expect_page() as opened:
                        target.click()
                    shown = opened.value
                    shown.wait_for_load_state()
                else:
                    target.click()
                    if step.label == "Post now":
                        page.wait_for_url(f"{base_url}/posts/*", timeout=timeout_ms)
                    else:
                        page.wait_for_load_state()
            elif step.role == "option":
                # The privacy options are radios named by their labels (Everyone, Only me...).
                page.get_by_role("radio", name=step.label, exact=True).first.check()
                _settle(page)
            elif step.role in ("checkbox", "switch"):
                box = page.get_by_label(step.label, exact=True).first
                try:
                    box.check()
                except PlaywrightError:
                    # Seen once in a loaded CI run: the box kept its state after the click (a
                    # late answer moved the page under the pointer). Let the page settle and
                    # click again, as a person would; a second miss stops the walk.
                    _settle(page)
                    box.check()
                _settle(page)
            elif step.role == "none":
                field = page.get_by_label(step.label, exact=True).first
                expect(field).to_be_visible(timeout=timeout_ms)
                if step.label == "Video to post":
                    if video:
                        field.select_option(label=video)
                    else:
                        field.select_option(index=1)
                    _settle(page)
                elif step.label == "Caption":
                    field.fill(CAPTION)
                    _settle(page)
            elif step.role == "page":
                expect(page.locator("#post-status")).to_contain_text(
                    "Published", timeout=2 * timeout_ms
                )
            if on_step:
                on_step(number, step, shown)
    except PlaywrightError as exc:
        # Say which step of the guide could not be done: the error alone names only the action.
        raise PlaywrightError(f"step {number} (“{label}”): {exc}") from exc
