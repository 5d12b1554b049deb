"""OAuth v2 as tiktok-api.md §1 describes it: authorize, token, refresh, revoke, user info."""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests

from tests.sandbox.conftest import (
    ALL_SCOPES,
    CLIENT_KEY,
    CLIENT_SECRET,
    REDIRECT,
    authorize,
    exchange,
    tokens_for,
)

# Run once, not in both passes: these tests talk to the sandbox over HTTP and never open
# Cadence's database, so the engine can't change their outcome.
pytestmark = pytest.mark.engine_independent


def authorize_get(sandbox, **overrides):
    params = {
        "client_key": CLIENT_KEY,
        "scope": ALL_SCOPES,
        "redirect_uri": REDIRECT,
        "state": "s",
        "response_type": "code",
        **overrides,
    }
    return requests.get(
        f"{sandbox.url}/v2/auth/authorize/", params=params, allow_redirects=False, timeout=10
    )


def test_authorize_page_lists_four_demo_creators_and_the_scopes(sandbox):
    page = authorize_get(sandbox)
    assert page.status_code == 200
    for name in ["Maya Rivers", "Kenji (private)", "Lena Quiet", "Omar Paused"]:
        assert name in page.text
    for scope in ALL_SCOPES.split(","):
        assert f'value="{scope}" checked' in page.text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"client_key": "nope"}, "client_key is not known"),
        ({"redirect_uri": "http://evil.example.com/cb"}, "must use https"),
        ({"redirect_uri": REDIRECT + "?x=1"}, "must not carry a query string"),
        ({"redirect_uri": "https://a.example/" + "x" * 520}, "shorter than 512"),
    ],
)
def test_bad_client_or_redirect_uri_shows_an_error_page_not_a_redirect(sandbox, overrides, message):
    reply = authorize_get(sandbox, **overrides)
    assert reply.status_code == 400
    assert message in reply.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"scope": "user.info.basic,video.delete"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_bad_request_parameters_come_back_as_errors_on_the_redirect(sandbox, overrides, error):
    reply = authorize_get(sandbox, **overrides)
    assert reply.status_code == 302
    assert f"error={error}" in reply.headers["Location"] and "state=s" in reply.headers["Location"]


def test_cancel_sends_access_denied_with_state(sandbox):
    reply = requests.post(
        f"{sandbox.url}/v2/auth/authorize/",
        allow_redirects=False,
        timeout=10,
        data={
            "client_key": CLIENT_KEY,
            "scope": ALL_SCOPES,
            "redirect_uri": REDIRECT,
            "state": "keep-me",
            "response_type": "code",
            "creator": "maya.rivers",
            "decision": "cancel",
        },
    )
    assert reply.status_code == 302
    assert "error=access_denied" in reply.headers["Location"]
    assert "state=keep-me" in reply.headers["Location"]


def test_code_exchange_returns_flat_tokens(sandbox):
    back = authorize(sandbox, state="abc")
    assert back["state"] == "abc"
    assert back["scopes"] == ALL_SCOPES
    body = exchange(sandbox, back["code"]).json()
    assert set(body) == {
        "open_id",
        "scope",
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
        "token_type",
    }
    assert body["open_id"] == "sbx-open-maya" and body["token_type"] == "Bearer"
    assert body["expires_in"] == 7200 and body["refresh_expires_in"] == 15552000


def test_unticked_scopes_are_not_granted(sandbox):
    back = authorize(sandbox, ticked=["user.info.basic", "video.upload"])
    assert back["scopes"] == "user.info.basic,video.upload"
    assert exchange(sandbox, back["code"]).json()["scope"] == "user.info.basic,video.upload"


