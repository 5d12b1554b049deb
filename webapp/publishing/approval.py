"""Posts that wait for a manager: an editor's Post now / Schedule in a workspace that requires
approval saves the post "awaiting_approval" (nothing queued, nothing sent to TikTok); a manager
approves it (their click is the consent TikTok's point 5c asks for, recorded with the
declaration they saw) or sends it back to its author as a draft with a comment.

A post asked for at a time that passed while it waited is "missed": it is never published late
on its own, only once approved with a new time. Who is told: approval requests go to the
workspace's managers, decisions to the post's author.
"""

from __future__ import annotations

import datetime as dt
import logging

import redis as redis_lib

from webapp.models import Post, PostEvent, PostTarget, User, Workspace, utcnow
from webapp.publishing.changes import notify_users, record_post, schedule, transaction
from webapp.publishing.states import EDITABLE, Status, missed
from webapp.workspaces.roles import Can, allows

log = logging.getLogger(__name__)

NOTE_LIMIT = 2000  # characters of a send-back comment
MISSED_REFUSAL = (
    "The time this post asked for passed while it waited for approval. Choose a new time to "
    "approve it."
)
NOT_AWAITING = "This post isn't awaiting approval any more: someone decided it meanwhile."


class ApprovalRefused(Exception):
    """An approval or a send-back that can't be done; the message says why, in plain words."""


def needs_approval(workspace: Workspace, role) -> bool:
    """Tell whether a person with role posts through approval in workspace (editors, when the
    workspace requires it; managers and instance admins post directly)."""
    return bool(workspace.approval_required) and not allows(role, Can.APPROVE)


def awaiting(workspace_id: int):
    """Return a query of the workspace's posts awaiting approval, the longest-waiting first."""
    return (
        Post.select()
        .where((Post.workspace == workspace_id) & (Post.status == Status.AWAITING_APPROVAL))
        .order_by(Post.submitted_at, Post.id)
    )


# --- consent ---------------------------------------------------------------------------------


def consent_data(user: User, action: str, decision, at: dt.datetime) -> dict:
    """Return what a consent records: who clicked, when, which button, and the declaration and
    every choice (post_info) they saw for the account."""
    return {
        "user_id": user.id,
        "user_email": user.email,
        "at": at.isoformat(),
        "action": action,
        "declaration": decision.declaration,
        "post_info": decision.post_info,
        "share_type": decision.share_type,
    }


def record_consent(
    post: Post, target: PostTarget, user: User, action: str, decision, at: dt.datetime
) -> None:
    """Record user's click on Post now / Schedule (or Approve) for target's account, with the
    declaration they saw above the button."""
    PostEvent.create(
        post=post,
        target=target,
        kind="consent",
        data=consent_data(user, action, decision, at),
        message=f"{user.display_name} confirmed: “{decision.declaration}”",
    )


# --- the three decisions ---------------------------------------------------------------------


def _workspace(post: Post) -> Workspace:
    return Workspace.get_by_id(post.workspace_id)


def submit_for_approval(post: Post, user: User, redis: redis_lib.Redis | None = None) -> Post:
    """Make post (saved by the composer) wait for a manager: nothing is queued or sent, and the
    workspace's managers are asked."""
    now = utcnow()
    with transaction():
        changed = (
            Post.update(
                status=Status.AWAITING_APPROVAL,
                submitted_by=user.id,
                submitted_at=now,
                approved_by=None,
                approved_at=None,
                consent_at=None,
                review_note="",
                updated_at=now,
            )
            .where((Post.id == post.id) & Post.status.in_(list(EDITABLE)))
            .execute()
        )
        if not changed:
            raise ApprovalRefused(
                "This post has started publishing, so it can't wait for approval."
            )
        PostTarget.update(status=Status.AWAITING_APPROVAL, updated_at=now).where(
            (PostTarget.post == post.id) & PostTarget.status.in_(list(EDITABLE))
        ).execute()
        record_post(post.id, "submitted", f"{user.display_name} asked for approval")
        workspace = _workspace(post)
        others = [m for m in _managers(workspace) if m != user.id]
        notify_users(
            workspace,
            others,
            "approval_requested",
            f"{user.display_name} asks you to approve a post: “{_short(post)}”",
            f"/approvals/{post.id}",
        )
    if redis is not None:
        _drop_jobs(post, redis)
    return Post.get_by_id(post.id)


