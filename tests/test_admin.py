"""Admin Console: Services, Users and Settings, including every refusal."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login, make_user, post_form
from webapp.models import AppSettings, TikTokService, User

SERVICES_OK = {
    "client_key": "awkey123",
    "client_secret": "s3cret-value-xyz",
    "share_type": "direct_post",
    "upload_method": "FILE_UPLOAD",
    "media_url_prefix": "",
    "auth_base_url": "",
    "api_base_url": "",
}


def test_services_shows_redirect_uri_and_default_endpoints(admin_client):
    page = admin_client.get("/admin/services").get_data(as_text=True)
    assert 'value="https://cadence.example.com/accounts/tiktok/callback" readonly' in page
    assert 'value="https://cadence.example.com/webhooks/tiktok" readonly' in page
    assert "https://open.tiktokapis.com" in page
    assert "Direct Post" in page and "Upload as draft" in page
    assert "Not configured" in page


def test_the_audited_checkbox_is_off_by_default_and_says_when_to_tick_it(admin_client, db):
    page = admin_client.get("/admin/services").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="audited"[^>]*>', page).group(0)
    assert "checked" not in box
    assert re.search(
        r'<label[^>]*>\s*<input[^>]*name="audited"[^>]*> TikTok has audited this app', page
    )
    assert "Tick this only after TikTok approves your Direct Post audit." in page
    assert TikTokService.load().audited is False
    post_form(admin_client, "/admin/services", {**SERVICES_OK, "audited": "y"})
    assert TikTokService.load().audited is True
    post_form(admin_client, "/admin/services", SERVICES_OK)
    assert TikTokService.load().audited is False


def test_client_secret_is_encrypted_at_rest_and_never_shown(admin_client, db):
    response = post_form(admin_client, "/admin/services", SERVICES_OK)
    assert response.status_code == 303
    service = TikTokService.load()
    assert service.client_key == "awkey123"
    assert service.client_secret() == "s3cret-value-xyz"
    raw = db.execute_sql("SELECT client_secret_enc FROM tiktok_service").fetchone()[0]
    assert "s3cret" not in raw
    page = admin_client.get("/admin/services").get_data(as_text=True)
    assert "s3cret-value-xyz" not in page
    assert "A secret is saved" in page
    assert "Configured" in page


def test_empty_secret_keeps_the_saved_one(admin_client, db):
    post_form(admin_client, "/admin/services", SERVICES_OK)
    post_form(
        admin_client, "/admin/services", {**SERVICES_OK, "client_secret": "", "client_key": "k2"}
    )
    service = TikTokService.load()
    assert service.client_key == "k2"
    assert service.client_secret() == "s3cret-value-xyz"


def test_the_secret_can_be_removed(admin_client, db):
    post_form(admin_client, "/admin/services", SERVICES_OK)
    post_form(
        admin_client, "/admin/services", {**SERVICES_OK, "client_secret": "", "clear_secret": "y"}
    )
    assert not TikTokService.load().has_client_secret


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"upload_method": "PULL_FROM_URL"}, "PULL_FROM_URL needs the URL prefix you verified"),
        (
            {"media_url_prefix": "ftp://files.example.com/"},
            "Enter a full address starting with https://.",
        ),
        (
            {"media_url_prefix": "http://media.example.com/"},
            "This address must start with https://.",
        ),
        ({"client_key": "has space"}, "The client key has no spaces"),
        ({"api_base_url": "not a url"}, "Enter a full address starting with https://."),
        ({"share_type": "both"}, "Not a valid choice"),
    ],
)
def test_invalid_services_input_is_explained_and_nothing_is_saved(
    admin_client, db, changes, message
):
    post_form(admin_client, "/admin/services", SERVICES_OK)
    response = post_form(
        admin_client, "/admin/services", {**SERVICES_OK, "client_key": "typed-key", **changes}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "Nothing was saved" in page
    if "client_key" not in changes:
        assert 'value="typed-key"' in page  # what was typed is kept
    assert TikTokService.load().client_key == "awkey123"


def test_media_prefix_gets_a_trailing_slash(admin_client, db):
    post_form(
        admin_client,
        "/admin/services",
        {
            **SERVICES_OK,
            "upload_method": "PULL_FROM_URL",
            "media_url_prefix": "https://m.example.com/c",
        },
    )
    assert TikTokService.load().media_url_prefix == "https://m.example.com/c/"


def test_settings_are_saved_and_shown_in_the_layout(admin_client, db):
    response = post_form(
        admin_client,
        "/admin/settings",
        {
            "app_name": "Studio Posts",
            "website_url": "https://studio.example.com",
            "privacy_url": "https://studio.example.com/privacy",
            "terms_url": "https://studio.example.com/terms",
            "support_email": "Help@Studio.example.com",
            "timezone": "Europe/Berlin",
        },
    )
    assert response.status_code == 303
    row = AppSettings.load()
    assert (row.app_name, row.timezone, row.support_email) == (
        "Studio Posts",
        "Europe/Berlin",
        "help@studio.example.com",
    )
    assert "<title>Settings · Studio Posts</title>" in admin_client.get("/admin/settings").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"app_name": ""}, "Give the app a name."),
        ({"timezone": "Mars/Olympus"}, "Choose a time zone from the list."),
        ({"support_email": "nobody"}, "Enter an email address like name@example.com."),
        ({"privacy_url": "javascript:alert(1)"}, "Enter a full address starting with https://."),
        # SSRF: these forms send a server-side fetch somewhere other than the host they show.
        ({"terms_url": "http://127.0.0.1:18924\\@8.8.8.8/x"}, "a backslash (\\)"),
        ({"privacy_url": "https://me@kept.example.com/"}, "a user name (…@)"),
        ({"app_name": "x" * 81}, "Field cannot be longer than 80 characters."),
    ],
)
def test_invalid_settings_are_explained_and_typed_values_kept(admin_client, db, changes, message):
    data = {
        "app_name": "Kept Name",
        "website_url": "https://kept.example.com",
        "timezone": "UTC",
        **changes,
    }
    response = post_form(admin_client, "/admin/settings", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "https://kept.example.com" in page
    assert AppSettings.load().app_name == "Cadence"


def test_admin_creates_a_member_who_can_sign_in(admin_client, app, db):
    response = post_form(
        admin_client,
        "/admin/users",
        {
            "email": "New@Example.com",
            "name": "New Person",
            "role": "member",
            "password": "long enough pw",
        },
    )
    assert response.status_code == 303
    user = User.by_email("new@example.com")
    assert user.role == "member" and user.check_password("long enough pw")
    assert login(app.test_client(), "new@example.com", "long enough pw").status_code == 303


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "admin@example.com"}, "A user with this email already exists."),
        ({"email": "broken"}, "Enter an email address like name@example.com."),
        ({"password": "short"}, "Use at least 10 characters."),
        ({"role": "owner"}, "Not a valid choice"),
    ],
)
def test_user_creation_refusals(admin_client, db, data, message):
    base = {
        "email": "x@example.com",
        "name": "Typed Name",
        "role": "member",
        "password": "long enough pw",
    }
    response = post_form(admin_client, "/admin/users", {**base, **data})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="Typed Name"' in page
    assert User.select().count() == 1


def test_role_change_and_the_last_admin_rule(admin_client, admin, db):
    other = make_user("second@example.com")
    post_form(
        admin_client, f"/admin/users/{other.id}/role", {"role": "admin"}, token_from="/admin/users"
    )
    assert User.get_by_id(other.id).role == "admin"
    post_form(
        admin_client, f"/admin/users/{other.id}/role", {"role": "member"}, token_from="/admin/users"
    )
    response = post_form(
        admin_client,
        f"/admin/users/{admin.id}/role",
        {"role": "member"},
        token_from="/admin/users",
        follow_redirects=True,
    )
    assert (
        "admin@example.com is the last admin and can&#39;t be made a member."
        in response.get_data(as_text=True)
    )
    assert User.get_by_id(admin.id).role == "admin"


def test_deactivation_asks_first_then_signs_the_user_out(admin_client, app, db):
    victim = make_user("leaving@example.com")
    other = app.test_client()
    assert login(other, victim.email).status_code == 303
    confirm = admin_client.get(f"/admin/users/{victim.id}/deactivate")
    assert "Deactivate leaving@example.com?" in confirm.get_data(as_text=True)
    assert User.get_by_id(victim.id).active
    post_form(admin_client, f"/admin/users/{victim.id}/deactivate")
    assert not User.get_by_id(victim.id).active
    assert other.get("/").status_code == 302
    post_form(admin_client, f"/admin/users/{victim.id}/activate", token_from="/admin/users")
    assert User.get_by_id(victim.id).active


def test_admins_cannot_deactivate_themselves(admin_client, admin, db):
    response = post_form(admin_client, f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "You can&#39;t deactivate yourself." in response.get_data(as_text=True)
    assert User.get_by_id(admin.id).active


def test_unknown_user_is_404(admin_client):
    assert admin_client.get("/admin/users/999/deactivate").status_code == 404
