"""The only functions that change a post target's status, phase or run number (attempts).

Each change is one conditional UPDATE (fenced by the run number where a run is involved, so a
superseded run changes nothing), followed by the post's status sync, in one transaction. People
are told in the app inside it; their email is queued only after the transaction commits (a slow
mail server never holds the database's write lock), and so are the jobs dropped or queued.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading

import redis as redis_lib

from webapp import mail, tasks
from webapp.db import db
from webapp.models import Notification, Post, PostEvent, PostTarget, User, utcnow
from webapp.publishing import codes
from webapp.publishing.links import public_link, web_base
from webapp.publishing.states import (
    CLOSED_STATUSES,
    EDITABLE,
    FINAL_STATUSES,
    Phase,
    Status,
    awaits_public_id,
    post_status,
)
from webapp.publishing.targets import target_fields

log = logging.getLogger(__name__)

# --- after commit ------------------------------------------------------------------------------

_pending = threading.local()


def _after_commit(action) -> None:
    """Run action once the outermost transaction commits (at once outside any). The outermost
    transaction must be transaction()'s: one opened with db.atomic() forgets them."""
    if db.obj is None or not db.in_transaction():
        _run(action)
        return
    if not hasattr(_pending, "actions"):
        _pending.actions = []
    _pending.actions.append(action)


def _run(action) -> None:
    try:
        action()
    except redis_lib.RedisError:
        log.warning("Redis unavailable after a commit; the reconciler catches up")


@contextlib.contextmanager
def transaction():
    """db.atomic() that runs the actions queued with _after_commit once the outermost commits
    (and forgets them when it rolls back)."""
    if not db.in_transaction():
        _pending.actions = []  # left by a transaction opened elsewhere: never run them late
    try:
        with db.atomic():
            yield
    except BaseException:
        if not db.in_transaction():
            _pending.actions = []
        raise
    if not db.in_transaction():
        actions, _pending.actions = getattr(_pending, "actions", []), []
        for action in actions:
            _run(action)


# --- timeline, notifications, the post's status --------------------------------------------------


def record(target: PostTarget, kind: str, message: str, data: dict | None = None) -> None:
    """Add a line to the post's timeline."""
    PostEvent.create(post=target.post_id, target=target.id, kind=kind, message=message, data=data)


def record_post(post_id: int, kind: str, message: str, data: dict | None = None) -> None:
    """Add a line about the whole post (not one of its accounts) to its timeline."""
    PostEvent.create(post=post_id, kind=kind, message=message, data=data)


def notify_users(workspace, user_ids, kind: str, message: str, path: str) -> None:
    """Tell these people of the workspace in the app, linking to path within it (e.g.
    "/posts/12"); email them after commit."""
    from webapp.addresses import in_workspace

    link = in_workspace(workspace.slug, path)
    people = {u.id: u for u in User.select().where(User.id.in_(list(user_ids)))}
    for user_id, user in people.items():
        note = Notification.create(
            user=user_id, workspace=workspace.id, kind=kind, message=message, link=link
        )
        if mail.enabled() and user.is_active:
            _after_commit(lambda nid=note.id: tasks.enqueue_email(tasks.connection(), nid))


def notify_people(target: PostTarget, kind: str, message: str) -> None:
    """Tell the post's author and the workspace's managers in the app; email them after
    commit."""
    from webapp.models import Workspace
    from webapp.workspaces.members import managers_of

    post = target.post
    workspace = Workspace.get_by_id(post.workspace_id)
    ids = [post.author_id, *managers_of(workspace.id)]
    notify_users(workspace, ids, kind, message, f"/posts/{target.post_id}")