def test_a_code_works_once(sandbox):
    code = authorize(sandbox)["code"]
    assert exchange(sandbox, code).status_code == 200
    again = exchange(sandbox, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant" and again.json()["log_id"]


@pytest.mark.parametrize(
    ("changes", "status", "error"),
    [
        ({"redirect_uri": "https://other.example.com/cb"}, 400, "invalid_grant"),
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"code": ""}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_token_endpoint_errors(sandbox, changes, status, error):
    code = authorize(sandbox)["code"]
    form = {
        "client_key": CLIENT_KEY,
        "client_secret": CLIENT_SECRET,
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
        **changes,
    }
    reply = requests.post(f"{sandbox.url}/v2/oauth/token/", data=form, timeout=10)
    assert reply.status_code == status
    assert reply.json()["error"] == error


def test_pkce_is_checked_when_a_challenge_was_sent(sandbox):
    verifier = "v" * 50
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    code = authorize(sandbox, code_challenge=challenge, code_challenge_method="S256")["code"]
    assert exchange(sandbox, code, code_verifier="wrong").json()["error"] == "invalid_grant"
    code = authorize(sandbox, code_challenge=challenge, code_challenge_method="S256")["code"]
    assert exchange(sandbox, code, code_verifier=verifier).status_code == 200


def refresh(sandbox, token):
    return requests.post(
        f"{sandbox.url}/v2/oauth/token/",
        timeout=10,
        data={
            "client_key": CLIENT_KEY,
            "client_secret": CLIENT_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": token,
        },
    )


def test_refresh_rotates_and_the_old_refresh_token_dies(sandbox):
    first = tokens_for(sandbox)
    second = refresh(sandbox, first["refresh_token"])
    assert second.status_code == 200
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert body["access_token"] != first["access_token"]
    dead = refresh(sandbox, first["refresh_token"])
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"
    assert refresh(sandbox, body["refresh_token"]).status_code == 200
    calls = sandbox.control("state")["token_calls"]
    assert [c["result"] for c in calls if c["grant_type"] == "refresh_token"] == [
        "ok",
        "invalid_grant",
        "ok",
    ]


def test_short_lifetimes_are_configurable_and_expire(tmp_path):
    from sandbox.runner import SandboxProcess

    with SandboxProcess(env={"SANDBOX_ACCESS_TOKEN_TTL": "1"}) as short:
        body = tokens_for(short)
        assert body["expires_in"] == 1
        import time

        time.sleep(1.2)
        reply = requests.get(
            f"{short.url}/v2/user/info/?fields=open_id",
            timeout=10,
            headers={"Authorization": f"Bearer {body['access_token']}"},
        )
        assert reply.status_code == 401 and reply.json()["error"]["code"] == "access_token_invalid"


def user_info(sandbox, token, fields):
    return requests.get(
        f"{sandbox.url}/v2/user/info/",
        params={"fields": fields},
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_user_info_returns_fields_in_the_envelope(sandbox):
    token = tokens_for(sandbox)["access_token"]
    reply = user_info(sandbox, token, "open_id,union_id,avatar_url,display_name,username")
    assert reply.status_code == 200
    body = reply.json()
    assert body["error"]["code"] == "ok"
    user = body["data"]["user"]
    assert user["display_name"] == "Maya Rivers" and user["username"] == "maya.rivers"
    assert requests.get(user["avatar_url"], timeout=10).headers["Content-Type"] == "image/svg+xml"


def test_user_info_refuses_fields_whose_scope_was_not_granted(sandbox):
    token = tokens_for(sandbox, scopes="user.info.basic,video.publish")["access_token"]
    assert user_info(sandbox, token, "open_id,display_name").status_code == 200
    reply = user_info(sandbox, token, "open_id,username")
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "scope_not_authorized"


def test_revoke_kills_access_and_refresh_tokens(sandbox):
    body = tokens_for(sandbox)
    reply = requests.post(
        f"{sandbox.url}/v2/oauth/revoke/",
        timeout=10,
        data={
            "client_key": CLIENT_KEY,
            "client_secret": CLIENT_SECRET,
            "token": body["access_token"],
        },
    )
    assert reply.status_code == 200
    assert (
        user_info(sandbox, body["access_token"], "open_id").json()["error"]["code"]
        == "access_token_invalid"
    )
    assert refresh(sandbox, body["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoke_needs_the_client_secret(sandbox):
    body = tokens_for(sandbox)
    reply = requests.post(
        f"{sandbox.url}/v2/oauth/revoke/",
        timeout=10,
        data={"client_key": CLIENT_KEY, "client_secret": "wrong", "token": body["access_token"]},
    )
    assert reply.status_code == 401 and reply.json()["error"] == "invalid_client"


def test_unknown_token_is_access_token_invalid(sandbox):
    reply = user_info(sandbox, "act.made-up", "open_id")
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "access_token_invalid"
