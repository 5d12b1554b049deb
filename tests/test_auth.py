"""Sign-in, sign-out, throttling of failed sign-ins, session cookies."""

from __future__ import annotations

import datetime as dt
import logging
import re
from email.utils import parsedate_to_datetime

import pytest

from tests.conftest import PASSWORD, csrf_token, login, make_user, post_form
from webapp.models import User


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


def test_failed_sign_ins_are_throttled_per_email_and_address_with_a_countdown(client, member, app):
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
            r,
            member.email,
            "10.0.0.9",
            max_email=allowance,
            max_ip=100,
            window=900,
            per_minute=100,
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


def test_production_hashes_passwords_with_scrypt_and_only_tests_hash_cheaply(
    member, client, settings
):
    from webapp import create_app

    # The fixtures create users for most tests; scrypt (~0.1 s a hash) would dominate them.
    assert member.password_hash.startswith("pbkdf2:sha256:1$")
    assert login(client, member.email).status_code == 303

    cheap = settings["PASSWORD_HASH_METHOD"]
    production = create_app({**settings, "APP_ENV": "production", "TESTING": False})
    assert production.config["PASSWORD_HASH_METHOD"] == cheap  # asked for, and ignored
    with production.extensions["database"].connection_context():
        user = make_user("prod@example.com")
        assert user.password_hash.startswith("scrypt:")
        assert User.get_by_id(user.id).check_password(PASSWORD)
    # Development and the default config hash with scrypt too; only APP_ENV=test may choose.
    development = {k: v for k, v in settings.items() if k != "PASSWORD_HASH_METHOD"}
    development["APP_ENV"] = "development"
    with create_app(development).extensions["database"].connection_context():
        assert make_user("dev@example.com").password_hash.startswith("scrypt:")


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "HX-Request" in response.headers["Vary"]


# --- Sessions can be revoked (logout, password change, "Sign out everywhere") ---------------------


def _sign_in(client, email: str, password: str = PASSWORD, *, remember: bool = False):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "1"
    return post_form(client, "/login", data)


def _cookies(client) -> dict[str, str]:
    return {
        name: client.get_cookie(name).value
        for name in ("cadence_session", "remember_token")
        if client.get_cookie(name) is not None
    }


def _replayed(app, name: str, value: str):
    """Return a fresh browser that carries only this one cookie."""
    other = app.test_client()
    other.set_cookie(name, value)
    return other


def test_sign_out_ends_the_old_session_and_remember_me_cookies(app, client, member):
    assert _sign_in(client, member.email, remember=True).status_code == 303
    cookies = _cookies(client)
    assert set(cookies) == {"cadence_session", "remember_token"}
    for name, value in cookies.items():
        assert _replayed(app, name, value).get("/").status_code == 200  # they work until...
    post_form(client, "/logout", token_from="/")
    for name, value in cookies.items():
        assert _replayed(app, name, value).get("/").status_code == 302, name  # ...sign-out


def test_remember_me_lasts_30_days_and_differs_between_sign_ins(client, member):
    response = _sign_in(client, member.email, remember=True)
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")
    )
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    days = (expires - dt.datetime.now(dt.UTC)).total_seconds() / 86400
    assert 29.9 < days <= 30
    first = client.get_cookie("remember_token").value
    post_form(client, "/logout", token_from="/")
    _sign_in(client, member.email, remember=True)
    assert client.get_cookie("remember_token").value != first


def _second_device(app, email: str):
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert _sign_in(other, email, remember=True).status_code == 303
    return other


NEW_PASSWORD = "a brand new passphrase"


