"""Headers and cookies on every page: a Content-Security-Policy with no inline script or style (and
pages that need none), frame denial, no-sniff, a referrer policy, a Permissions-Policy that
switches off what Cadence doesn't use; session cookies HttpOnly, SameSite=Lax, and Secure in
production behind a TLS proxy (PROXY_FIX), where HSTS is sent too.

The pages come from walking the url map, so a new page is checked without being listed here.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD, make_user
from tests.test_routes_security import ALL_RULES, _id
from webapp import create_app
from webapp.db import connected

PAGES = [r for r in ALL_RULES if "GET" in r.methods and not r.arguments]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTR = re.compile(r"<[^>]+\sstyle\s*=", re.I)


def csp_directives(header: str) -> dict[str, list[str]]:
    """Split a Content-Security-Policy into {directive: sources}."""
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def check_headers(response) -> None:
    """Assert the security headers every response carries."""
    policy = csp_directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert not any("unsafe" in s for sources in policy.values() for s in sources)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    permissions = permissions_policy(response.headers["Permissions-Policy"])
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "display-capture"):
        assert permissions[feature] == "()", feature
    # The composer's <video controls> has a fullscreen button; only our own pages may use it.
    assert permissions["fullscreen"] == "(self)"
    assert not any("*" in allowed for allowed in permissions.values())


def permissions_policy(header: str) -> dict[str, str]:
    """Split a Permissions-Policy into {feature: allowlist}."""
    return dict(part.strip().split("=", 1) for part in header.split(","))


def test_there_are_pages_to_check():
    assert len(PAGES) >= 15


@pytest.mark.parametrize("rule", PAGES, ids=_id)
def test_every_page_has_the_headers_and_no_inline_code(admin_client, rule):
    response = admin_client.get(rule.rule)
    assert response.status_code < 500
    check_headers(response)
    # Tests run over plain http, where HSTS would be wrong (and browsers ignore it).
    assert "Strict-Transport-Security" not in response.headers
    if response.mimetype == "text/html":
        body = response.get_data(as_text=True)
        # The CSP would block these, so a page that relies on one is broken in the browser.
        assert not INLINE_SCRIPT.search(body), INLINE_SCRIPT.search(body).group(0)
        assert not EVENT_HANDLER.search(body), EVENT_HANDLER.search(body).group(0)
        assert not STYLE_ATTR.search(body), STYLE_ATTR.search(body).group(0)


def test_htmx_is_told_not_to_inject_styles_or_eval(admin_client):
    body = admin_client.get("/").get_data(as_text=True)
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', body).group(1)
    assert '"includeIndicatorStyles": false' in config
    assert '"allowEval": false' in config
    assert '"allowScriptTags": false' in config


def test_error_pages_and_static_files_carry_the_headers_too(client):
    check_headers(client.get("/no-such-page"))
    check_headers(client.get("/static/app.css"))


def test_production_behind_a_tls_proxy_sets_secure_httponly_lax_cookies(settings, db):
    app = create_app(
        {**settings, "APP_ENV": "production", "TESTING": False, "PROXY_FIX": 1},
    )
    with connected():
        make_user("prod@example.com")
    client = app.test_client()
    base = "https://cadence.example.com"
    # The proxy speaks plain http to Cadence and says the browser used https.
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cadence.example.com"}
    page = client.get("/login", headers=https, base_url="http://127.0.0.1:8000")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    response = client.post(
        "/login",
        data={"email": "prod@example.com", "password": PASSWORD, "csrf_token": token.group(1)},
        headers={**https, "Referer": f"{base}/login"},
        base_url="http://127.0.0.1:8000",
    )
    assert response.status_code == 303
    cookie = next(
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("cadence_session=")
    )
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("overrides", "sent"),
    [
        ({"APP_ENV": "production", "PROXY_FIX": 1}, True),
        ({"APP_ENV": "production"}, True),  # the default: production is behind TLS
        ({"APP_ENV": "production", "SESSION_COOKIE_SECURE": "false"}, False),  # plain http
        ({"APP_ENV": "demo"}, False),
        ({"APP_ENV": "development", "SESSION_COOKIE_SECURE": "true"}, True),
    ],
)
def test_hsts_is_sent_exactly_when_cookies_are_secure(settings, db, overrides, sent):
    app = create_app({**settings, "TESTING": False, **overrides})
    client = app.test_client()
    for response in (client.get("/login"), client.get("/static/app.css"), client.get("/nope")):
        check_headers(response)
        hsts = response.headers.get("Strict-Transport-Security")
        assert hsts == ("max-age=31536000; includeSubDomains" if sent else None)
    assert app.config["SESSION_COOKIE_SECURE"] is sent


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({"HX-Request": "true"}, True),
        ({"HX-Request": "false"}, False),  # present but false: not an htmx request
        ({"HX-Request": "true", "HX-Boosted": "true"}, False),  # boosted wants the whole page
        ({"HX-Request": "true", "HX-Boosted": "false"}, True),
        ({}, False),
    ],
)
def test_only_a_true_hx_request_gets_a_fragment(admin_client, headers, fragment):
    answer = admin_client.get("/accounts/add", headers=headers)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert ("<html" not in page) is fragment, page[:200]
    assert "HX-Request" in answer.headers.get("Vary", "")


def test_an_htmx_redirect_answers_200_with_hx_redirect(app):
    from flask import make_response

    from webapp import htmx

    with app.test_request_context("/"):
        answer = htmx.redirect(make_response("", 200), "/accounts/")
    assert answer.status_code == 200 and answer.headers["HX-Redirect"] == "/accounts/"
