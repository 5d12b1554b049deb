"""One sandbox process for the contract tests, reset before each test; helpers to get tokens."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.runner import SandboxProcess

CLIENT_KEY = "sbx_demo_client_key"
CLIENT_SECRET = "sbx_demo_client_secret"
REDIRECT = "https://app.example.com/accounts/callback"
ALL_SCOPES = "user.info.basic,user.info.profile,video.publish,video.upload"


@pytest.fixture(scope="session")
def sandbox_proc():
    env = {
        "SANDBOX_PROCESSING_SECONDS": "0.3",
        "SANDBOX_MODERATION_SECONDS": "0.3",
        "SANDBOX_VERIFIED_URL_PREFIXES": "http://127.0.0.1:",
    }
    with SandboxProcess(env=env) as proc:
        yield proc


@pytest.fixture
def sandbox(sandbox_proc):
    sandbox_proc.control("reset", {})
    return sandbox_proc


def authorize(
    sandbox, creator="maya.rivers", scopes=ALL_SCOPES, ticked=None, state="st-1", **extra
):
    """Drive the consent page headlessly; return the redirect's query parameters."""
    params = {
        "client_key": CLIENT_KEY,
        "scope": scopes,
        "redirect_uri": REDIRECT,
        "state": state,
        "response_type": "code",
        **extra,
    }
    form = {
        **params,
        "creator": creator,
        "decision": "authorize",
        "scopes": (ticked if ticked is not None else scopes.split(",")),
    }
    reply = requests.post(
        f"{sandbox.url}/v2/auth/authorize/", data=form, allow_redirects=False, timeout=10
    )
    assert reply.status_code == 302, reply.text
    location = reply.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(sandbox, code, redirect_uri=REDIRECT, **extra):
    """POST the authorization_code grant and return the reply."""
    return requests.post(
        f"{sandbox.url}/v2/oauth/token/",
        data={
            "client_key": CLIENT_KEY,
            "client_secret": CLIENT_SECRET,
            "code": code,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            **extra,
        },
        timeout=10,
    )


def tokens_for(sandbox, creator="maya.rivers", scopes=ALL_SCOPES) -> dict:
    """Authorize creator and return the token endpoint's JSON."""
    reply = exchange(sandbox, authorize(sandbox, creator, scopes)["code"])
    assert reply.status_code == 200, reply.text
    return reply.json()


def api(sandbox, path, token, payload=None):
    """POST to a Content Posting endpoint with a bearer token."""
    return requests.post(
        f"{sandbox.url}{path}",
        json=payload,
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )
