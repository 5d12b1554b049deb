"""The readiness checklist, run live before the operator applies.

URL probes go through netguard.safe_get with a 3-second timeout and no redirects followed, so a
probe never reaches a private, loopback or link-local address (unless the instance runs in demo
mode, where everything is on 127.0.0.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from webapp import netguard

TIMEOUT = (3, 3)


@dataclass(frozen=True)
class Check:
    """One line of the checklist."""

    label: str
    state: str  # ok | problem | warning
    detail: str = ""


def probe(url: str, *, allow_private: bool = False) -> str:
    """Return '' when url answers (2xx or 3xx), else what is wrong, in words."""
    try:
        response = netguard.safe_get(url, timeout=TIMEOUT, allow_private=allow_private)
        response.close()
    except netguard.UnsafeURL as exc:
        return str(exc)
    except netguard.FetchError as exc:
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
