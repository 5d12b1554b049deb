"""The public landing, privacy and terms pages TikTok's app review asks for."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token
from webapp.models import AppSettings

PAGES = ["/about", "/privacy", "/terms"]


@pytest.mark.parametrize("path", PAGES)
def test_hidden_until_enabled(client, db, path):
    assert client.get(path).status_code == 404
    assert "Privacy policy" not in client.get("/login").get_data(as_text=True)


def test_enabled_pages_are_public_and_linked_from_sign_in(client, db):
    settings = AppSettings.load()
    settings.public_pages, settings.app_name = True, "Agency Posts"
    settings.support_email = "help@agency.example.com"
    settings.save()
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        assert "help@agency.example.com" in page.get_data(as_text=True)
    assert "Agency Posts is social media management software" in client.get("/about").get_data(
        as_text=True
    )
    login = client.get("/login").get_data(as_text=True)
    for path, label in zip(PAGES, ["About", "Privacy policy", "Terms of service"], strict=True):
        assert f'<a href="{path}">{label}</a>' in login  # visible without opening any menu


def test_operator_texts_are_saved_and_shown_escaped(admin_client, client, db):
    page = admin_client.get("/admin/settings").get_data(as_text=True)
    assert "This policy explains what" in page  # the template to start from
    data = {
        "app_name": "Agency Posts",
        "timezone": "UTC",
        "public_pages": "y",
        "service_description": "We post for <b>shops</b>.\n\nSecond paragraph.",
        "privacy_text": "Our privacy words.",
        "terms_text": "Our terms.",
        "csrf_token": csrf_token(admin_client, "/admin/settings"),
    }
    assert admin_client.post("/admin/settings", data=data).status_code == 303
    admin_client.post("/logout", data={"csrf_token": csrf_token(admin_client, "/")})
    about = client.get("/about").get_data(as_text=True)
    assert "<p>We post for &lt;b&gt;shops&lt;/b&gt;.</p><p>Second paragraph.</p>" in about
    assert "Our privacy words." in client.get("/privacy").get_data(as_text=True)
