"""Where outsiders (TikTok) reach this installation: PUBLIC_URL, else the current request's
host, and the OAuth callback every operator registers with TikTok."""

from __future__ import annotations

from flask import current_app, request

# Where TikTok sends people back after authorizing; operators register this exact URI.
CALLBACK_PATH = "/accounts/callback"


def in_workspace(slug: str, path: str) -> str:
    """Return the address of path (e.g. "/posts/12") within the workspace named by slug: what
    links stored for later (notifications, emails) carry, built without a request."""
    return f"/w/{slug}{path}"


def public_url(path: str) -> str:
    """Return the address outsiders (TikTok) reach path at: PUBLIC_URL, else this request's."""
    base = current_app.config.get("PUBLIC_URL") or request.url_root
    return base.rstrip("/") + path


def redirect_uri() -> str:
    """Return the OAuth redirect URI operators register with TikTok."""
    return public_url(CALLBACK_PATH)
