"""The readiness checklist, run live before the operator applies.

URL probes are careful: only http and https, a 3-second timeout, no redirects followed, and the
host's addresses are resolved first so a probe never reaches a private, loopback or link-local
address (unless the instance runs in demo mode, where everything is on 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlparse

import requests

TIMEOUT = (3, 3)


@dataclass(frozen=True)
class Check:
    """One line of the checklist."""

    label: str
    state: str  # ok | problem | warning
    detail: str = ""


def _public_address(host: str) -> str:
    """Return '' when every address of host is public, else why not."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return f"{host} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_reserved
            or address.is_multicast
            or address.is_unspecified
        ):
            return f"{host} points to a private address ({address}); it can't be checked from here"
    return ""


def probe(url: str, *, allow_private: bool = False) -> str:
    """Return '' when url answers (2xx or 3xx), else what is wrong, in words."""
    parts = urlparse(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "not an http(s) address"
    if not allow_private:
        problem = _public_address(parts.hostname)
        if problem:
            return problem
    try:
        response = requests.get(url, timeout=TIMEOUT, allow_redirects=False, stream=True)
        response.close()
    except requests.RequestException as exc:
        return f"no answer ({type(exc).__name__})"
    if response.status_code >= 400:
        return f"answers HTTP {response.status_code}"
    return ""


def run(settings, service, *, redirect_uri: str, demo_mode: bool) -> list[Check]:
    """Run every check and return the checklist."""
    checks = [
        Check(
            "TikTok client key and secret are set",
            "ok" if service.client_key and service.client_secret_enc else "problem",
            "" if service.client_key else "Admin Console → Services",
        ),
        Check(
            "Share Type is “Direct Post”",
            "ok" if service.share_type == "direct_post" else "problem",
            "" if service.share_type == "direct_post" else "The audit is for Direct Post.",
        ),
    ]
    redirect = urlparse(redirect_uri)
    redirect_problem = (
        "it must start with https://"
        if redirect.scheme != "https"
        else "TikTok refuses redirect URIs that contain “tiktok”"
        if "tiktok" in redirect_uri.lower()
        else ""
    )
    checks.append(
        Check(
            f"Redirect URI is https and has no “tiktok” in it ({redirect_uri})",
            "problem" if redirect_problem else "ok",
            redirect_problem,
        )
    )
    for label, url in (
        ("Public website", settings.website_url),
        ("Privacy policy", settings.privacy_url),
        ("Terms of service", settings.terms_url),
    ):
        if not url:
            checks.append(Check(f"{label} URL is set", "problem", "Admin Console → Settings"))
            continue
        problem = probe(url, allow_private=demo_mode)
        checks.append(Check(f"{label} answers ({url})", "problem" if problem else "ok", problem))
    pulls = service.upload_method == "PULL_FROM_URL"
    checks.append(
        Check(
            "Verified media URL prefix is set (PULL_FROM_URL and photo posts)",
            "ok" if service.media_url_prefix else ("problem" if pulls else "warning"),
            ""
            if service.media_url_prefix
            else "Needed before photo posts (and videos by PULL_FROM_URL) can go out.",
        )
    )
    checks.append(
        Check(
            "Until the audit passes, the demo TikTok account must be private and every post is "
            "“Only me”",
            "warning",
            "Set the demo account to private in the TikTok app; reviewers will see “Only me”.",
        )
    )
    return checks