def sync_post(post_id: int) -> str:
    """Set a post's status from its targets' (the worst news wins) and return it."""
    statuses = [
        t.status for t in PostTarget.select(PostTarget.status).where(PostTarget.post == post_id)
    ]
    post = Post.get_by_id(post_id)
    status = post_status(statuses)
    if status is None or post.status in (Status.DRAFT, Status.AWAITING_APPROVAL):
        return post.status
    if status != post.status:
        Post.update(status=status, updated_at=utcnow()).where(Post.id == post_id).execute()
    return status


def _fenced(target_id: int, run: int | None, where_status=None):
    query = PostTarget.id == target_id
    if run is not None:
        query &= PostTarget.attempts == run
    if where_status:
        query &= PostTarget.status.in_(list(where_status))
    return query


def change(target_id: int, run: int | None = None, where_status=None, **fields) -> int:
    """Change one target (fenced by run and status when given); return how many rows changed.
    The post's status is synced when the status changed."""
    fields.setdefault("updated_at", utcnow())
    with transaction():
        changed = PostTarget.update(**fields).where(_fenced(target_id, run, where_status)).execute()
        if changed and "status" in fields:
            sync_post(PostTarget.get_by_id(target_id).post_id)
    return changed


# --- a run of the publish job --------------------------------------------------------------------


def start_run(target_id: int, run: int) -> int:
    """scheduled → publishing (checking), for run `run`; 0 when the target changed meanwhile
    or its post awaits approval (never published without it)."""
    waiting = (
        PostTarget.select(PostTarget.id)
        .join(Post)
        .where((PostTarget.id == target_id) & (Post.status == Status.AWAITING_APPROVAL))
    )
    if waiting.exists():
        return 0
    return change(
        target_id, run, [Status.SCHEDULED], status=Status.PUBLISHING, phase=Phase.CHECKING
    )


def advance(target_id: int, run: int, where_status=None, **fields) -> int:
    """Record a run's progress (phase, publish id, bytes...); 0 when the run was superseded."""
    return change(target_id, run, where_status, **fields)


def touch(target_id: int, run: int) -> int:
    """The heartbeat of a live run; 0 when it no longer holds the target."""
    return (
        PostTarget.update(updated_at=utcnow())
        .where(_fenced(target_id, run, [Status.PUBLISHING]))
        .execute()
    )


def continue_later(
    redis: redis_lib.Redis, target_id: int, run: int, when: dt.datetime, why: str
) -> bool:
    """End run `run` and queue the next one at `when`; False when the run was superseded."""
    with transaction():
        moved = (
            PostTarget.update(attempts=PostTarget.attempts + 1, updated_at=utcnow())
            .where(_fenced(target_id, run))
            .execute()
        )
        if not moved:
            return False
        target = PostTarget.get_by_id(target_id)
        record(target, "waiting", why)
    tasks.enqueue_publish(redis, target, when + tasks.LEAD)
    return True


def requeue(redis: redis_lib.Redis, target: PostTarget, *, new_run: bool, when=None) -> None:
    """Queue a target's publish job again (the reconciler), under a new run number when the old
    run's job is finished or dead, so a late job of the old run does nothing."""
    if new_run:
        PostTarget.update(attempts=PostTarget.attempts + 1).where(
            _fenced(target.id, target.attempts)
        ).execute()
        target = PostTarget.get_by_id(target.id)
    tasks.enqueue_publish(redis, target, when)


# --- status checks -------------------------------------------------------------------------------


def schedule_status_check(redis: redis_lib.Redis, target: PostTarget, *, delay: float) -> None:
    """Count the next status check of target and queue it in `delay` seconds."""
    when = utcnow() + dt.timedelta(seconds=delay)
    PostTarget.update(checks=PostTarget.checks + 1, next_check_at=when).where(
        PostTarget.id == target.id
    ).execute()
    tasks.enqueue_status_check(redis, PostTarget.get_by_id(target.id), when)


def stop_checks(target: PostTarget, why: str = "") -> None:
    """A published post stops waiting for its public link (its phase ends)."""
    with transaction():
        PostTarget.update(phase=Phase.NONE).where(
            (PostTarget.id == target.id) & (PostTarget.status == Status.PUBLISHED)
        ).execute()
        if why:
            record(target, "status_error", why)


