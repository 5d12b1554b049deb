"""Publishing, the part the web app and the jobs share: what each TikTok outcome means in plain
words, the job ids, scheduling and unscheduling, and the state changes of a post target.

The database is the source of truth. A target moves
scheduled → publishing (phase checking → initializing → uploading → processing) →
published | inbox | needs_attention | failed | unconfirmed, or → cancelled; status changes only
move forward, so a status poll and a webhook carrying the same news can arrive in any order.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import redis as redis_lib
from rq.exceptions import NoSuchJobError
from rq.job import Job

from webapp import mail
from webapp.db import db
from webapp.models import (
    Notification,
    Post,
    PostEvent,
    PostTarget,
    User,
    utcnow,
)
from webapp.models.posts import FINAL_STATUSES
from webapp.tiktok.composer import PROCESSING_NOTICE

log = logging.getLogger(__name__)

LEAD = dt.timedelta(seconds=10)  # jobs start this early, check the creator, then wait for the minute
UNCONFIRMED_AFTER = dt.timedelta(hours=1)
PUBLIC_LINK = "{base}/@{username}/video/{post_id}"
PROFILE_LINK = "{base}/@{username}"
TIKTOK_WEB = "https://www.tiktok.com"

# status/fetch's fail_reason, in words; only the first three are worth a retry (tiktok-api.md 3.6).
FAIL_REASONS = {
    "internal": "TikTok had an internal problem while processing the post.",
    "video_pull_failed": "TikTok could not download the video from Cadence's media URL.",
    "photo_pull_failed": "TikTok could not download the photos from Cadence's media URL.",
    "file_format_check_failed": "TikTok did not accept the file: its format, or its picture "
    "size (each side must be 360 to 4096 px). Export the video as MP4 (H.264) and post it again.",
    "duration_check_failed": "The video is longer (or shorter) than TikTok allows for this "
    "account.",
    "frame_rate_check_failed": "TikTok did not accept the video's frame rate (23–60 fps).",
    "picture_size_check_failed": "A photo is larger than TikTok allows (1080 px on the longer "
    "side, 20 MB).",
    "publish_cancelled": "The post was cancelled before TikTok finished it.",
    "auth_removed": "The account removed Cadence's access in TikTok. Reconnect it.",
    "spam_risk_too_many_posts": "TikTok says this account has reached its posting limit for "
    "today. Try again tomorrow.",
    "spam_risk_user_banned_from_posting": "TikTok has blocked this account from posting.",
    "spam_risk_text": "TikTok flagged the caption as spam. Change the caption and post again.",
    "spam_risk": "TikTok flagged the post as spam.",
}
RETRYABLE_REASONS = {"internal", "video_pull_failed", "photo_pull_failed"}

# status/fetch errors that no later check can cure (tiktok-api.md 3.6): the post ends failed.
STATUS_ERRORS = {
    "invalid_publish_id": "TikTok doesn't know this post's publish id, so Cadence can't follow "
    "it. Check the TikTok profile before posting it again.",
    "token_not_authorized_for_specified_publish_id": "TikTok won't tell this account about the "
    "post (the account may have been reconnected as a different TikTok user). Check the TikTok "
    "profile before posting it again.",
}

# Errors of the init calls, in words; (message, retryable by the user).
INIT_ERRORS = {
    "spam_risk_too_many_posts": (FAIL_REASONS["spam_risk_too_many_posts"], False),
    "spam_risk_user_banned_from_posting": (
        FAIL_REASONS["spam_risk_user_banned_from_posting"],
        False,
    ),
    "spam_risk_too_many_pending_share": (
        "This account has 5 drafts waiting in its TikTok inbox. Finish or delete them in the "
        "TikTok app, then retry.",
        True,
    ),
    "reached_active_user_cap": (
        "This TikTok app has reached its daily limit of posting accounts. Retry tomorrow.",
        True,
    ),
    "unaudited_client_can_only_post_to_private_accounts": (
        "Until the app passes TikTok's audit, the TikTok account must be private. Make it "
        "private in the TikTok app, then retry.",
        True,
    ),
    "url_ownership_unverified": (
        "TikTok refused the media URL: the verified media URL prefix in Admin Console → "
        "Services doesn't match what was verified with TikTok.",
        True,
    ),
    "privacy_level_option_mismatch": (
        "The chosen visibility is no longer offered for this account. Edit the post.",
        False,
    ),
    "invalid_params": ("TikTok refused the post's settings as invalid.", False),
    "invalid_param": ("TikTok refused the post's settings as invalid.", False),
    "scope_not_authorized": (
        "The account didn't grant Cadence permission to post. Reconnect it and allow posting.",
        False,
    ),
    "scope_permission_missed": (
        "The account didn't grant Cadence permission to post. Reconnect it and allow posting.",
        False,
    ),
    "app_version_check_failed": (
        "TikTok asks the creator to update the TikTok app before receiving photo posts.",
        True,
    ),
    "upload_url_expired": (
        "The upload link expired before the whole video was sent; nothing was posted.",
        True,
    ),
}


def publish_job_id(target: PostTarget) -> str:
    """Return the id of the job that carries target forward (one per run)."""
    return f"publish-{target.id}-{target.attempts}"


def status_job_id(target: PostTarget) -> str:
    """Return the id of the next status check of target."""
    return f"status-{target.id}-{target.checks}"


def public_link(username: str, post_id: str, base: str = TIKTOK_WEB) -> str:
    """Return a public post's address on TikTok (base: TikTok's web host, or a sandbox's)."""
    return PUBLIC_LINK.format(base=base.rstrip("/"), username=username, post_id=post_id)


