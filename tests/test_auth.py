"""Sign-in, sign-out, throttling of failed sign-ins, session cookies."""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, csrf_token, login, make_user, post_form


def test_sign_in_shows_the_menu_and_admin_console_for_admins(client, admin):
    response = login(client, admin.email)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for label in [
        "Create Post",
        "Dashboard",
        "Posts",
        "Calendar",
        "Accounts",
        "Media",
        "Admin Console",
    ]:
        assert f">{label}<" in page


def test_members_do_not_see_admin_console(member_client):
    page = member_client.get("/").get_data(as_text=True)
    assert ">Dashboard<" in page
    assert "Admin Console" not in page


def test_wrong_password_is_refused_with_a_message(client, member):
    response = login(client, member.email, "not the password")
    assert response.status_code == 401
    assert "That email and password don&#39;t match." in response.get_data(as_text=True)
    assert 'value="member@example.com"' in response.get_data(as_text=True)


def test_email_is_case_insensitive(client, member):
    assert login(client, "Member@Example.COM").status_code == 303


def test_failed_sign_ins_are_throttled_per_email_with_a_countdown(client, member, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_EMAIL"] - 1):
        assert login(client, member.email, "wrong").status_code == 401
    locked = login(client, member.email, "wrong")
    assert locked.status_code == 429
    text = locked.get_data(as_text=True)
    seconds = int(re.search(r"Try again in (\d+) seconds", text).group(1))
    assert 0 < seconds <= 30
    # Even the right password waits out the lock: the throttle is checked first.
    still = login(client, member.email, PASSWORD)
    assert still.status_code == 429
    assert "Try again in" in still.get_data(as_text=True)


def test_the_lock_grows_with_further_failures(client, member, app):
    from webapp.auth import throttle

    r = app.extensions["redis"]
    allowance = app.config["LOGIN_MAX_FAILURES_PER_EMAIL"]
    locks = [
        throttle.record_failure(
            r, member.email, "10.0.0.9", max_email=allowance, max_ip=100, window=900
        )
        for _ in range(allowance + 2)
    ]
    assert locks[: allowance - 1] == [0] * (allowance - 1)
    assert locks[allowance - 1 :] == [30, 60, 120]


def test_failed_sign_ins_are_throttled_per_ip_across_emails(client, app, db):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    for i in range(3):
        login(client, f"nobody{i}@example.com", "wrong")
    make_user("fresh@example.com")
    response = login(client, "fresh@example.com")
    assert response.status_code == 429


def test_a_successful_sign_in_clears_the_count(client, member, app):
    allowance = app.config["LOGIN_MAX_FAILURES_PER_EMAIL"]
    for _ in range(allowance - 1):
        login(client, member.email, "wrong")
    assert login(client, member.email).status_code == 303
    post_form(client, "/logout", token_from="/")
    for _ in range(allowance - 1):
        assert login(client, member.email, "wrong").status_code == 401


def test_deactivated_users_cannot_sign_in_and_are_signed_out(client, member, db):
    assert login(client, member.email).status_code == 303
    member.active = False
    member.save()
    assert client.get("/").status_code == 302
    response = login(client, member.email)
    assert response.status_code == 403
    assert "deactivated" in response.get_data(as_text=True)


def test_sign_out_needs_post_and_ends_the_session(member_client):
    assert member_client.get("/logout").status_code == 405
    response = post_form(member_client, "/logout", token_from="/")
    assert response.status_code == 303
    assert member_client.get("/").status_code == 302


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_next_never_leaves_the_site(client, member, target):
    token = csrf_token(client)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": member.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_next_returns_to_the_page_asked_for(client, member):
    first = client.get("/media/")
    assert first.headers["Location"].startswith("/login?next=")
    token = csrf_token(client)
    response = client.post(
        "/login?next=/media/",
        data={"email": member.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/media/"


def test_session_cookie_is_httponly_and_lax(client, member):
    response = login(client, member.email)
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("cadence_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_session_cookie_is_secure_in_production(settings):
    from webapp import create_app

    app = create_app({**settings, "APP_ENV": "production", "TESTING": False})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "HX-Request" in response.headers["Vary"]
