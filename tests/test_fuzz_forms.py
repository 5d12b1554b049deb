"""Fuzz every form that writes with hypothesis: the composer, the Admin Console, the Audit Kit,
the workspace pages (WORKSPACE_FORMS; the approval decision is in tests/test_fuzz_approval.py).

Whatever is sent (hostile text, odd numbers, missing or repeated fields, other people's ids),
the server never fails (no 5xx, no stack trace, nothing unescaped), a refused submission saves
nothing, and an accepted one saves exactly the valid values it carried. Every example starts
from the same rows, so examples don't depend on each other.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from types import SimpleNamespace

import peewee as pw
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests import accounts_flow as flow
from tests.conftest import PASSWORD, csrf_token, home, login, make_user, post_form
from tests.test_composer import add_video
from tests.test_composer import form as composer_form
from webapp.models import (
    MIN_PASSWORD_LENGTH,
    SHARE_TYPES,
    UPLOAD_METHODS,
    Account,
    AppSettings,
    AuditKit,
    Invitation,
    Media,
    Membership,
    Post,
    PostEvent,
    PostMedia,
    PostTarget,
    TikTokService,
    User,
    Workspace,
    normalize_email,
    utcnow,
)
from webapp.timezones import zone_for
from webapp.validation import email_problem, password_problem, url_problem

# --- Running the examples ----------------------------------------------------------------------


def fuzz(examples: int):
    """Run a property over `examples` submissions (scaled by the pass's profile) sharing fixtures.

    The hypothesis profile (tests/conftest.py) gives the share of `examples` in percent: all of
    them on SQLite, a third on PostgreSQL. The SQLite pass already holds every saved value to
    PostgreSQL's column rules (assert_storable), so the PostgreSQL pass only needs enough
    examples to catch what the engine itself does differently; every explicit @example still
    runs in both.
    """
    share = settings.default.max_examples / 100
    return settings(
        max_examples=max(10, round(examples * share)),
        deadline=None,
        database=None,  # nothing written into the working tree; failures print their example
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# --- What is sent ------------------------------------------------------------------------------

XSS = "<script>alert(1)</script>"
ODD_TEXT = [
    "",
    " ",
    "\t\r\n",
    "\x00",
    "a\x00b",
    "\u202etxt.exe",
    "\ufeffbom",
    "e\u0301",
    "𝕏😀👩‍👩‍👧",
    "ﷺ",
    "null",
    "None",
    "true",
    "[]",
    "{}",
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\win.ini",
    "file:///etc/passwd",
    "%2e%2e%2f",
    XSS,
    '"><img src=x onerror=alert(1)>',
    "{{ 7 * 7 }}",
    "' OR 1=1 --",
    "javascript:alert(1)",
]
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["-0", "0", "1e9", "NaN", "inf", "0x1f", "1_000", "²", "١٢", " 7 ", "9" * 25]),
    st.just("9" * 5000),  # more digits than int() converts
)


def text(min_size: int = 0, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Return any text but NUL (refused before any view runs; ODD_TEXT and huge() send it)."""
    alphabet = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
    return st.text(alphabet, min_size=min_size, max_size=max_size)


def huge(low: int = 9_990, high: int = 10_050) -> st.SearchStrategy[str]:
    """Return long strings (about 10k characters) built cheaply from a repeated piece."""
    pieces = st.sampled_from(["x", "é", "😀", "\x00", "<b>", " ", "\n"])
    return st.builds(lambda piece, n: (piece * n)[:n], pieces, st.integers(low, high))


HOSTILE = st.one_of(st.sampled_from(ODD_TEXT), text(max_size=40), NUMBERS, huge())
# Names no form has; a mass assignment would show up as a changed row.
EXTRA_NAMES = ["id", "author", "owner", "is_admin", "password_hash", "created_at", "active"]
TICKED = st.sampled_from([None, "y", "on"])
CSRF = st.sampled_from(["ok"] * 12 + ["missing", "bogus", "twice"])


@st.composite
def submissions(draw, valid: dict, odd: dict | None = None, breaks: int = 3) -> dict:
    """Draw a valid form, then break up to `breaks` fields: hostile, missing or sent twice."""
    odd = odd or {}
    form = {name: draw(strategy) for name, strategy in valid.items()}
    for name in draw(st.lists(st.sampled_from(sorted(valid)), max_size=breaks, unique=True)):
        bad = odd.get(name, HOSTILE)
        form[name] = draw(
            st.one_of(bad, st.none(), st.lists(st.one_of(valid[name], bad), min_size=2, max_size=3))
        )
    if draw(st.integers(0, 7)) == 0:
        form[draw(st.sampled_from(EXTRA_NAMES))] = draw(HOSTILE)
    return {name: value for name, value in form.items() if value is not None}


def flat(value) -> list[str]:
    """Return a drawn field's values in the order a browser would send them."""
    if value is None:
        return []
    if isinstance(value, list):
        return [v for item in value for v in flat(item)]
    return [value]


def first(form: dict, name: str) -> str | None:
    """Return the value the server reads for name (the first one), or None when missing."""
    values = flat(form.get(name))
    return values[0] if values else None


def ticked(form: dict, name: str) -> bool:
    """Tell whether a WTForms checkbox reads as ticked."""
    return first(form, name) not in (None, "", "false")


def stripped(form: dict, name: str, old: str) -> str:
    """Return what a stripped text field saves: the stripped first value, else the old one."""
    value = first(form, name)
    return old if value is None else value.strip()


def send(client, path: str, form: dict, token: str, csrf: str = "ok", **kw):
    """POST form with a CSRF token that is right, missing, bogus or sent twice; check the reply."""
    tokens = {"ok": [token], "missing": [], "bogus": ["bogus"], "twice": [token, "x"]}
    data = {name: flat(value) for name, value in form.items()} | {"csrf_token": tokens[csrf]}
    reply = client.post(path, data=data, **kw)
    assert_sound(reply)
    return reply


def assert_sound(reply) -> None:
    """Check a reply is no server failure: no 5xx, no stack trace, nothing left unescaped."""
    body = reply.get_data(as_text=True)
    assert reply.status_code < 500, body[:500]
    assert "Traceback" not in body
    assert XSS not in body


def has_nul(*forms: dict) -> bool:
    """Tell whether any value sent carries a NUL character (refused before any view runs)."""
    return any("\x00" in v for form in forms for value in form.values() for v in flat(value))


def assert_refused(reply, csrf: str, message: str | None, *forms: dict) -> None:
    """Check a refusal says why: the CSRF page, the NUL page, or the form with its message."""
    body = reply.get_data(as_text=True)
    if csrf in ("missing", "bogus"):
        assert reply.status_code == 400 and "Your form expired" in body
    elif has_nul(*forms):
        assert reply.status_code == 400 and "contains a NUL character" in body
    else:
        assert message is not None and message in body, (reply.status_code, body[:500])


def rows(*models) -> dict[str, list[dict]]:
    """Return every row of models as plain dicts (what 'nothing changed' compares)."""
    return {m.__name__: list(m.select().order_by(m.id).dicts()) for m in models}


def assert_storable(*models) -> None:
    """Check every stored value also fits PostgreSQL's columns (SQLite checks nothing)."""
    for model in models:
        for row in model.select().dicts():
            for field in model._meta.sorted_fields:
                value, where = row[field.name], f"{model.__name__}.{field.name}"
                if isinstance(value, str):
                    assert "\x00" not in value, where
                    if isinstance(field, pw.CharField):
                        assert len(value) <= field.max_length, where
                elif type(field) is pw.IntegerField and value is not None:
                    assert -(2**31) <= value < 2**31, where


def urls(https: bool = False, empty: bool = True) -> st.SearchStrategy[str]:
    """Return addresses a form could accept: empty, plain, padded, or right at the length limit."""
    plain = ["https://m.example.com/", "https://api.example.com", " https://pad.example.com/x "]
    if not https:
        plain += ["http://127.0.0.1:8000", "http://demo.example.org/"]
    lengths = st.one_of(st.sampled_from([499, 500, 501]), st.integers(480, 520))
    near_limit = lengths.map(lambda n: ("https://m.example.com/" + "a" * n)[:n])
    return st.one_of(st.sampled_from([""] if empty else plain), st.sampled_from(plain), near_limit)


EMAILS = st.one_of(
    st.from_regex(r"[a-z0-9.]{1,20}@[a-z]{1,10}\.[a-z]{2,5}", fullmatch=True),
    st.sampled_from([" New.Person@Example.COM ", "admin@example.com", "ADMIN@example.com"]),
)


# --- Admin Console → Services ------------------------------------------------------------------

SERVICE_BASE = {
    "client_key": "base-key",
    "share_type": "direct_post",
    "upload_method": "FILE_UPLOAD",
    "media_url_prefix": "",
    "auth_base_url": "",
    "api_base_url": "",
    "audited": False,
}
SERVICES = {
    "client_key": st.one_of(
        st.just(""), st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True), st.just(" padded ")
    ),
    "client_secret": st.one_of(
        st.just(""), text(min_size=1, max_size=30), st.sampled_from(["   ", "\t"])
    ),
    "clear_secret": TICKED,
    "share_type": st.sampled_from(sorted(SHARE_TYPES)),
    "upload_method": st.sampled_from(sorted(UPLOAD_METHODS)),
    "media_url_prefix": urls(https=True),
    "audited": TICKED,
    "auth_base_url": urls(),
    "api_base_url": urls(),
}