def clear_public_url(target: PostTarget) -> None:
    """TikTok says the post is no longer public: forget its link (its status stays)."""
    with transaction():
        record(target, "not_public", "TikTok says the post is no longer public")
        PostTarget.update(public_url="").where(PostTarget.id == target.id).execute()


# --- what people ask ------------------------------------------------------------------------------


def schedule(post: Post, redis: redis_lib.Redis) -> int:
    """Queue every scheduled target of post for its time; return how many were queued."""
    count = 0
    for target in post.targets.where(PostTarget.status == Status.SCHEDULED):
        tasks.enqueue_publish(redis, target, post.scheduled_at)
        count += 1
    return count


def unschedule(post: Post, redis: redis_lib.Redis) -> None:
    """Remove the queued jobs of post's scheduled targets (before an edit or a cancel)."""
    for target in post.targets.where(PostTarget.status == Status.SCHEDULED):
        tasks.drop(redis, tasks.publish_job_id(target))


def _cancel_scheduled(target: PostTarget, message: str, redis, **fields) -> bool:
    """scheduled → cancelled, only if nobody started it meanwhile; its job dropped after commit."""
    changed = (
        PostTarget.update(status=Status.CANCELLED, updated_at=utcnow(), **fields)
        .where((PostTarget.id == target.id) & (PostTarget.status == Status.SCHEDULED))
        .execute()
    )
    if changed:
        record(target, "cancelled", message)
        sync_post(target.post_id)
        if redis is not None:
            job_id = tasks.publish_job_id(target)
            _after_commit(lambda: tasks.drop(redis, job_id))
    return bool(changed)


def cancel(post: Post, user, redis: redis_lib.Redis | None) -> list[str]:
    """Cancel the targets of post that haven't started; return what couldn't be cancelled."""
    started = []
    with transaction():
        for target in post.targets:
            if target.status not in FINAL_STATUSES and not _cancel_scheduled(
                target, f"Cancelled by {user.display_name}", redis
            ):
                started.append(target.account.display_name)
        sync_post(post.id)
    return started


def cancel_for_account(account_id: int, message: str, redis: redis_lib.Redis | None) -> list:
    """Cancel every scheduled target of an account (disconnected); a run that started meanwhile
    is left alone. Return the posts that lost a target."""
    cancelled = []
    with transaction():
        targets = PostTarget.select().where(
            (PostTarget.account == account_id) & (PostTarget.status == Status.SCHEDULED)
        )
        for target in list(targets):
            if _cancel_scheduled(
                target, message, redis, error_message="The account was disconnected."
            ):
                cancelled.append(target.post)
    return cancelled


def retry(target: PostTarget, user, redis: redis_lib.Redis) -> bool:
    """Send a failed target again when a retry can succeed; return whether it was queued."""
    with transaction():
        changed = (
            PostTarget.update(
                status=Status.SCHEDULED,
                phase=Phase.NONE,
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
                & (PostTarget.status == Status.FAILED)
                & (PostTarget.retryable == True)  # noqa: E712 - peewee expression
            )
            .execute()
        )
        if not changed:
            return False
        Post.update(scheduled_at=utcnow()).where(Post.id == target.post_id).execute()
        record(target, "retry", f"{user.display_name} asked to try again")
        sync_post(target.post_id)
    tasks.enqueue_publish(redis, PostTarget.get_by_id(target.id), None)
    return True


class StartedMeanwhile(Exception):
    """A target of the edited post began publishing while the user was editing."""


