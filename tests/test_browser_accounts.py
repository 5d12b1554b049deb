"""Accounts → Add Account → TikTok → authorize in the new tab → the first tab shows the card."""

from __future__ import annotations

import pytest

from tests.test_browser import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(settings, sandbox_server):
    """Point the app at the sandbox in its config too, so the CSP admits its avatars."""
    return {
        **settings,
        "TIKTOK_AUTH_BASE_URL": sandbox_server.url,
        "TIKTOK_API_BASE_URL": sandbox_server.url,
    }


def test_connect_in_a_new_tab_and_the_first_tab_updates(app, live_server, page, admin, tiktok):
    app.config["PUBLIC_URL"] = live_server
    sign_in(page, live_server, admin.email)
    page.get_by_role("complementary", name="Main menu").get_by_role("link", name="Accounts").click()
    assert page.get_by_text("No TikTok accounts connected yet").is_visible()
    page.get_by_role("button", name="Add Account").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    with page.context.expect_page() as new_tab_info:
        dialog.get_by_role("button", name="TikTok").click()
    tab = new_tab_info.value
    tab.wait_for_load_state()
    assert "wants to access your TikTok account" in tab.content()
    tab.get_by_role("button", name="Authorize").click()
    tab.wait_for_url(f"{live_server}/accounts/callback*")
    assert tab.get_by_text("@maya.rivers is connected.").is_visible()
    tab.close()
    # The first tab notices by itself (it polls every 2 s) and reloads onto the new card.
    page.get_by_text("@maya.rivers is connected.").wait_for(timeout=10_000)
    card = page.locator(".account-card")
    assert card.get_by_text("Maya Rivers").is_visible()
    assert card.get_by_text("Connected", exact=True).is_visible()