def _reset_service() -> None:
    TikTokService.load()
    TikTokService.update(**SERVICE_BASE).where(TikTokService.id == 1).execute()
    service = TikTokService.load()
    service.set_client_secret("base-secret")
    service.save()


def _expected_service(form: dict) -> dict:
    prefix = stripped(form, "media_url_prefix", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    secret = first(form, "client_secret") or ""
    if ticked(form, "clear_secret"):
        secret = ""
    elif not secret.strip():
        secret = "base-secret"
    return {
        "client_key": stripped(form, "client_key", "base-key"),
        "share_type": first(form, "share_type") or "direct_post",
        "upload_method": first(form, "upload_method") or "FILE_UPLOAD",
        "media_url_prefix": prefix,
        "auth_base_url": stripped(form, "auth_base_url", ""),
        "api_base_url": stripped(form, "api_base_url", ""),
        "audited": ticked(form, "audited"),
        "secret": secret.strip(),
    }


def test_services_form_saves_all_or_nothing(admin_client, db):
    token = csrf_token(admin_client, "/admin/services")
    outcomes = Counter()

    @fuzz(150)
    @given(form=submissions(SERVICES), csrf=CSRF)
    def example(form, csrf):
        _reset_service()
        before = rows(TikTokService)
        reply = send(admin_client, "/admin/services", form, token, csrf)
        outcomes[reply.status_code] += 1
        if reply.status_code != 303:
            assert reply.status_code == 400
            assert_refused(reply, csrf, "Nothing was saved. Fix the fields marked below.", form)
            assert rows(TikTokService) == before
            return
        service = TikTokService.load()
        saved = {name: getattr(service, name) for name in SERVICE_BASE}
        assert {**saved, "secret": service.client_secret()} == _expected_service(form)
        for name in ("media_url_prefix", "auth_base_url", "api_base_url"):
            assert not saved[name] or url_problem(saved[name]) is None
        assert saved["upload_method"] != "PULL_FROM_URL" or saved["media_url_prefix"]
        assert_storable(TikTokService)
        assert_sound(admin_client.get("/admin/services"))

    example()
    assert outcomes[303] and outcomes[400]


# --- Admin Console → Settings (and the public pages' texts) ------------------------------------

SETTINGS_BASE = {
    "app_name": "Base Name",
    "website_url": "https://base.example.com",
    "privacy_url": "",
    "terms_url": "",
    "support_email": "help@base.example.com",
    "timezone": "UTC",
    "public_pages": False,
    "service_description": "Base about.",
    "privacy_text": "",
    "terms_text": "",
}
TEXTS = st.one_of(text(max_size=200), st.sampled_from(["", XSS, "one\n\ntwo"]), huge())
SETTINGS = {
    "app_name": st.one_of(st.just("Studio Posts"), text(min_size=1, max_size=80)),
    "website_url": urls(),
    "privacy_url": urls(),
    "terms_url": urls(),
    "support_email": st.one_of(st.sampled_from(["", "   ", " Help@Example.COM "]), EMAILS),
    "timezone": st.sampled_from(["UTC", "Europe/Berlin", "America/Los_Angeles", "Etc/GMT+12"]),
    "public_pages": TICKED,
    "service_description": TEXTS,
    "privacy_text": TEXTS,
    "terms_text": TEXTS,
}
SETTINGS_ODD = {"timezone": st.one_of(st.sampled_from(["Mars/Olympus", "../UTC", "utc"]), HOSTILE)}


def test_settings_form_saves_all_or_nothing(admin_client, app, db):
    visitor = app.test_client()
    token = csrf_token(admin_client, "/admin/settings")
    outcomes = Counter()

    @fuzz(150)
    @given(form=submissions(SETTINGS, SETTINGS_ODD), csrf=CSRF)
    def example(form, csrf):
        AppSettings.load()
        AppSettings.update(**SETTINGS_BASE).where(AppSettings.id == 1).execute()
        before = rows(AppSettings)
        reply = send(admin_client, "/admin/settings", form, token, csrf)
        outcomes[reply.status_code] += 1
        if reply.status_code != 303:
            assert reply.status_code == 400
            assert_refused(reply, csrf, "Nothing was saved. Fix the fields marked below.", form)
            assert rows(AppSettings) == before
            return
        row = AppSettings.load()
        expected = {name: first(form, name) or old for name, old in SETTINGS_BASE.items()}
        for name in ("website_url", "privacy_url", "terms_url"):
            expected[name] = stripped(form, name, SETTINGS_BASE[name])
            assert not expected[name] or url_problem(expected[name]) is None
        email = first(form, "support_email")
        expected["support_email"] = (
            SETTINGS_BASE["support_email"] if email is None else normalize_email(email)
        )
        assert not expected["support_email"] or email_problem(expected["support_email"]) is None
        expected["public_pages"] = ticked(form, "public_pages")
        for name in ("service_description", "privacy_text", "terms_text"):
            value = first(form, name)
            expected[name] = SETTINGS_BASE[name] if value is None else value
        assert {name: getattr(row, name) for name in SETTINGS_BASE} == expected
        assert row.app_name.strip() and len(row.app_name) <= 80
        assert_storable(AppSettings)
        assert_sound(admin_client.get("/admin/settings"))
        for path in ("/about", "/privacy", "/terms"):
            page = visitor.get(path)
            assert_sound(page)
            assert page.status_code == (200 if row.public_pages else 404)

    example()
    assert outcomes[303] and outcomes[400]


# --- Admin Console → Users ---------------------------------------------------------------------

USERS = {
    "email": EMAILS,
    "name": st.one_of(st.just(""), text(max_size=120), st.just("  Padded Name  ")),
    "role": st.sampled_from(["member", "admin"]),
    "password": st.one_of(
        st.just("long enough pw"), text(min_size=MIN_PASSWORD_LENGTH, max_size=30)
    ),
}
USERS_ODD = {"role": st.one_of(st.sampled_from(["owner", "Admin", "root"]), HOSTILE)}


def test_user_creation_saves_all_or_nothing(admin_client, admin, db):
    make_user("taken@example.com")
    token = csrf_token(admin_client, "/admin/users")
    baseline = [u.id for u in User.select()]
    outcomes = Counter()

    @fuzz(45)  # every accepted one hashes the password twice
    @given(form=submissions(USERS, USERS_ODD, breaks=2), csrf=CSRF)
    def example(form, csrf):
        User.delete().where(User.id.not_in(baseline)).execute()
        before = rows(User)
        reply = send(admin_client, "/admin/users", form, token, csrf)
        outcomes[reply.status_code] += 1
        if reply.status_code != 303:
            assert reply.status_code == 400
            assert_refused(reply, csrf, 'class="field-error"', form)
            assert rows(User) == before
            return
        assert [r for r in rows(User)["User"] if r["id"] in baseline] == before["User"]
        (new,) = User.select().where(User.id.not_in(baseline))
        assert new.email == normalize_email(first(form, "email"))
        assert email_problem(new.email) is None
        expected = ((first(form, "name") or "").strip(), first(form, "role"), True)
        assert (new.name, new.role, new.active) == expected
        assert new.check_password(first(form, "password"))
        assert_storable(User)

    example()
    assert outcomes[303] and outcomes[400]


ROLE_VALUES = st.one_of(st.sampled_from(["admin", "member"]), HOSTILE)
ODD_USER_IDS = ["0", "-1", "abc", "9" * 25, "1.5", "%00", "..%2f1", "\u0661"]


def test_user_role_and_activation_follow_the_rules(admin_client, admin, db):
    people = {
        "@self": admin,
        "@member": make_user("member@example.com"),
        "@admin2": make_user("second@example.com", "admin"),
        "@inactive": make_user("gone@example.com"),
    }
    token = csrf_token(admin_client, "/admin/users")
    outcomes = Counter()

    @fuzz(150)
    @given(
        action=st.sampled_from(["role", "deactivate", "activate"]),
        target=st.sampled_from([*people, *people, *people, "@nobody", *ODD_USER_IDS]),
        role=st.one_of(st.none(), ROLE_VALUES, st.lists(ROLE_VALUES, min_size=2, max_size=2)),
        second_admin_active=st.booleans(),
        csrf=CSRF,
    )
    def example(action, target, role, second_admin_active, csrf):
        for ref, user in people.items():
            User.update(
                role="admin" if ref in ("@self", "@admin2") else "member",
                active=ref != "@inactive" and (ref != "@admin2" or second_admin_active),
            ).where(User.id == user.id).execute()
        before = rows(User)
        segment = str(people[target].id) if target in people else target
        if target == "@nobody":
            segment = "999999"
        reply = send(admin_client, f"/admin/users/{segment}/{action}", {"role": role}, token, csrf)
        outcomes[reply.status_code] += 1
        # Any decimal digits name an id (werkzeug reads Unicode digits too).
        matched = segment.isdecimal() and int(segment) < 2**63
        user = User.get_or_none(User.id == int(segment)) if matched else None
        if (matched and csrf in ("missing", "bogus")) or has_nul({"role": role}):
            assert_refused(reply, csrf if matched else "ok", None, {"role": role})
            assert rows(User) == before
            return
        if user is None:
            assert reply.status_code == 404 and rows(User) == before
            return
        assert reply.status_code == 303
        acting = user.id == admin.id
        if action == "role":
            wanted = first({"role": role}, "role")
            last_admin = acting and not second_admin_active
            allowed = wanted in ("admin", "member") and not (wanted == "member" and last_admin)
            assert user.role == (wanted if allowed else role_in(before, user.id))
        elif action == "deactivate":
            allowed = not acting  # the other admin is never the last one: the acting admin is
            assert user.active is not allowed
        else:
            allowed = True
            assert user.active is True
        others = [r for r in rows(User)["User"] if r["id"] != user.id]
        assert others == [r for r in before["User"] if r["id"] != user.id]
        if not allowed:
            assert rows(User) == before
            page = admin_client.get("/admin/users").get_data(as_text=True)
            assert 'class="flash flash-error"' in page

    example()
    assert outcomes[303] and outcomes[404]


def role_in(before: dict, user_id: int) -> str:
    """Return a user's role in a snapshot."""
    return next(r["role"] for r in before["User"] if r["id"] == user_id)


# --- Profile → Change password ------------------------------------------------------------------

NEW_PASSWORDS = st.shared(
    st.one_of(st.just("a brand new passphrase"), text(min_size=MIN_PASSWORD_LENGTH, max_size=30)),
    key="new password",
)
PASSWORD_CHANGE = {
    "current_password": st.just(PASSWORD),
    "new_password": NEW_PASSWORDS,
    "confirm_password": NEW_PASSWORDS,  # the same draw: a valid form repeats it
}
PASSWORD_CHANGE_ODD = {"current_password": st.one_of(st.just("not the password"), HOSTILE)}


def test_password_change_changes_only_the_password_or_nothing(member_client, member, app, db):
    token = csrf_token(member_client, "/profile")
    original_hash = member.password_hash
    outcomes = Counter()

    @fuzz(30)  # an accepted one checks and hashes a password
    @given(form=submissions(PASSWORD_CHANGE, PASSWORD_CHANGE_ODD, breaks=2), csrf=CSRF)
    # Found by hypothesis: a token sent twice is accepted (the first one counts), as everywhere.
    @example(
        form={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
        csrf="twice",
    )
    def change_password(form, csrf):
        User.update(password_hash=original_hash).where(User.id == member.id).execute()
        app.extensions["redis"].flushdb()  # wrong current passwords are throttled
        before = rows(User)
        reply = send(member_client, "/profile", form, token, csrf)
        outcomes[reply.status_code] += 1
        new, confirm = first(form, "new_password"), first(form, "confirm_password")
        acceptable = (
            csrf not in ("missing", "bogus")
            and not has_nul(form)
            and first(form, "current_password") == PASSWORD
            and password_problem(new or "", MIN_PASSWORD_LENGTH) is None
            and (confirm or "") == (new or "")
        )
        assert (reply.status_code == 303) is acceptable, (reply.status_code, form)
        if not acceptable:
            assert reply.status_code == 400
            assert_refused(reply, csrf, 'class="field-error"', form)
            assert rows(User) == before
            return
        after = User.get_by_id(member.id)
        assert after.check_password(new)
        changed = {"password_hash", "session_token", "updated_at"}
        kept = [{k: v for k, v in r.items() if k not in changed} for r in rows(User)["User"]]
        assert kept == [{k: v for k, v in r.items() if k not in changed} for r in before["User"]]
        assert member_client.get("/profile").status_code == 200  # this browser stays signed in
        assert_storable(User)

    change_password()
    assert outcomes[303] and outcomes[400]


# --- Admin Console → Audit Kit -----------------------------------------------------------------

AUDIT_BASE = {
    "full_name": "Base Applicant",
    "org_name": "Base Org",
    "org_website": "https://base.example.com",
    "app_id": "7300",
    "org_description": "Base description.",
    "customers": 4,
    "accounts_per_customer": 3,
    "videos_per_account_per_day": 10,
    "instance_public": False,
    "demo_url": "https://demo.example.com",
    "demo_email": "reviewer@example.com",
    "answers_edited": "Base answers.",
}
BASE_DEMO_PASSWORD = "base demo password"
AUDIT = {
    "full_name": st.one_of(st.just("Ada Lovelace"), text(min_size=1, max_size=120)),
    "org_name": st.one_of(st.just("Analytical Agency"), text(min_size=1, max_size=160)),
    "org_website": urls(empty=False),
    "app_id": st.one_of(
        st.from_regex(r"[0-9]{1,20}", fullmatch=True), text(min_size=1, max_size=64)
    ),
    "org_description": st.one_of(
        text(min_size=1, max_size=300), text(min_size=1, max_size=300), huge(3_990, 4_010)
    ),
    "customers": st.integers(1, 1_000_000).map(str),
    "accounts_per_customer": st.integers(1, 10_000).map(str),
    "videos_per_account_per_day": st.integers(1, 15).map(str),
    "instance_public": TICKED,
    "demo_url": urls(empty=False),
    "demo_email": EMAILS,
    "demo_password": st.one_of(
        st.sampled_from(["", "   ", "short"]),
        text(min_size=MIN_PASSWORD_LENGTH, max_size=40),
        huge(195, 205),
    ),
}
# Just outside each range, or anything at all.
AUDIT_ODD = {
    name: st.one_of(st.sampled_from(["0", "-1", str(most + 1), " 7 ", "1_0"]), HOSTILE)
    for name, most in (
        ("customers", 1_000_000),
        ("accounts_per_customer", 10_000),
        ("videos_per_account_per_day", 15),
    )
}


def _reset_audit_kit() -> None:
    AuditKit.load()
    AuditKit.update(**AUDIT_BASE).where(AuditKit.id == 1).execute()
    kit = AuditKit.load()
    kit.set_demo_password(BASE_DEMO_PASSWORD)
    kit.save()


def _expected_kit(form: dict) -> dict:
    expected = {}
    for name, old in AUDIT_BASE.items():
        value = first(form, name)
        expected[name] = old if value is None else value
    for name in ("org_website", "demo_url"):
        expected[name] = stripped(form, name, AUDIT_BASE[name])
    expected["demo_email"] = normalize_email(first(form, "demo_email") or AUDIT_BASE["demo_email"])
    for name in ("customers", "accounts_per_customer", "videos_per_account_per_day"):
        expected[name] = int(first(form, name))
    expected["instance_public"] = ticked(form, "instance_public")
    expected["answers_edited"] = AUDIT_BASE["answers_edited"]
    password = first(form, "demo_password") or ""
    expected["password"] = password if password.strip() else BASE_DEMO_PASSWORD
    return expected


def test_audit_kit_inputs_save_all_or_nothing(admin_client, db):
    token = csrf_token(admin_client, "/admin/audit-kit")
    outcomes = Counter()

    @fuzz(120)
    @given(form=submissions(AUDIT, AUDIT_ODD), csrf=CSRF)
    def example(form, csrf):
        _reset_audit_kit()
        before = rows(AuditKit)
        reply = send(admin_client, "/admin/audit-kit", form, token, csrf)
        outcomes[reply.status_code] += 1
        if reply.status_code != 303:
            assert reply.status_code == 400
            assert_refused(reply, csrf, "Nothing was saved. Fix the fields marked below.", form)
            assert rows(AuditKit) == before
            return
        kit = AuditKit.load()
        saved = {name: getattr(kit, name) for name in AUDIT_BASE}
        assert {**saved, "password": kit.demo_password()} == _expected_kit(form)
        assert 1 <= kit.customers <= 1_000_000 and 1 <= kit.accounts_per_customer <= 10_000
        assert 1 <= kit.videos_per_account_per_day <= 15
        assert url_problem(kit.org_website) is None and url_problem(kit.demo_url) is None
        assert email_problem(kit.demo_email) is None
        assert MIN_PASSWORD_LENGTH <= len(kit.demo_password()) <= 200
        for name in ("full_name", "org_name", "app_id", "org_description"):
            assert saved[name].strip(), name
        assert_storable(AuditKit)
        assert_sound(admin_client.get("/admin/audit-kit"))

    example()
    assert outcomes[303] and outcomes[400]


ANSWERS = {
    "answers": st.one_of(
        text(max_size=200),
        st.sampled_from(["", "  \n ", XSS, "# Heading\n\n- item"]),
        huge(),
        huge(49_990, 50_010),
    ),
    "reset": st.sampled_from([None, None, None, "1", "", "0"]),
}


def test_audit_kit_answers_save_all_or_nothing(admin_client, db):
    token = csrf_token(admin_client, "/admin/audit-kit")
    outcomes = Counter()

    @fuzz(80)
    @given(form=submissions(ANSWERS, breaks=1), csrf=CSRF)
    def example(form, csrf):
        _reset_audit_kit()
        before = rows(AuditKit)
        reply = send(admin_client, "/admin/audit-kit/answers", form, token, csrf)
        if csrf in ("missing", "bogus") or has_nul(form):
            assert_refused(reply, csrf, None, form)
            assert rows(AuditKit) == before
            return
        if reply.status_code == 400:  # too long: shown again as typed, beside the message
            outcomes["refused"] += 1
            assert 'id="answers-msg" class="field-error"' in reply.get_data(as_text=True)
            assert rows(AuditKit) == before
            return
        assert reply.status_code == 303
        page = admin_client.get("/admin/audit-kit")
        assert_sound(page)
        saved = AuditKit.load().answers_edited
        typed = (first(form, "answers") or "").strip()
        if first(form, "reset"):
            outcomes["reset"] += 1
            assert saved == ""
        elif rows(AuditKit) == before:
            outcomes["refused"] += 1
            assert 'class="flash flash-error"' in page.get_data(as_text=True)
        else:
            outcomes["saved"] += 1
            assert saved == typed
            assert_storable(AuditKit)

    example()
    assert outcomes["saved"] and outcomes["refused"] and outcomes["reset"]


def test_queue_ping_ids_are_looked_up_safely(admin_client, db):
    @fuzz(40)
    @given(job_id=st.one_of(HOSTILE, HOSTILE.map(lambda s: "health-ping-" + s)))
    def example(job_id):
        for reply in (
            admin_client.get("/admin/queue", query_string={"ping": job_id}),
            admin_client.get(f"/admin/queue/ping/{job_id}"),
        ):
            assert_sound(reply)
            assert reply.status_code in (200, 308, 400, 404)  # 308: werkzeug merges "//"

    example()


ADMIN_POSTS = [
    "/admin/services",
    "/admin/settings",
    "/admin/users",
    "/admin/users/1/role",
    "/admin/users/1/deactivate",
    "/admin/users/1/activate",
    "/admin/audit-kit",
    "/admin/audit-kit/answers",
]
ANY_FIELD = st.sampled_from(
    sorted({*SERVICES, *SETTINGS, *USERS, *AUDIT, *ANSWERS, *EXTRA_NAMES, "role"})
)


def test_members_change_nothing_in_the_admin_console(member_client, db):
    token = csrf_token(member_client, "/")
    for singleton in (AppSettings, TikTokService, AuditKit):
        singleton.load()

    @fuzz(40)
    @given(path=st.sampled_from(ADMIN_POSTS), form=st.dictionaries(ANY_FIELD, HOSTILE, max_size=6))
    def example(path, form):
        before = rows(User, AppSettings, TikTokService, AuditKit)
        reply = send(member_client, path, form, token)
        assert reply.status_code == (400 if has_nul(form) else 403)
        assert rows(User, AppSettings, TikTokService, AuditKit) == before

    example()


# --- Create Post (the composer) ----------------------------------------------------------------

POST_MODELS = (Post, PostTarget, PostMedia, PostEvent)
OPTIONS = (
    "allow_comment",
    "allow_duet",
    "allow_stitch",
    "disclose",
    "your_brand",
    "branded_content",
    "is_aigc",
)
TICKED_OPTION = {"on", "1", "true", "y"}
PRIVACY = st.sampled_from(
    ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
)
PRIVACY_LIKE = re.compile(r"[A-Z_]{1,32}")
CAPTIONS = st.one_of(
    text(max_size=60),
    st.sampled_from(["Hello #cadence", "", XSS]),
    huge(2_195, 2_205),
    huge(),
)


def _refs(names: list[str]) -> st.SearchStrategy[list]:
    return st.lists(st.one_of(st.sampled_from(names), NUMBERS, HOSTILE), min_size=1, max_size=4)


COMPOSER = {
    "accounts": st.sampled_from([["@maya"], ["@maya"], ["@maya", "@stale"], ["@stale"]]),
    "post_type": st.sampled_from(["video", "video", "photo"]),
    "media": st.sampled_from([["@video"], ["@video"], ["@photo"], ["@photo", "@photo2"]]),
    "caption": CAPTIONS,
    "description": st.one_of(st.none(), CAPTIONS),
    "cover_timestamp_ms": st.one_of(st.none(), st.integers(0, 30_000).map(str)),
    "schedule_at": st.one_of(st.none(), st.integers(2, 364 * 24 * 60).map(lambda m: f"@in:{m}")),
    "action": st.sampled_from(["post_now", "schedule", "save_draft"]),
    "post_id": st.sampled_from(
        [None, None, None, None, "@own_draft", "@own_scheduled", "@foreign", "@published"]
    ),
    "@maya-privacy": PRIVACY,
    **{f"@maya-{name}": st.sampled_from([None, None, "on"]) for name in OPTIONS},
    "@stale-privacy": st.one_of(st.none(), PRIVACY),
}
COMPOSER_ODD = {
    "accounts": _refs(["@maya", "@stale", "@gone", "@theirs", "@nobody"]),
    "media": _refs(["@video", "@photo", "@theirs_video", "@deleted", "@nobody"]),
    "cover_timestamp_ms": st.one_of(NUMBERS, HOSTILE),
    "schedule_at": st.one_of(
        st.sampled_from(
            [
                "9999-12-31T23:59",
                "0001-01-01T00:00",
                "2020-01-01T10:00",
                "2030-02-30T10:00",
                "2030-01-01T10:00+14:00",
                "2030-01-01",
                " 2030-01-01T10:00 ",
                "tomorrow",
                "@in:0",
                "@in:-60",
                f"@in:{366 * 24 * 60}",
            ]
        ),
        HOSTILE,
    ),
    "post_id": st.one_of(st.sampled_from(["@foreign", "@published", "@nobody"]), NUMBERS, HOSTILE),
}
# East and west of UTC, so times at the calendar's edges overflow one way or the other.
ZONES = st.sampled_from(
    [None, "UTC", "Pacific/Kiritimati", "Asia/Tokyo", "America/Los_Angeles", "Etc/GMT+12"]
)
SERVICE_MODES = st.sampled_from([("direct_post", True), ("direct_post", False), ("inbox", True)])


def add_photo(owner, n: int = 0) -> Media:
    """Add a ready JPEG to owner's media."""
    return Media.create(
        workspace=home(owner),
        owner=owner,
        kind="photo",
        original_name=f"p{n}.jpg",
        stored_name=f"{owner.id}/p{n}-{Media.select().count()}.jpg",
        content_type="image/jpeg",
        width=1080,
        height=1350,
    )


@pytest.fixture
def world(admin_client, admin, tiktok, db):
    """Give the composer everything a form can name: the admin's and a stranger's things."""
    flow.connect(admin_client)
    stranger = make_user("stranger@example.com")
    deleted = add_video(admin)
    deleted.status = "deleted"
    deleted.save()
    ids = {
        "@maya": Account.get(Account.open_id == "sbx-open-maya").id,
        "@stale": Account.create(
            workspace=home(admin),
            owner=admin,
            open_id="sbx-stale",
            display_name="Stale",
            status="reconnect_needed",
        ).id,
        "@gone": Account.create(
            workspace=home(admin),
            owner=admin,
            open_id="sbx-gone",
            display_name="Gone",
            status="disconnected",
        ).id,
        "@theirs": Account.create(
            workspace=home(stranger), owner=stranger, open_id="sbx-theirs", display_name="Theirs"
        ).id,
        "@video": add_video(admin).id,
        "@photo": add_photo(admin, 1).id,
        "@photo2": add_photo(admin, 2).id,
        "@theirs_video": add_video(stranger).id,
        "@deleted": deleted.id,
        "@nobody": 999_999,
    }
    return SimpleNamespace(
        admin=admin, stranger=stranger, ids=ids, token=csrf_token(admin_client, "/compose/")
    )


def _reset_composer(world, zone: str | None, service: tuple[str, bool]) -> None:
    """Start an example from the same posts: two editable ones, one published, one foreign."""
    for model in reversed(POST_MODELS):
        model.delete().execute()
    admin, maya = world.admin, world.ids["@maya"]
    draft = Post.create(workspace=home(admin), author=admin, caption="Own draft", status="draft")
    PostTarget.create(post=draft, account=maya, status="draft")
    scheduled = Post.create(
        workspace=home(admin),
        author=admin,
        caption="Own scheduled",
        status="scheduled",
        scheduled_at=utcnow() + dt.timedelta(days=1),
        consent_at=utcnow(),
    )
    PostTarget.create(post=scheduled, account=maya, status="scheduled", privacy_level="SELF_ONLY")
    published = Post.create(
        workspace=home(admin), author=admin, caption="Published", status="published"
    )
    foreign = Post.create(
        workspace=home(world.stranger), author=world.stranger, caption="Theirs", status="draft"
    )
    world.ids |= {
        "@own_draft": draft.id,
        "@own_scheduled": scheduled.id,
        "@published": published.id,
        "@foreign": foreign.id,
    }
    User.update(timezone=zone).where(User.id == admin.id).execute()
    share_type, audited = service
    TikTokService.update(share_type=share_type, audited=audited).where(
        TikTokService.id == 1
    ).execute()


def _resolve(world, form: dict) -> dict[str, list[str]]:
    """Turn a drawn form's references (@maya, @in:90, ...) into what a browser would send."""
    zone = zone_for(User.get_by_id(world.admin.id), "UTC")
    now = utcnow().replace(tzinfo=dt.UTC).astimezone(zone)

    def value(v: str) -> str:
        if v in world.ids:
            return str(world.ids[v])
        if v.startswith("@in:") and v[4:].lstrip("-").isdigit():
            return (now + dt.timedelta(minutes=int(v[4:]))).strftime("%Y-%m-%dT%H:%M")
        return v

    sent = {}
    for name, drawn in form.items():
        if name.startswith("@") and "-" in name:
            ref, option = name.split("-", 1)
            name = f"a{world.ids[ref]}-{option}"
        sent[name] = [value(v) for v in flat(drawn)]
    return sent


def as_int(value: str | None, bits: int = 64) -> int | None:
    """Read a number field as the composer does: malformed or out of range means none."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    limit = 2 ** (bits - 1)
    return number if number is not None and -limit <= number < limit else None


def as_ids(values: list[str]) -> list[int]:
    """Read a list of ids as the composer does: plain decimal numbers, first of each kept."""
    out = []
    for v in values:
        if v.isascii() and v.isdigit() and len(v) <= 19 and int(v) < 2**63 and int(v) not in out:
            out.append(int(v))
    return out


def _check_saved_post(client, world, sent: dict, before: dict, location: str) -> None:
    """Check the accepted submission saved the post it describes, and nothing else changed."""
    known = {r["id"] for r in before["Post"]}
    edited = as_int(first(sent, "post_id"))
    if edited is not None:
        assert edited in (world.ids["@own_draft"], world.ids["@own_scheduled"])
        post = Post.get_by_id(edited)
        assert {p.id for p in Post.select()} == known
    else:
        (post,) = Post.select().where(Post.id.not_in(known))
    after = rows(*POST_MODELS)
    for name, key in (
        ("Post", "id"),
        ("PostTarget", "post"),
        ("PostMedia", "post"),
        ("PostEvent", "post"),
    ):
        others = [r for r in after[name] if r[key] != post.id]
        assert others == [r for r in before[name] if r[key] != post.id], name
    photo = first(sent, "post_type") == "photo"
    action = first(sent, "action")
    draft = action not in ("post_now", "schedule")
    assert post.author_id == world.admin.id
    assert (post.post_type, post.caption, post.description) == (
        "photo" if photo else "video",
        first(sent, "caption") or "",
        (first(sent, "description") or "") if photo else "",
    )
    assert post.cover_timestamp_ms == as_int(first(sent, "cover_timestamp_ms"), 32)
    assert post.status == ("draft" if draft else "scheduled")
    assert (post.consent_at is None) is draft
    if action == "schedule":
        assert utcnow() < post.scheduled_at <= utcnow() + dt.timedelta(days=366)
    accounts = as_ids(sent.get("accounts", []))
    assert set(accounts) <= {world.ids["@maya"], world.ids["@stale"]}
    targets = {t.account_id: t for t in post.targets}
    assert sorted(targets) == sorted(accounts)
    for account_id, target in targets.items():
        prefix = f"a{account_id}-"
        privacy = first(sent, prefix + "privacy")
        on = {name: first(sent, prefix + name) in TICKED_OPTION for name in OPTIONS}
        assert target.privacy_level == (
            privacy if privacy and PRIVACY_LIKE.fullmatch(privacy) else None
        )
        assert (
            target.allow_comment,
            target.allow_duet,
            target.allow_stitch,
            target.disclose,
            target.brand_organic,
            target.brand_content,
            target.is_aigc,
            target.status,
        ) == (
            on["allow_comment"],
            on["allow_duet"],
            on["allow_stitch"],
            on["disclose"],
            on["disclose"] and on["your_brand"],
            on["disclose"] and on["branded_content"],
            on["is_aigc"],
            post.status,
        )
    media = [link.media_id for link in post.media_links.order_by(PostMedia.position)]
    assert media == as_ids(sent.get("media", []))
    assert set(media) <= {world.ids[r] for r in ("@video", "@photo", "@photo2")}
    consents = PostEvent.select().where((PostEvent.post == post.id) & (PostEvent.kind == "consent"))
    assert consents.count() == (0 if draft else len(targets))
    assert_storable(*POST_MODELS)
    assert_sound(client.get(location))


def test_composer_submission_saves_all_or_nothing(admin_client, world, db):
    outcomes = Counter()

    @fuzz(250)
    @given(
        form=submissions(COMPOSER, COMPOSER_ODD, breaks=4),
        zone=ZONES,
        service=SERVICE_MODES,
        csrf=CSRF,
    )
    def example(form, zone, service, csrf):
        _reset_composer(world, zone, service)
        sent = _resolve(world, form)
        before = rows(*POST_MODELS)
        reply = send(admin_client, "/compose/", sent, world.token, csrf)
        outcomes[reply.status_code] += 1
        if reply.status_code == 303:
            _check_saved_post(admin_client, world, sent, before, reply.headers["Location"])
            return
        assert reply.status_code in (400, 404, 422)
        if reply.status_code == 400:
            assert_refused(reply, csrf, None, sent)
        elif reply.status_code == 404:
            assert first(sent, "post_id") is not None
        else:
            assert "Nothing was posted or saved" in reply.get_data(as_text=True)
        assert rows(*POST_MODELS) == before

    example()
    assert outcomes[303] and outcomes[422] and outcomes[404]


def test_composer_checks_and_links_never_save(admin_client, world, db):
    @fuzz(100)
    @given(
        form=submissions(COMPOSER, COMPOSER_ODD, breaks=4),
        zone=ZONES,
        service=SERVICE_MODES,
        panel=st.one_of(st.none(), st.sampled_from(["@maya", "@stale"]), NUMBERS, HOSTILE),
        full=st.sampled_from([None, None, "1", ""]),
        htmx=st.booleans(),
        csrf=CSRF,
    )
    def example(form, zone, service, panel, full, htmx, csrf):
        _reset_composer(world, zone, service)
        sent = _resolve(world, form)
        query = {"panel": _resolve(world, {"panel": panel}).get("panel"), "full": full}
        before = rows(*POST_MODELS)
        reply = send(
            admin_client,
            "/compose/check",
            sent,
            world.token,
            csrf,
            query_string={k: v for k, v in query.items() if v is not None},
            headers={"HX-Request": "true"} if htmx else {},
        )
        if csrf in ("missing", "bogus") or has_nul(sent, query):
            assert_refused(reply, csrf, None, sent, query)
        else:
            assert reply.status_code == 200
        # The same values in a link (the composer reads its query string too).
        assert_sound(admin_client.get("/compose/", query_string=sent))
        assert rows(*POST_MODELS) == before

    example()


# --- What the fuzzing found: plain regression tests ---------------------------------------------

SERVICE_FORM = {"client_key": "k", "share_type": "direct_post", "upload_method": "FILE_UPLOAD"}


@pytest.mark.parametrize("secret", [None, "   "], ids=["field missing", "only spaces"])
def test_services_without_a_typed_secret_keep_the_saved_one(admin_client, db, secret):
    _reset_service()
    data = SERVICE_FORM if secret is None else {**SERVICE_FORM, "client_secret": secret}
    assert post_form(admin_client, "/admin/services", data).status_code == 303
    assert TikTokService.load().client_secret() == "base-secret"


def test_fields_of_only_spaces_are_saved_empty(admin_client, db):
    _reset_service()
    post_form(admin_client, "/admin/services", {**SERVICE_FORM, "client_key": "   "})
    assert TikTokService.load().client_key == ""
    data = {"app_name": "Name", "timezone": "UTC", "support_email": "   "}
    assert post_form(admin_client, "/admin/settings", data).status_code == 303
    assert AppSettings.load().support_email == ""


def test_a_media_prefix_at_the_limit_is_refused_not_saved_one_over(admin_client, db):
    _reset_service()
    prefix = ("https://m.example.com/" + "a" * 500)[:500]
    reply = post_form(admin_client, "/admin/services", {**SERVICE_FORM, "media_url_prefix": prefix})
    assert reply.status_code == 400
    assert "This address is too long (500 characters at most)." in reply.get_data(as_text=True)
    assert TikTokService.load().media_url_prefix == ""


AUDIT_FORM = {
    "full_name": "Ada Lovelace",
    "org_name": "Analytical Agency",
    "org_website": "https://agency.example.com",
    "app_id": "7300",
    "org_description": "We post for shops.",
    "customers": "4",
    "accounts_per_customer": "3",
    "videos_per_account_per_day": "10",
    "demo_url": "https://demo.example.com",
    "demo_email": "reviewer@example.com",
}


@pytest.mark.parametrize("password", [None, "   "], ids=["field missing", "only spaces"])
def test_audit_kit_without_a_typed_password_keeps_the_saved_one(admin_client, db, password):
    _reset_audit_kit()
    data = AUDIT_FORM if password is None else {**AUDIT_FORM, "demo_password": password}
    assert post_form(admin_client, "/admin/audit-kit", data).status_code == 303
    assert AuditKit.load().demo_password() == BASE_DEMO_PASSWORD


def test_answers_over_the_limit_are_refused_beside_the_field_and_kept(admin_client, db):
    _reset_audit_kit()
    typed = "y" * 50_001
    reply = post_form(
        admin_client, "/admin/audit-kit/answers", {"answers": typed}, token_from="/admin/audit-kit"
    )
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert (
        '<small id="answers-msg" class="field-error">The answers are 1 character over the limit'
        in page
    )
    assert f">{typed}</textarea>" in page
    assert AuditKit.load().answers_edited == "Base answers."


ODD_PING_IDS = ["health-ping-x.y", "health-ping-1 2", "health-ping-\u0661"]
TOO_LARGE = "99999999999999999999"  # past the largest 64-bit id
TOO_LARGE_IDS = [
    ("post", f"/admin/users/{TOO_LARGE}/role"),
    ("get", f"/admin/users/{TOO_LARGE}/deactivate"),
    ("get", f"/compose/{TOO_LARGE}/edit"),
    ("get", f"/posts/{TOO_LARGE}"),
]


def test_odd_ping_ids_and_ids_too_large_are_not_found(admin_client, db):
    for job_id in ODD_PING_IDS:
        assert admin_client.get(f"/admin/queue/ping/{job_id}").status_code == 404
        assert admin_client.get("/admin/queue", query_string={"ping": job_id}).status_code == 404
    token = csrf_token(admin_client, "/admin/users")
    for method, path in TOO_LARGE_IDS:
        reply = getattr(admin_client, method)(path, data={"csrf_token": token, "role": "member"})
        assert reply.status_code == 404, path


def test_nul_characters_are_refused_before_anything_is_saved(admin_client, db):
    before = rows(AppSettings)
    data = {"app_name": "a\x00b", "timezone": "UTC"}
    reply = post_form(admin_client, "/admin/settings", data)
    assert reply.status_code == 400
    assert "This form contains a NUL character" in reply.get_data(as_text=True)
    assert rows(AppSettings) == before


COMPOSER_REFUSALS = [  # (changes, the user's zone, what the page says)
    ({"accounts": "\u00b2", "media": None, "caption": ""}, None, "There is nothing to save yet."),
    ({"accounts": "9" * 5000, "media": None, "caption": ""}, None, "There is nothing to save"),
    ({"media": "9" * 25, "action": "post_now"}, None, "Choose a video to post."),
    (
        {"action": "schedule", "schedule_at": "9999-12-31T23:59"},
        "America/Los_Angeles",
        "Choose the date and time to post at.",
    ),
    (
        {"action": "schedule", "schedule_at": "9999-12-31T23:59"},
        "Pacific/Kiritimati",
        "Choose a time within the next year.",
    ),
    (
        {"action": "schedule", "schedule_at": "0001-01-01T00:00"},
        "Asia/Tokyo",
        "Choose the date and time to post at.",
    ),
    ({"caption": "c" * 10_001}, None, "The caption is too long to save (10,000 at most)."),
]


def _crafted(world, **changes) -> dict:
    """Return the composer's valid form for @maya and a video, with changes (None drops one)."""
    maya, video = Account.get_by_id(world.ids["@maya"]), Media.get_by_id(world.ids["@video"])
    data = {**composer_form(maya, video), **changes}
    data = {name.replace("ACC", f"a{maya.id}"): value for name, value in data.items()}
    return {name: value for name, value in data.items() if value is not None}


def test_odd_composer_values_are_refused_with_a_reason(admin_client, world, db):
    for changes, zone, message in COMPOSER_REFUSALS:
        _reset_composer(world, zone, ("direct_post", True))
        before = rows(*POST_MODELS)
        data = _crafted(world, **{"action": "save_draft", **changes})
        reply = send(admin_client, "/compose/", data, world.token)
        assert reply.status_code == 422, changes
        assert message in reply.get_data(as_text=True), changes
        assert rows(*POST_MODELS) == before
    odd = {"accounts": ["\u00b2", "9" * 5000, "9" * 25], "media": "9" * 25, "post_id": "9" * 25}
    assert send(admin_client, "/compose/check", odd, world.token).status_code == 200
    assert admin_client.get("/compose/", query_string=odd).status_code == 200


@pytest.mark.parametrize("service", [("inbox", True), ("direct_post", True)], ids=lambda s: s[0])
@pytest.mark.parametrize("action", ["post_now", "schedule", "save_draft"])
def test_a_caption_changed_without_a_word_is_refused_instead(
    admin_client, world, db, service, action
):
    # The fuzz example that once passed with a 303 on PostgreSQL: 10,001 characters, "Post now",
    # Share Type "Upload as draft"; the caption was stored cut to 10,000.
    _reset_composer(world, None, service)
    before = rows(*POST_MODELS)
    caption = "x" * 10_001
    data = _crafted(world, caption=caption, action=action, schedule_at=None)
    if action == "schedule":
        data["schedule_at"] = _resolve(world, {"schedule_at": "@in:90"})["schedule_at"][0]
    reply = send(admin_client, "/compose/", data, world.token)
    assert reply.status_code == 422
    assert "The caption is too long to save (10,000 at most)." in reply.get_data(as_text=True)
    assert rows(*POST_MODELS) == before
    check = send(admin_client, "/compose/check", data, world.token)
    assert "The caption is too long to save (10,000 at most)." in check.get_data(as_text=True)


def test_a_caption_of_exactly_the_kept_length_is_stored_as_typed(admin_client, world, db):
    _reset_composer(world, None, ("inbox", True))
    known = [p.id for p in Post.select()]
    caption = "é" * 9_999 + "😀"
    reply = send(admin_client, "/compose/", _crafted(world, caption=caption), world.token)
    assert reply.status_code == 303
    (post,) = Post.select().where(Post.id.not_in(known))
    assert post.caption == caption


COMPOSER_DROPPED = [  # (changes, the saved cover and privacy level)
    ({"post_id": "9" * 25}, (None, "PUBLIC_TO_EVERYONE")),  # no such post: a new one
    ({"cover_timestamp_ms": "9" * 30}, (None, "PUBLIC_TO_EVERYONE")),
    ({"cover_timestamp_ms": str(2**31)}, (None, "PUBLIC_TO_EVERYONE")),  # past an INTEGER
    ({"action": "save_draft", "ACC-privacy": "X" * 33}, (None, None)),  # past the column
    ({"action": "save_draft", "ACC-privacy": "<b>public</b>"}, (None, None)),
]


def test_odd_composer_values_that_cant_be_stored_are_dropped(admin_client, world, db):
    for changes, (cover, privacy) in COMPOSER_DROPPED:
        _reset_composer(world, None, ("direct_post", True))
        known = [p.id for p in Post.select()]
        reply = send(admin_client, "/compose/", _crafted(world, **changes), world.token)
        assert reply.status_code == 303, changes
        (post,) = Post.select().where(Post.id.not_in(known))
        assert (post.cover_timestamp_ms, post.targets.get().privacy_level) == (cover, privacy)
        assert_storable(*POST_MODELS)


# Every length-limited text field: at its limit it is stored exactly as typed (multi-byte
# characters included); one character more is refused and nothing is saved, never cut.
LIMITED_TEXT = [  # (page, base form, field, limit, model)
    ("/admin/settings", {"timezone": "UTC", "app_name": "A"}, "app_name", 80, AppSettings),
    (
        "/admin/settings",
        {"timezone": "UTC", "app_name": "A"},
        "service_description",
        20_000,
        AppSettings,
    ),
    ("/admin/settings", {"timezone": "UTC", "app_name": "A"}, "privacy_text", 50_000, AppSettings),
    ("/admin/settings", {"timezone": "UTC", "app_name": "A"}, "terms_text", 50_000, AppSettings),
    ("/admin/audit-kit", AUDIT_FORM, "full_name", 120, AuditKit),
    ("/admin/audit-kit", AUDIT_FORM, "org_name", 160, AuditKit),
    ("/admin/audit-kit", AUDIT_FORM, "app_id", 64, AuditKit),
    ("/admin/audit-kit", AUDIT_FORM, "org_description", 4_000, AuditKit),
]


@pytest.mark.parametrize(
    ("path", "base", "name", "limit", "model"), LIMITED_TEXT, ids=[t[2] for t in LIMITED_TEXT]
)
def test_text_fields_are_stored_as_typed_or_refused_never_cut(
    admin_client, db, path, base, name, limit, model
):
    _reset_audit_kit()
    typed = ("é😀 " * limit)[: limit - 1] + "x"
    assert post_form(admin_client, path, {**base, name: typed}).status_code == 303
    assert getattr(model.load(), name) == typed
    before = rows(model)
    reply = post_form(admin_client, path, {**base, name: typed + "y"})
    assert reply.status_code == 400
    assert "Nothing was saved" in reply.get_data(as_text=True)
    assert rows(model) == before


def test_a_user_name_is_stored_as_typed_or_refused_never_cut(admin_client, db):
    typed = ("é😀 " * 120)[:119] + "x"
    data = {"email": "named@example.com", "role": "member", "password": "long enough pw"}
    assert post_form(admin_client, "/admin/users", {**data, "name": typed}).status_code == 303
    assert User.get(User.email == "named@example.com").name == typed
    before = rows(User)
    reply = post_form(
        admin_client, "/admin/users", {**data, "email": "x@example.com", "name": typed + "y"}
    )
    assert reply.status_code == 400
    assert rows(User) == before


# --- Workspaces (issue 17) ---------------------------------------------------------------------


@dataclass
class WorkspaceForm:
    """A form of the workspace pages, fuzzed by test_workspace_forms_save_all_or_nothing.

    Whoever adds a workspace form (members, invitations, settings, approval) adds its entry to
    WORKSPACE_FORMS below: what a valid submission holds, what odd values to try, which rows a
    refusal must leave alone, and what an accepted one must have saved.
    """

    name: str
    path: str  # "{ws}": the slug of the sender's workspace; "{other}": another member's id
    fields: dict  # field name -> strategy of valid values
    models: tuple  # the rows a refused submission must leave exactly as they were
    message: str  # what a refusal says (beside the field)
    check: Callable  # check(form, reply, case) after an accepted submission
    odd: dict = dataclass_field(default_factory=dict)  # field name -> strategy of odd values
    reset: Callable | None = None  # reset(case): back to the starting rows before each example
    sender: str = "manager"  # who sends it: "manager" | "editor" | "viewer" of the workspace
    accepted: int = 303
    refused: int = 422
    examples: int = 60


@dataclass
class WorkspaceCase:
    """One example's world: the sender and their workspace, and what was there before."""

    user: User
    workspace: Workspace
    workspaces: set  # ids of the workspaces before the example
    other: User  # an editor of the workspace (whose role a manager may change)


def _check_created_workspace(form: dict, reply, case: WorkspaceCase) -> None:
    (new,) = Workspace.select().where(Workspace.id.not_in(case.workspaces))
    assert new.name == first(form, "name").strip()
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", new.slug) and len(new.slug) <= 48
    assert reply.headers["Location"].endswith(f"/w/{new.slug}/")
    (membership,) = Membership.select().where(Membership.workspace == new)
    assert (membership.user_id, membership.role) == (case.user.id, "manager")


WORKSPACE_NAMES = st.one_of(
    text(min_size=1, max_size=80),
    st.sampled_from(["Client A", "  Padded  ", "Ümlaut & Co", "😀", "---", "Maya's brand"]),
)
WORKSPACE_NAMES_ODD = st.one_of(
    st.sampled_from(["", "   ", "a\x01b", "x" * 81, "\u202eevil"]), HOSTILE
)


def _check_settings(form: dict, reply, case: WorkspaceCase) -> None:
    saved = Workspace.get_by_id(case.workspace.id)
    assert saved.name == first(form, "name").strip()
    assert saved.slug == case.workspace.slug  # the address never changes
    ticked_ = (first(form, "approval_required") or "").strip().lower()
    assert saved.approval_required == (ticked_ in {"on", "1", "true", "yes", "y"})


def _reset_settings(case: WorkspaceCase) -> None:
    Workspace.update(name=case.workspace.name, approval_required=False).where(
        Workspace.id == case.workspace.id
    ).execute()


def _check_invitation(form: dict, reply, case: WorkspaceCase) -> None:
    from webapp.models import Invitation

    (invitation,) = Invitation.select()
    assert invitation.workspace_id == case.workspace.id
    assert invitation.email == normalize_email(first(form, "email"))
    assert invitation.role == first(form, "role")
    assert "/invite/" in reply.get_data(as_text=True)  # the link, shown once (no SMTP here)


def _reset_invitations(case: WorkspaceCase) -> None:
    from webapp.models import Invitation

    Invitation.delete().execute()


def _check_role(form: dict, reply, case: WorkspaceCase) -> None:
    row = Membership.get(
        (Membership.workspace == case.workspace.id) & (Membership.user == case.other.id)
    )
    assert row.role == first(form, "role")
    assert Membership.select().where(Membership.workspace == case.workspace.id).count() == 2


def _reset_role(case: WorkspaceCase) -> None:
    Membership.update(role="editor").where(
        (Membership.workspace == case.workspace.id) & (Membership.user == case.other.id)
    ).execute()


ROLES_OF_WORKSPACES = st.sampled_from(["manager", "editor", "viewer"])
ODD_ROLES = st.one_of(st.sampled_from(["owner", "Manager", "admin", " viewer"]), HOSTILE)

# Every form of the workspace pages. Add yours here (see WorkspaceForm).
WORKSPACE_FORMS = [
    WorkspaceForm(
        name="create workspace",
        path="/workspaces/",
        fields={"name": WORKSPACE_NAMES},
        odd={"name": WORKSPACE_NAMES_ODD},
        models=(Workspace, Membership),
        message='id="name-error"',
        check=_check_created_workspace,
        sender="editor",  # anyone signed in may create a workspace
    ),
    WorkspaceForm(
        name="workspace settings",
        path="/w/{ws}/settings",
        fields={
            "name": WORKSPACE_NAMES,
            "approval_required": st.sampled_from(["on", "1", "true", "yes", ""]),
        },
        odd={
            "name": WORKSPACE_NAMES_ODD,
            "approval_required": st.one_of(st.sampled_from(["off", "no", "0"]), HOSTILE),
        },
        models=(Workspace, Membership),
        message="Nothing was saved.",
        check=_check_settings,
        reset=_reset_settings,
    ),
    WorkspaceForm(
        name="invite",
        path="/w/{ws}/invitations",
        fields={"email": EMAILS, "role": ROLES_OF_WORKSPACES},
        odd={"role": ODD_ROLES},
        models=(Membership, User),  # and no invitation (checked by reset's count below)
        message="Nobody was invited.",
        check=_check_invitation,
        reset=_reset_invitations,
        accepted=200,  # the link is shown once on the page (no SMTP in tests)
    ),
    WorkspaceForm(
        name="member role",
        path="/w/{ws}/members/{other}/role",
        fields={"role": ROLES_OF_WORKSPACES},
        odd={"role": ODD_ROLES},
        models=(Membership,),
        message='class="flash flash-error" role="alert"',
        check=_check_role,
        reset=_reset_role,
    ),
]


@pytest.mark.parametrize("form_case", WORKSPACE_FORMS, ids=lambda f: f.name)
def test_workspace_forms_save_all_or_nothing(app, db, form_case):
    manager = make_user("lead@example.com", name="Lea Lead")
    workspace = Workspace.get_by_id(home(manager))
    other = make_user("other@example.com", name="Otis Other", personal_workspace=False)
    Membership.create(workspace=workspace, user=other, role="editor")
    user = manager
    if form_case.sender != "manager":
        user = make_user(f"{form_case.sender}@example.com", name=form_case.sender.title())
        Membership.create(workspace=workspace, user=user, role=form_case.sender)
    browser = app.test_client()
    assert login(browser, user.email).status_code == 303
    path = form_case.path.format(ws=workspace.slug, other=other.id)
    token = csrf_token(browser, f"/w/{workspace.slug}/")
    baseline = {w.id for w in Workspace.select()}
    case = WorkspaceCase(user, workspace, baseline, other)
    outcomes = Counter()

    @fuzz(form_case.examples)
    @given(form=submissions(form_case.fields, form_case.odd, breaks=1), csrf=CSRF)
    def example(form, csrf):
        Workspace.delete().where(Workspace.id.not_in(baseline)).execute()
        if form_case.reset:
            form_case.reset(case)
        before = rows(*form_case.models)
        reply = send(browser, path, form, token, csrf)
        outcomes[reply.status_code] += 1
        if reply.status_code != form_case.accepted:
            expected = 400 if csrf in ("missing", "bogus") or has_nul(form) else form_case.refused
            assert reply.status_code == expected
            assert_refused(reply, csrf, form_case.message, form)
            assert rows(*form_case.models) == before
            assert Invitation.select().count() == 0  # no form leaves one behind when refused
            return
        form_case.check(form, reply, case)
        assert_storable(*form_case.models)
        if "Location" in reply.headers:  # the page the browser goes to next
            assert_sound(browser.get(reply.headers["Location"]))

    example()
    assert outcomes[form_case.accepted] and outcomes[form_case.refused]
