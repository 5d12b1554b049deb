"""Drive the OAuth round trip like a browser would: our app, the sandbox's consent page, back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests


def start(client, reconnect: int | None = None) -> str:
    """Click TikTok in the Add Account dialog; return the authorize URL we were sent to."""
    query = {"reconnect": reconnect} if reconnect else {}
    response = client.get("/accounts/connect/tiktok", query_string=query)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def consent(
    authorize_url: str, creator: str = "maya.rivers", ticked=None, decision="authorize"
) -> str:
    """Answer the sandbox's consent page; return the callback URL TikTok sends us back to."""
    parts = urlsplit(authorize_url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    form = {
        **params,
        "creator": creator,
        "decision": decision,
        "scopes": ticked if ticked is not None else params["scope"].split(","),
    }
    reply = requests.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}", data=form, allow_redirects=False, timeout=10
    )
    assert reply.status_code == 302, reply.text
    return reply.headers["Location"]


def back(client, callback_url: str):
    """Follow the redirect to our callback with the test client."""
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def connect(client, creator: str = "maya.rivers", ticked=None, reconnect=None):
    """Run the whole flow and return the callback response."""
    return back(client, consent(start(client, reconnect), creator, ticked))