def approve(
    post: Post,
    approver: User,
    decisions: dict,
    *,
    new_time: dt.datetime | None = None,
    redis: redis_lib.Redis | None = None,
) -> Post:
    """Approve post: record the approver's consent per account (decisions: account id → the
    composer's Decision they saw), then schedule it for its time, the new time, or now.

    Refuse (ApprovalRefused) when it no longer awaits approval, or its time passed and no new
    time is given. Whether TikTok's rules allow the post is decided by the caller (the same
    decision as the composer's submit) before this is called.
    """
    now = utcnow()
    if post.status != Status.AWAITING_APPROVAL:
        raise ApprovalRefused(NOT_AWAITING)
    if new_time is not None and new_time <= now:
        raise ApprovalRefused("Choose a new time that is still to come.")
    if new_time is None and missed(post.status, post.scheduled_at, now):
        raise ApprovalRefused(MISSED_REFUSAL)
    when = new_time or post.scheduled_at or now
    action = "post_now" if new_time is None and post.scheduled_at is None else "schedule"
    with transaction():
        targets = list(
            PostTarget.select().where(
                (PostTarget.post == post.id) & (PostTarget.status == Status.AWAITING_APPROVAL)
            )
        )
        missing = [t for t in targets if t.account_id not in decisions]
        if missing or not targets:
            raise ApprovalRefused("Every account of the post must be checked before approving.")
        changed = (
            Post.update(
                status=Status.SCHEDULED,
                scheduled_at=when,
                approved_by=approver.id,
                approved_at=now,
                consent_at=now,
                review_note="",
                updated_at=now,
            )
            .where((Post.id == post.id) & (Post.status == Status.AWAITING_APPROVAL))
            .execute()
        )
        if not changed:
            raise ApprovalRefused(NOT_AWAITING)
        PostTarget.update(status=Status.SCHEDULED, updated_at=now).where(
            (PostTarget.post == post.id) & (PostTarget.status == Status.AWAITING_APPROVAL)
        ).execute()
        for target in targets:
            record_consent(post, target, approver, action, decisions[target.account_id], now)
        record_post(post.id, "approved", f"Approved by {approver.display_name}")
        notify_users(
            _workspace(post),
            [post.author_id],
            "post_approved",
            f"{approver.display_name} approved your post “{_short(post)}”",
            f"/posts/{post.id}",
        )
    post = Post.get_by_id(post.id)
    if redis is not None:
        try:
            schedule(post, redis)
        except redis_lib.RedisError:
            # The database has it scheduled: the reconciler queues it once Redis answers.
            log.warning("post %s approved but not queued yet (Redis unavailable)", post.id)
    return post


def send_back(post: Post, manager: User, comment: str) -> Post:
    """Return post to its author as a draft with the manager's comment (required)."""
    comment = (comment or "").strip()
    if not comment:
        raise ApprovalRefused("Write a comment for the author: say what to change.")
    if len(comment) > NOTE_LIMIT:
        raise ApprovalRefused(f"Keep the comment within {NOTE_LIMIT} characters.")
    now = utcnow()
    with transaction():
        changed = (
            Post.update(
                status=Status.DRAFT,
                review_note=comment,
                approved_by=None,
                approved_at=None,
                consent_at=None,
                updated_at=now,
            )
            .where((Post.id == post.id) & (Post.status == Status.AWAITING_APPROVAL))
            .execute()
        )
        if not changed:
            raise ApprovalRefused(NOT_AWAITING)
        PostTarget.update(status=Status.DRAFT, updated_at=now).where(
            (PostTarget.post == post.id) & (PostTarget.status == Status.AWAITING_APPROVAL)
        ).execute()
        record_post(post.id, "sent_back", f"Sent back by {manager.display_name}: “{comment}”")
        notify_users(
            _workspace(post),
            [post.author_id],
            "post_sent_back",
            f"{manager.display_name} sent your post “{_short(post)}” back: {comment}",
            f"/posts/{post.id}",
        )
    return Post.get_by_id(post.id)


# --- helpers -----------------------------------------------------------------------------------


def _managers(workspace: Workspace) -> list[int]:
    from webapp.workspaces.members import managers_of

    return managers_of(workspace.id)


def _short(post: Post) -> str:
    caption = " ".join((post.caption or "").split()) or f"Post #{post.id}"
    return caption if len(caption) <= 60 else caption[:59] + "…"


def _drop_jobs(post: Post, redis: redis_lib.Redis) -> None:
    """Drop any publish job queued for post's targets (a stale one would find nothing to do)."""
    from webapp import tasks

    try:
        for target in PostTarget.select().where(PostTarget.post == post.id):
            tasks.drop(redis, tasks.publish_job_id(target))
    except redis_lib.RedisError:
        log.warning("could not drop the queued jobs of post %s", post.id)