def test_password_change_ends_the_other_sessions(app, client, member):
    assert _sign_in(client, member.email, remember=True).status_code == 303
    other = _second_device(app, member.email)
    other_remember = other.get_cookie("remember_token").value
    response = post_form(
        client,
        "/profile",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    page = client.get("/profile").get_data(as_text=True)
    assert "Your password is changed. You are signed out on your other devices." in page
    assert client.get("/").status_code == 200  # this browser stays signed in
    assert other.get("/").status_code == 302
    assert _replayed(app, "remember_token", other_remember).get("/").status_code == 302
    fresh = app.test_client()
    assert _sign_in(fresh, member.email).status_code == 401
    assert _sign_in(fresh, member.email, NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"current_password": "not it", "new_password": NEW_PASSWORD},
            "That isn&#39;t your current password.",
        ),
        ({"current_password": "", "new_password": NEW_PASSWORD}, "Enter your current password."),
        ({"current_password": PASSWORD, "new_password": "short"}, "Use at least 10 characters."),
        (
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": "x"},
            "The two new passwords don&#39;t match.",
        ),
    ],
)
def test_password_change_refusals_say_why_and_change_nothing(member_client, member, data, message):
    data = {"confirm_password": data.get("new_password", ""), **data}
    response = post_form(member_client, "/profile", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert User.get_by_id(member.id).check_password(PASSWORD)
    assert member_client.get("/").status_code == 200


def test_password_change_is_throttled_like_sign_in(member_client, member, app):
    data = {"current_password": "guess", "new_password": NEW_PASSWORD}
    data["confirm_password"] = NEW_PASSWORD
    statuses = [
        post_form(member_client, "/profile", data).status_code
        for _ in range(app.config["LOGIN_MAX_FAILURES_PER_EMAIL"])
    ]
    assert statuses[-1] == 429
    right = post_form(member_client, "/profile", {**data, "current_password": PASSWORD})
    assert right.status_code == 429
    assert "Try again in" in right.get_data(as_text=True)
    assert User.get_by_id(member.id).check_password(PASSWORD)


def test_sign_out_everywhere_asks_then_ends_every_session(app, client, member):
    assert _sign_in(client, member.email, remember=True).status_code == 303
    other = _second_device(app, member.email)
    cookies = _cookies(client)
    menu = client.get("/").get_data(as_text=True)
    assert '<a href="/profile"' in menu and ">Profile</a>" in menu
    profile = client.get("/profile").get_data(as_text=True)
    assert "Sign out everywhere" in profile and "Change password" in profile
    confirm = client.get("/profile/sign-out-everywhere")
    assert "Sign out everywhere?" in confirm.get_data(as_text=True)
    assert client.get("/").status_code == 200  # asking changes nothing
    done = post_form(client, "/profile/sign-out-everywhere", token_from="/profile")
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 302
    for name, value in cookies.items():
        assert _replayed(app, name, value).get("/").status_code == 302, name


def test_deactivation_ends_sessions_for_good(app, admin_client, member):
    device = _second_device(app, member.email)
    cookies = _cookies(device)
    post_form(admin_client, f"/admin/users/{member.id}/deactivate")
    post_form(admin_client, f"/admin/users/{member.id}/activate", token_from="/admin/users")
    assert User.get_by_id(member.id).active
    for name, value in cookies.items():
        # Reactivation lets them sign in again; it doesn't revive the old cookies.
        assert _replayed(app, name, value).get("/").status_code == 302, name


# --- Login lockout can't be used as a weapon -----------------------------------------------------


def _from(app, ip: str):
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = ip
    return browser


def test_failing_from_one_address_does_not_lock_the_owner_out(app, member):
    attacker = _from(app, "203.0.113.7")
    statuses = [
        _sign_in(attacker, member.email, "guess").status_code
        for _ in range(app.config["LOGIN_MAX_FAILURES_PER_EMAIL"] + 3)
    ]
    assert statuses[-1] == 429  # the attacker's address is held up...
    assert _sign_in(_from(app, "198.51.100.2"), member.email).status_code == 303  # ...not the owner


def test_spread_out_guessing_is_slowed_to_a_short_wait(app, member):
    app.config["LOGIN_EMAIL_FAILURES_PER_MINUTE"] = 4  # fewer password hashes within the minute
    for i in range(app.config["LOGIN_EMAIL_FAILURES_PER_MINUTE"]):
        _sign_in(_from(app, f"203.0.113.{i + 10}"), member.email, "guess")
    owner = _sign_in(_from(app, "198.51.100.2"), member.email)
    assert owner.status_code == 429
    seconds = int(re.search(r"Try again in (\d+) seconds?", owner.get_data(as_text=True)).group(1))
    assert 0 < seconds <= 60  # a rate, not a 15-minute lock


def test_x_forwarded_for_without_proxy_fix_is_logged_once(client, caplog):
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        client.get("/login", headers={"X-Forwarded-For": "198.51.100.2"})
    warned = [r for r in caplog.records if "X-Forwarded-For" in r.getMessage()]
    assert len(warned) == 1
    assert "PROXY_FIX" in warned[0].getMessage()


def test_no_forwarding_warning_with_proxy_fix(settings, caplog):
    from webapp import create_app

    app = create_app({**settings, "PROXY_FIX": 1})
    caplog.set_level(logging.WARNING)
    app.test_client().get("/login", headers={"X-Forwarded-For": "198.51.100.2"})
    assert not [r for r in caplog.records if "X-Forwarded-For" in r.getMessage()]


def test_a_browser_that_signed_in_before_is_never_kept_out(app, member, admin):
    owner = _from(app, "198.51.100.2")
    assert _sign_in(owner, member.email).status_code == 303
    post_form(owner, "/logout", token_from="/")
    assert owner.get_cookie("cadence_device") is not None
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    app.config["LOGIN_EMAIL_FAILURES_PER_MINUTE"] = 4
    # Spread over many addresses, and from behind the owner's own (shared) address.
    for i in range(app.config["LOGIN_EMAIL_FAILURES_PER_MINUTE"] + 2):
        _sign_in(_from(app, f"203.0.113.{i + 10}"), member.email, "guess")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_EMAIL"] + 1):
        _sign_in(_from(app, "198.51.100.2"), member.email, "guess")
    assert _sign_in(_from(app, "198.51.100.2"), member.email).status_code == 429  # a new browser
    assert _sign_in(owner, member.email).status_code == 303  # the owner's usual one
    # A known-device cookie is for its own email only: the attacker's own account gives none.
    attacker = _from(app, "203.0.113.200")
    assert _sign_in(attacker, admin.email).status_code == 303
    post_form(attacker, "/logout", token_from="/")
    assert _sign_in(attacker, member.email, "guess").status_code == 429
