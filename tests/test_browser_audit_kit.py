"""The Audit Kit answers editor in a real browser: wording TikTok may refuse is flagged beside
the text while typing (htmx swaps only the warnings), and saving still works."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.test_browser import sign_in
from webapp.models import AuditKit

pytestmark = pytest.mark.browser


def test_typing_not_acceptable_wording_warns_beside_the_text(live_server, page, admin, tmp_path):
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/admin/audit-kit#answers")
    warnings = page.locator("#answers-warnings")
    expect(warnings).to_contain_text("No wording that TikTok")
    editor = page.locator("textarea#answers")
    editor.evaluate("el => { el.dataset.mark = 'kept'; }")  # gone if the textarea were swapped
    editor.click()
    editor.press("Control+End")
    editor.press_sequentially(" It is an internal tool for the accounts our team manages.")
    expect(warnings).to_contain_text("TikTok may refuse this wording", timeout=5_000)
    expect(warnings).to_contain_text("“accounts our team manages”")
    expect(warnings).to_contain_text("“internal tool”")
    assert editor.get_attribute("data-mark") == "kept"
    assert editor.evaluate("el => el === document.activeElement")
    assert editor.input_value().endswith("the accounts our team manages.")
    warnings.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "answers-warnings.png"))
    # A warning, not a rule: the text is saved as typed and still flagged on the page.
    page.get_by_role("button", name="Save the answers").click()
    expect(page.get_by_text("2 phrases are marked beside the text")).to_be_visible()
    assert AuditKit.load().answers_edited.endswith("the accounts our team manages.")
    expect(page.locator("#answers-warnings")).to_contain_text("“internal tool”")
    # Removing the wording clears the warnings live. The save reloaded the page: wait for htmx to
    # be listening, or the input event of fill() can land before it is and nothing is checked.
    page.wait_for_load_state("load")
    editor = page.locator("textarea#answers")
    editor.fill("Brands and creators schedule and publish their TikTok content in one place.")
    expect(page.locator("#answers-warnings")).to_contain_text("No wording that TikTok")
