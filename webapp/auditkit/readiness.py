"""The readiness checklist, run live before the operator applies.

URL probes go through netguard.safe_get with a 3-second timeout and no redirects followed, so a
probe never reaches a private, loopback or link-local address (unless the instance runs in demo
mode, where everything is on 127.0.0.1). The demo account's privacy is read from creator_info
through the same cached, rate-limited path the composer uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

import redis as redis_lib

from webapp import netguard
from webapp.composer.creators import creator_for
from webapp.models import Account, User

TIMEOUT = (3, 3)


@dataclass(frozen=True)
class Check:
    """One line of the checklist."""

    label: str
    state: str  # ok | problem | warning
    detail: str = ""


def probe(url: str, *, allow_private: bool = False, ca_file: str = "") -> str:
    """Return '' when url answers (2xx or 3xx), else what is wrong, in words."""
    try:
        response = netguard.safe_get(
            url, timeout=TIMEOUT, allow_private=allow_private, ca_file=ca_file
        )
        response.close()
    except netguard.UnsafeURL as exc:
        return str(exc)
    except netguard.FetchError as exc:
        return f"no answer ({type(exc).__name__})"
    if response.status_code >= 400:
        return f"answers HTTP {response.status_code}"
    return ""


def run(
    settings,
    service,
    *,
    redirect_uri: str,
    demo_mode: bool,
    kit=None,
    client=None,
    redis: redis_lib.Redis | None = None,
    ca_file: str = "",
) -> list[Check]:
    """Run every check and return the checklist (the demo account's only with kit and client)."""
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
        problem = probe(url, allow_private=demo_mode, ca_file=ca_file)
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
    checks.append(audit_state(service))
    if kit is not None and client is not None and redis is not None:
        checks.extend(demo_account_checks(kit, client=client, redis=redis))
    return checks


def audit_state(service) -> Check:
    """Check that the app is marked unaudited unless TikTok really approved the audit."""
    if not service.audited:
        return Check(
            "The app is marked as not yet audited by TikTok (Admin Console → Services)",
            "ok",
            "Until the audit passes, the demo TikTok account must be private and TikTok accepts "
            "only “Only me” posts; the composer says so and the demo posts “Only me”.",
        )
    return Check(
        "The app is marked as audited by TikTok (Admin Console → Services)",
        "warning",
        "Keep “TikTok has audited this app” ticked only if TikTok has approved this app's "
        "Direct Post audit. Before that, untick it: TikTok accepts only “Only me” posts from "
        "private accounts, and the reviewer must see the app as it is now.",
    )


DEMO_LABEL = "The demo TikTok account is private"


def demo_account_checks(kit, *, client, redis: redis_lib.Redis) -> list[Check]:
    """Check that the TikTok accounts the demo user connected are private: creator_info offers
    no “Everyone” (PUBLIC_TO_EVERYONE), as TikTok requires of an unaudited app's accounts."""
    if not kit.demo_email:
        return [
            Check(
                DEMO_LABEL,
                "warning",
                "Set the demo email under “Your inputs”, then sign in as that user and connect "
                "the private demo TikTok account.",
            )
        ]
    user = User.by_email(kit.demo_email)
    if user is None:
        return [
            Check(
                DEMO_LABEL,
                "problem",
                f"No user signs in as {kit.demo_email}: add it in Admin Console → Users, then "
                "connect the private demo TikTok account as that user.",
            )
        ]
    accounts = list(
        Account.select()
        .where((Account.owner == user.id) & (Account.provider == "tiktok"))
        .order_by(Account.id)
    )
    if not accounts:
        return [
            Check(
                DEMO_LABEL,
                "warning",
                f"No TikTok account is connected yet by {kit.demo_email}. Sign in as that user, "
                "then Accounts → Add Account → TikTok with the demo account, set to private.",
            )
        ]
    return [_demo_account_check(account, client=client, redis=redis) for account in accounts]


def _demo_account_check(account: Account, *, client, redis: redis_lib.Redis) -> Check:
    name = account.handle
    label = f"{DEMO_LABEL} ({name})"
    try:
        creator, problem = creator_for(account, client=client, redis=redis)
    except redis_lib.RedisError:
        return Check(label, "warning", "Can't be checked now: Redis doesn't answer.")
    if creator is None:
        return Check(label, "warning", f"TikTok couldn't be asked about {name}: {problem}")
    options = creator.privacy_options
    if "PUBLIC_TO_EVERYONE" in options:
        return Check(
            label,
            "problem",
            f"{name} is public: TikTok offers “Everyone” for its posts. Set it to private in the "
            "TikTok app (Profile → Settings and privacy → Privacy → Private account); until the "
            "audit passes TikTok refuses posts from public accounts.",
        )
    if not options:
        return Check(
            label,
            "warning",
            f"TikTok gave no privacy options for {name} (it says the account can't post now), "
            "so its privacy can't be read. Try again later.",
        )
    return Check(label, "ok", f"TikTok offers {name} no “Everyone”, only private audiences.")