def profile_link(username: str, base: str = TIKTOK_WEB) -> str:
    """Return a creator's profile address on TikTok (base: TikTok's web host, or a sandbox's)."""
    return PROFILE_LINK.format(base=base.rstrip("/"), username=username)


def awaits_public_id(privacy_level: str) -> bool:
    """Tell whether TikTok will send a published post's public id: only for posts everyone can
    see (tiktok-api.md 3.6); "Only me", Friends and Followers posts never get one."""
    return privacy_level == "PUBLIC_TO_EVERYONE"


def web_base(settings: dict) -> str:
    """Return where posts and profiles live: TikTok's web host, or the stand-in's when the
    authorization host is overridden (the sandbox serves /@user and /@user/video/id)."""
    from webapp.models import TikTokService

    try:
        return TikTokService.load().effective_auth_base_url(settings)
    except Exception:  # noqa: BLE001 - settings unavailable: the real address is always right
        return TIKTOK_WEB


def _web_base() -> str:
    """Return web_base() for the job's own settings."""
    from jobs import context

    try:
        settings = context.settings()
    except Exception:  # noqa: BLE001 - settings unavailable: the real address is always right
        return TIKTOK_WEB
    return web_base(settings)


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


def tiktok_link(target: PostTarget, base: str = TIKTOK_WEB) -> TikTokLink | None:
    """Return where "Open on TikTok" leads for target: a public post's own page; else, once
    TikTok has no public id to give, the creator's profile with who can see the post there."""
    if target.status != "published":
        return None
    if target.public_url:
        return TikTokLink(target.public_url)
    if target.phase == "moderation":
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


# --- timeline and notifications -----------------------------------------------------------------


def record(target: PostTarget, kind: str, message: str, data: dict | None = None) -> None:
    """Add a line to the post's timeline."""
    PostEvent.create(post=target.post_id, target=target.id, kind=kind, message=message, data=data)


def notify_people(target: PostTarget, kind: str, message: str) -> None:
    """Tell the post's author (and the admins) about a failure or a post needing attention."""
    link = f"/posts/{target.post_id}"
    people = {target.post.author_id: target.post.author} | {u.id: u for u in User.active_admins()}
    for user_id in people:
        Notification.create(user=user_id, kind=kind, message=message, link=link)
    if mail.enabled():
        mail.send(
            sorted(u.email for u in people.values() if u.is_active),
            "Cadence: " + message[:80],
            f"{message}\n\nOpen the post in Cadence: {link}\n",
        )


def sync_post(post_id: int) -> str:
    """Set a post's status from its targets' (the worst news wins) and return it."""
    statuses = [
        t.status for t in PostTarget.select(PostTarget.status).where(PostTarget.post == post_id)
    ]
    post = Post.get_by_id(post_id)
    if not statuses or post.status == "draft":
        return post.status
    order = ["needs_attention", "failed", "unconfirmed", "publishing", "scheduled"]
    status = next((s for s in order if s in statuses), None)
    if status is None:
        live = [s for s in statuses if s != "cancelled"]
        status = "cancelled" if not live else "published"
    if status != post.status:
        Post.update(status=status, updated_at=utcnow()).where(Post.id == post_id).execute()
    return status


# --- scheduling -----------------------------------------------------------------------------------


def enqueue_publish(redis: redis_lib.Redis, target: PostTarget, when: dt.datetime | None) -> Job:
    """Queue the publish job of target, starting LEAD before `when` (UTC) or now."""
    from jobs import enqueue
    from jobs.publishing import publish_target

    start = None
    if when is not None and when - LEAD > utcnow():
        start = when - LEAD
    # A waiting job under this id (ids of deleted targets can come back on SQLite) may carry an
    # old time: replace it. A started one is left alone, and enqueue() returns it.
    drop_job(redis, publish_job_id(target))
    return enqueue(
        redis,
        publish_target,
        target.id,
        target.attempts,
        job_id=publish_job_id(target),
        at=start,
        job_timeout=6 * 3600,
        result_ttl=3600,
        failure_ttl=7 * 86400,
    )


