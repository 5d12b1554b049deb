"""What only a browser shows: the menu, the Admin Console, the phone layout, htmx under CSP."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/w/*/")  # into the person's workspace


def test_admin_signs_in_and_opens_services(live_server, page, admin):
    sign_in(page, live_server, admin.email)
    menu = page.get_by_role("navigation").first
    for label in ["Dashboard", "Posts", "Calendar", "Accounts", "Media"]:
        assert menu.get_by_role("link", name=label, exact=True).is_visible()
    assert (
        page.get_by_role("button", name="Create Post").is_visible()
        or page.get_by_role("link", name="Create Post").is_visible()
    )
    # htmx loaded from static/ despite the strict CSP.
    assert page.evaluate("typeof window.htmx") == "object"
    user_menu = page.locator(".user-menu")
    user_menu.get_by_text("Ada Admin").click()
    user_menu.get_by_role("link", name="Admin Console").click()
    page.wait_for_url(f"{live_server}/admin/services")
    assert page.get_by_role("heading", name="TikTok").is_visible()
    assert (
        page.get_by_label("Redirect URI to register with TikTok")
        .input_value()
        .endswith("/accounts/callback")
    )
    # A bad value is explained beside the field and what was typed stays.
    page.get_by_label("Client key").fill("has a space")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("The client key has no spaces").is_visible()
    assert page.get_by_label("Client key").input_value() == "has a space"


def test_members_see_no_admin_console(live_server, page, member):
    sign_in(page, live_server, member.email)
    page.locator(".user-menu").get_by_text("Max Member").click()
    assert page.get_by_role("link", name="Admin Console").count() == 0
    assert page.get_by_role("button", name="Sign out").is_visible()
    page.goto(f"{live_server}/admin/services")
    assert page.get_by_text("You don't have permission to open this page.").is_visible()


def test_phone_width_collapses_the_menu(live_server, chromium, admin):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server, admin.email)
    posts_link = page.get_by_role("link", name="Posts", exact=True)
    assert not posts_link.is_visible()
    page.get_by_text("Menu", exact=True).click()
    assert posts_link.is_visible()
    posts_link.click()
    page.wait_for_url(f"{live_server}/w/*/posts/")
    # Nothing overflows sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()


def test_media_upload_through_the_page(live_server, page, admin, tmp_path):
    from tests.conftest import ffmpeg_clip

    clip = ffmpeg_clip(tmp_path / "clip.mp4", seconds=2)
    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/media/")
    assert page.get_by_text("No media yet").is_visible()
    page.get_by_label("Upload videos (MP4, MOV, WebM) or photos (JPEG, WebP)").set_input_files(
        str(clip)
    )
    page.get_by_role("button", name="Upload", exact=True).click()
    page.get_by_text("Uploaded clip.mp4.").wait_for(timeout=15_000)
    row = page.locator("tbody tr").first
    assert row.get_by_text("720×1280").is_visible() and row.get_by_text("✓ Meets them").is_visible()


def test_profile_changes_the_password_and_signs_out_everywhere(live_server, page, member):
    sign_in(page, live_server, member.email)
    page.locator(".user-menu").get_by_text("Max Member").click()
    page.locator(".user-menu").get_by_role("link", name="Profile").click()
    page.wait_for_url(f"{live_server}/profile")
    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("New password again").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    assert page.get_by_text("That isn't your current password.").is_visible()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("New password again").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    assert page.get_by_text("Your password is changed.").is_visible()
    page.get_by_role("button", name="Sign out everywhere…").click()
    assert page.get_by_role("heading", name="Sign out everywhere?").is_visible()
    page.get_by_role("button", name="Sign out everywhere").click()
    page.wait_for_url(f"{live_server}/login")
    assert page.get_by_text("You are signed out on every device").is_visible()
