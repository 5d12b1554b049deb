"""Walk the url map: every route refuses anonymous users, admin routes refuse members,
and every state-changing route refuses a request without a valid CSRF token.

New routes are covered automatically; a deliberately public route must be listed here.
"""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from webapp import create_app

# Endpoints anyone may open without signing in.
# pull.serve hands media to TikTok under a signed, unguessable address (tested in test_publishing).
PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "webhooks.tiktok",
    "pull.serve",
    "public.about",
    "public.privacy",
    "public.terms",
}
# State-changing routes authenticated by something other than a session (TikTok's HMAC signature).
CSRF_EXEMPT = {"webhooks.tiktok"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _rules(settings_factory=None) -> list[Rule]:
    return [r for r in _app_for_listing().url_map.iter_rules()]


_LISTING_APP = None


def _app_for_listing():
    # The url map doesn't depend on the database or Redis, so one throwaway app lists it.
    global _LISTING_APP
    if _LISTING_APP is None:
        _LISTING_APP = create_app(
            {"APP_ENV": "test", "DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "x" * 40}
        )
    return _LISTING_APP


def _url(rule: Rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg].__class__.__name__
        values[arg] = 1 if converter in {"IntegerConverter", "NumberConverter"} else "x"
    return rule.build(values)[1]


ALL_RULES = [r for r in _rules() if r.endpoint != "static"]
PROTECTED = [r for r in ALL_RULES if r.endpoint not in PUBLIC_ENDPOINTS]
ADMIN = [r for r in PROTECTED if r.endpoint.startswith("admin.")]
MUTATING = [
    (r, m)
    for r in ALL_RULES
    if r.endpoint not in CSRF_EXEMPT
    for m in sorted(r.methods & STATE_CHANGING)
]


def _id(rule: Rule) -> str:
    return f"{rule.endpoint}:{rule.rule}"


def test_the_url_map_has_routes_to_check():
    assert len(PROTECTED) >= 10
    assert ADMIN
    assert MUTATING


@pytest.mark.parametrize("rule", PROTECTED, ids=_id)
def test_anonymous_users_are_sent_to_sign_in(client, rule):
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        response = client.open(_url(rule), method=method)
        if method in STATE_CHANGING and response.status_code == 400:
            # CSRF is checked before login; either refusal is fine as long as nothing happens.
            continue
        assert response.status_code == 302, (method, response.status_code)
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("rule", ADMIN, ids=_id)
def test_members_get_403_on_admin_routes(member_client, rule):
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        data = {}
        if method in STATE_CHANGING:
            from tests.conftest import csrf_token

            data = {"csrf_token": csrf_token(member_client, "/")}
        response = member_client.open(_url(rule), method=method, data=data)
        assert response.status_code == 403, (method, response.status_code)
        assert "permission" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("rule", "method"), MUTATING, ids=lambda x: x if isinstance(x, str) else _id(x)
)
def test_state_changing_requests_need_a_csrf_token(admin_client, rule, method):
    url = _url(rule)
    missing = admin_client.open(url, method=method, data={"anything": "1"})
    assert missing.status_code == 400
    assert "Reload the page and try again" in missing.get_data(as_text=True)
    wrong = admin_client.open(url, method=method, data={"csrf_token": "forged"})
    assert wrong.status_code == 400
    wrong_header = admin_client.open(url, method=method, headers={"X-CSRFToken": "forged"})
    assert wrong_header.status_code == 400


def test_a_valid_token_in_the_htmx_header_is_accepted(admin_client):
    from tests.conftest import csrf_token

    token = csrf_token(admin_client, "/")
    response = admin_client.post(
        "/admin/settings",
        data={"app_name": "Via htmx", "timezone": "UTC"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 303


def test_the_page_gives_htmx_the_token_on_body(admin_client):
    body = admin_client.get("/").get_data(as_text=True)
    assert '<body hx-headers=\'{"X-CSRFToken": "' in body