def schedule(post: Post, redis: redis_lib.Redis) -> int:
    """Queue every scheduled target of post for its time; return how many were queued."""
    count = 0
    for target in post.targets.where(PostTarget.status == "scheduled"):
        enqueue_publish(redis, target, post.scheduled_at)
        count += 1
    return count


def drop_job(redis: redis_lib.Redis, job_id: str) -> None:
    """Remove a queued or scheduled job (it is gone from Redis afterwards)."""
    from jobs import fetch

    try:
        job = fetch(job_id, redis)
    except NoSuchJobError:
        return
    if job.get_status(refresh=False) != "started":
        job.delete()


def unschedule(post: Post, redis: redis_lib.Redis) -> None:
    """Remove the queued jobs of post's scheduled targets (before an edit or a cancel)."""
    for target in post.targets.where(PostTarget.status == "scheduled"):
        drop_job(redis, publish_job_id(target))


def cancel(post: Post, user, redis: redis_lib.Redis | None) -> list[str]:
    """Cancel the targets of post that haven't started; return what couldn't be cancelled."""
    started = []
    with db.atomic():
        for target in post.targets:
            if target.status != "scheduled":
                if target.status not in FINAL_STATUSES:
                    started.append(target.account.display_name)
                continue
            changed = (
                PostTarget.update(status="cancelled", updated_at=utcnow())
                .where((PostTarget.id == target.id) & (PostTarget.status == "scheduled"))
                .execute()
            )
            if changed:
                record(target, "cancelled", f"Cancelled by {user.display_name}")
        sync_post(post.id)
    if redis is not None:
        for target in post.targets.where(PostTarget.status == "cancelled"):
            try:
                drop_job(redis, publish_job_id(target))
            except redis_lib.RedisError:
                log.warning("could not drop the job of target %s", target.id)
    return started


def retry(target: PostTarget, user, redis: redis_lib.Redis) -> bool:
    """Send a failed target again when a retry can succeed; return whether it was queued."""
    with db.atomic():
        changed = (
            PostTarget.update(
                status="scheduled",
                phase="",
                publish_id=None,
                upload_url_enc=None,
                init_started_at=None,
                initialized_at=None,
                uploaded_bytes=0,
                tiktok_status="",
                fail_reason="",
                error_code="",
                error_message="",
                retryable=False,
                checks=0,
                next_check_at=None,
                attempts=PostTarget.attempts + 1,
                updated_at=utcnow(),
            )
            .where(
                (PostTarget.id == target.id)
                & (PostTarget.status == "failed")
                & (PostTarget.retryable == True)  # noqa: E712 - peewee expression
            )
            .execute()
        )
        if not changed:
            return False
        Post.update(scheduled_at=utcnow()).where(Post.id == target.post_id).execute()
        record(target, "retry", f"{user.display_name} asked to try again")
        sync_post(target.post_id)
    fresh = PostTarget.get_by_id(target.id)
    enqueue_publish(redis, fresh, None)
    return True


# --- outcomes ---------------------------------------------------------------------------------


def set_needs_attention(target: PostTarget, reasons: list[str]) -> None:
    """Stop before anything is sent: the creator's settings no longer allow the user's choices."""
    message = " ".join(reasons)
    with db.atomic():
        PostTarget.update(
            status="needs_attention", phase="", error_message=message, updated_at=utcnow()
        ).where(PostTarget.id == target.id).execute()
        record(target, "needs_attention", f"Not posted: {message}", {"reasons": reasons})
        sync_post(target.post_id)
        notify_people(target, "post_needs_attention", f"A post needs attention: {message}")


def set_failed(target: PostTarget, *, code: str, message: str, retryable: bool) -> None:
    """Mark target failed with TikTok's code and the sentence people read."""
    with db.atomic():
        PostTarget.update(
            status="failed",
            phase="",
            error_code=code,
            error_message=message,
            retryable=retryable,
            upload_url_enc=None,
            updated_at=utcnow(),
        ).where(PostTarget.id == target.id).execute()
        record(target, "failed", message, {"code": code, "retryable": retryable})
        sync_post(target.post_id)
        notify_people(target, "post_failed", f"A post failed: {message}")


def set_unconfirmed(target: PostTarget, why: str) -> None:
    """TikTok never confirmed: say so, and never post again blindly."""
    with db.atomic():
        PostTarget.update(
            status="unconfirmed", phase="", error_message=why, updated_at=utcnow()
        ).where(PostTarget.id == target.id).execute()
        record(target, "unconfirmed", why)
        sync_post(target.post_id)
        notify_people(
            target,
            "post_unconfirmed",
            "TikTok never confirmed a post: check the TikTok profile before posting again.",
        )