def replace_targets(post: Post, choices_by_account: dict, status: str) -> list[PostTarget]:
    """Give post one target per account with its choices (the composer's save), replacing the
    ones nobody started; raise StartedMeanwhile when a run began meanwhile (it wins)."""
    with transaction():
        total = PostTarget.select().where(PostTarget.post == post.id).count()
        PostEvent.update(target=None).where(PostEvent.post == post.id).execute()
        removed = (
            PostTarget.delete()
            .where((PostTarget.post == post.id) & PostTarget.status.in_(list(EDITABLE)))
            .execute()
        )
        if removed != total:
            raise StartedMeanwhile()
        return [
            PostTarget.create(post=post, account=account_id, status=status, **target_fields(c))
            for account_id, c in choices_by_account.items()
        ]


# --- outcomes ---------------------------------------------------------------------------------


def set_needs_attention(target: PostTarget, reasons: list[str], run: int | None = None) -> None:
    """Stop before anything is sent: the creator's settings no longer allow the user's choices."""
    message = " ".join(reasons)
    with transaction():
        changed = (
            PostTarget.update(
                status=Status.NEEDS_ATTENTION,
                phase=Phase.NONE,
                error_message=message,
                updated_at=utcnow(),
            )
            .where(_fenced(target.id, run))
            .execute()
        )
        if not changed:
            return  # a newer run holds the target: this one changes nothing
        record(target, "needs_attention", f"Not posted: {message}", {"reasons": reasons})
        sync_post(target.post_id)
        notify_people(target, "post_needs_attention", f"A post needs attention: {message}")


def set_failed(
    target: PostTarget,
    *,
    code: str,
    message: str,
    retryable: bool,
    run: int | None = None,
    **fields,
) -> None:
    """Mark target failed with TikTok's code and the sentence people read."""
    with transaction():
        changed = (
            PostTarget.update(
                status=Status.FAILED,
                phase=Phase.NONE,
                error_code=code,
                error_message=message,
                retryable=retryable,
                upload_url_enc=None,
                updated_at=utcnow(),
                **fields,
            )
            .where(_fenced(target.id, run))
            .execute()
        )
        if not changed:
            return  # a newer run holds the target: this one changes nothing
        record(target, "failed", message, {"code": code, "retryable": retryable})
        sync_post(target.post_id)
        notify_people(target, "post_failed", f"A post failed: {message}")


def fail_with(target: PostTarget, code: str, meaning: codes.Code, run: int | None = None) -> None:
    """Mark target failed with a code's meaning from the codes table."""
    set_failed(target, code=code, message=meaning.words, retryable=meaning.retry, run=run)


def set_unconfirmed(target: PostTarget, why: str, run: int | None = None) -> None:
    """TikTok never confirmed: say so, and never post again blindly."""
    with transaction():
        changed = (
            PostTarget.update(
                status=Status.UNCONFIRMED, phase=Phase.NONE, error_message=why, updated_at=utcnow()
            )
            .where(_fenced(target.id, run))
            .execute()
        )
        if not changed:
            return  # a newer run holds the target: this one changes nothing
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
    with transaction():
        target = (
            PostTarget.select().where(PostTarget.id == target_id).for_update().get_or_none()
            if db.obj is not None and not _sqlite()
            else PostTarget.get_or_none(PostTarget.id == target_id)
        )
        if target is None:
            return "unknown target"
        post_id = _first_id(post_ids)
        if target.status in CLOSED_STATUSES:
            return "already final"
        if target.status == Status.PUBLISHED:
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
            target.status = Status.PUBLISHED
            target.phase = Phase.MODERATION if waits else Phase.NONE
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
            target.status, target.phase = Status.INBOX, Phase.NONE
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
            meaning = codes.fail_reason(reason)
            set_failed(
                target,
                code=reason,
                message=meaning.words,
                retryable=meaning.retry,
                fail_reason=reason,
            )
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
    url = public_link(username, post_id, web_base()) if username else ""
    PostTarget.update(
        publicaly_available_post_id=post_id, public_url=url, phase=Phase.NONE, updated_at=utcnow()
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
