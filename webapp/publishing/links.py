"""Where a published post lives on TikTok, and the sentences the status widget shows."""

from __future__ import annotations

from dataclasses import dataclass

from webapp.publishing.states import Phase, Status, in_moderation
from webapp.tiktok.rules import PROCESSING_NOTICE

PUBLIC_LINK = "{base}/@{username}/video/{post_id}"
PROFILE_LINK = "{base}/@{username}"
TIKTOK_WEB = "https://www.tiktok.com"


def public_link(username: str, post_id: str, base: str = TIKTOK_WEB) -> str:
    """Return a public post's address on TikTok (base: TikTok's web host, or a sandbox's)."""
    return PUBLIC_LINK.format(base=base.rstrip("/"), username=username, post_id=post_id)


def profile_link(username: str, base: str = TIKTOK_WEB) -> str:
    """Return a creator's profile address on TikTok (base: TikTok's web host, or a sandbox's)."""
    return PROFILE_LINK.format(base=base.rstrip("/"), username=username)


def web_base(settings: dict | None = None) -> str:
    """Return where posts and profiles live: TikTok's web host, or the stand-in's when the
    authorization host is overridden (the sandbox serves /@user and /@user/video/id).
    settings: the process's own (webapp.config.active()) when not given."""
    from webapp import config
    from webapp.models import TikTokService

    try:
        return TikTokService.load().effective_auth_base_url(settings or config.active())
    except Exception:  # noqa: BLE001 - settings unavailable: the real address is always right
        return TIKTOK_WEB


@dataclass(frozen=True)
class TikTokLink:
    """Where "Open on TikTok" leads for a published post, and what the person should know."""

    url: str  # the post itself, or the creator's profile ('' when even that isn't known)
    note: str = ""  # '' for a public post's own page

    @property
    def is_profile(self) -> bool:
        """Tell whether the link opens the creator's profile rather than the post."""
        return bool(self.note)


_AUDIENCES = {
    "MUTUAL_FOLLOW_FRIENDS": "the account's friends",
    "FOLLOWER_OF_CREATOR": "the account's followers",
}


def tiktok_link(target, base: str = TIKTOK_WEB) -> TikTokLink | None:
    """Return where "Open on TikTok" leads for target: a public post's own page; else, once
    TikTok has no public id to give, the creator's profile with who can see the post there."""
    if target.status != Status.PUBLISHED:
        return None
    if target.public_url:
        return TikTokLink(target.public_url)
    if in_moderation(target):
        return None  # a public post under review: its own link is still to come
    account = target.account
    note = profile_note(target.privacy_level, account.username, account.display_name)
    return TikTokLink(profile_link(account.username, base) if account.username else "", note)


def profile_note(privacy_level: str, username: str, display_name: str = "") -> str:
    """Return the line beside "Open on TikTok" when it opens the profile: who can see the post
    there, and as whom to sign in (the demo guide quotes it too)."""
    signed_in = (
        f"signed in to TikTok as @{username}"
        if username
        else f"in the TikTok app signed in as {display_name or 'this account'}"
    )
    if privacy_level == "SELF_ONLY":
        return f"This post is visible only to its owner: open the profile {signed_in} to see it."
    if privacy_level in _AUDIENCES:
        return (
            f"This post is visible only to {_AUDIENCES[privacy_level]} and its owner, so TikTok "
            f"gives it no public link: open the profile {signed_in} to see it."
        )
    return (
        "TikTok hasn't given this post a public link (it may still be under review); it is on "
        f"the profile, visible there to its owner: open the profile {signed_in}."
    )


def live_message(target) -> str:
    """Return the sentence the status widget shows for a target in progress."""
    from webapp.models import utcnow

    if target.status == Status.SCHEDULED:
        # A post sent with "Post now" is due at once: say it's on its way, not that it waits.
        if target.post.scheduled_at and target.post.scheduled_at <= utcnow():
            return "Due now: on its way to TikTok."
        return "Waiting for its time."
    if target.phase == Phase.CHECKING:
        return "Checking the account with TikTok…"
    if target.phase == Phase.INITIALIZING:
        return "Starting the upload to TikTok…"
    if target.phase == Phase.UPLOADING:
        return f"Uploading to TikTok: {target.progress_percent}%"
    if target.phase == Phase.PROCESSING:
        return "Processing on TikTok. " + PROCESSING_NOTICE
    if in_moderation(target):
        return "Published. TikTok is reviewing it; the link appears once the post is public."
    return ""