def apply_status(
    target_id: int,
    status: str,
    *,
    fail_reason: str = "",
    post_ids: list | None = None,
    uploaded_bytes: int | None = None,
    via: str = "status",
) -> str:
    """Apply what TikTok reported for a publish (status/fetch or a webhook); return the outcome.

    Safe to call twice with the same news and in any order: finished targets stay finished,
    except that a published post may still receive its public id.
    """
    with db.atomic():
        target = (
            PostTarget.select().where(PostTarget.id == target_id).for_update().get_or_none()
            if db.obj is not None and not _sqlite()
            else PostTarget.get_or_none(PostTarget.id == target_id)
        )
        if target is None:
            return "unknown target"
        post_id = _first_id(post_ids)
        if target.status in ("failed", "needs_attention", "cancelled", "inbox"):
            return "already final"
        if target.status == "published":
            if post_id and not target.publicaly_available_post_id:
                _store_public_id(target, post_id, via)
                return "public id stored"
            return "already final"
        if uploaded_bytes is not None and status == "PROCESSING_UPLOAD":
            target.uploaded_bytes = max(target.uploaded_bytes, uploaded_bytes)
        target.tiktok_status = status
        if status == "PUBLISH_COMPLETE":
            # Only a post everyone can see waits (in "moderation") for its public id.
            waits = awaits_public_id(target.privacy_level) and not post_id
            target.status, target.phase = "published", "moderation" if waits else ""
            target.published_at = utcnow()
            target.upload_url_enc = None
            target.save()
            message = (
                "Published (only you can see it)"
                if target.privacy_level == "SELF_ONLY"
                else "Published on TikTok"
            )
            record(target, "published", message, {"via": via})
            if post_id:
                _store_public_id(target, post_id, via)
            sync_post(target.post_id)
            return "published"
        if status == "SEND_TO_USER_INBOX":
            target.status, target.phase = "inbox", ""
            target.published_at = utcnow()
            target.upload_url_enc = None
            target.save()
            record(
                target,
                "inbox",
                "Sent to your TikTok inbox: open the TikTok app to finish",
                {"via": via},
            )
            sync_post(target.post_id)
            return "inbox"
        if status == "FAILED":
            target.save()
            reason = fail_reason or "internal"
            set_failed(
                target,
                code=reason,
                message=FAIL_REASONS.get(reason, f"TikTok could not publish the post ({reason})."),
                retryable=reason in RETRYABLE_REASONS,
            )
            PostTarget.update(fail_reason=reason).where(PostTarget.id == target.id).execute()
            return "failed"
        if status == "UNCONFIRMED":
            target.save()
            set_unconfirmed(
                target,
                "TikTok didn't confirm this post within an hour. Check your TikTok profile "
                "before posting again.",
            )
            return "unconfirmed"
        target.save()
        return "processing"


def _store_public_id(target: PostTarget, post_id: str, via: str) -> None:
    username = target.account.username
    url = public_link(username, post_id, _web_base()) if username else ""
    PostTarget.update(
        publicaly_available_post_id=post_id, public_url=url, phase="", updated_at=utcnow()
    ).where(PostTarget.id == target.id).execute()
    record(target, "public", "The post is public on TikTok", {"post_id": post_id, "via": via})


def _first_id(post_ids) -> str:
    """Return the first public post id as digits: TikTok types them int64, but a string (as
    webhooks carry) is taken too; anything else is ignored."""
    first = post_ids[0] if isinstance(post_ids, (list, tuple)) and post_ids else post_ids
    if isinstance(first, bool):
        return ""
    if isinstance(first, int):
        return str(first) if first > 0 else ""
    if isinstance(first, str) and first.strip().isdigit():
        return first.strip()
    return ""


def _sqlite() -> bool:
    from webapp.db import engine_name

    return engine_name() == "sqlite"


def live_message(target: PostTarget) -> str:
    """Return the sentence the status widget shows for a target in progress."""
    if target.status == "scheduled":
        # A post sent with "Post now" is due at once: say it's on its way, not that it waits.
        if target.post.scheduled_at and target.post.scheduled_at <= utcnow():
            return "Due now: on its way to TikTok."
        return "Waiting for its time."
    if target.phase == "checking":
        return "Checking the account with TikTok…"
    if target.phase == "initializing":
        return "Starting the upload to TikTok…"
    if target.phase == "uploading":
        return f"Uploading to TikTok: {target.progress_percent}%"
    if target.phase == "processing":
        return "Processing on TikTok. " + PROCESSING_NOTICE
    if target.status == "published" and target.phase == "moderation":
        return "Published. TikTok is reviewing it; the link appears once the post is public."
    return ""
