"""What the Dashboard shows a person: the first steps still to take, upcoming and publishing
posts, recent problems and accounts needing attention, each read from an index."""

from __future__ import annotations

from webapp.models import Account, Media, Post, TikTokService, Workspace

# "Recent problems": posts that ended without being published, newest first.
PROBLEM_STATUSES = ("failed", "needs_attention", "unconfirmed")


def overview(workspace: Workspace) -> dict:
    """Return the dashboard's lists and checklist for a workspace."""
    service = TikTokService.load()
    accounts = Account.select().where(Account.workspace == workspace.id)
    mine = Post.select().where(Post.workspace == workspace.id)
    # Each list reads its few rows from an index on (workspace, status, time); the problems come
    # newest first from one such read per status, merged (an IN list can't use the time order).
    upcoming = mine.where(Post.status == "scheduled").order_by(Post.scheduled_at, Post.id).limit(5)
    publishing = (
        mine.where(Post.status == "publishing").order_by(Post.scheduled_at, Post.id).limit(5)
    )
    problems = sorted(
        (
            post
            for status in PROBLEM_STATUSES
            for post in mine.where(Post.status == status)
            .order_by(Post.updated_at.desc(), Post.id.desc())
            .limit(5)
        ),
        key=lambda post: (post.updated_at, post.id),
        reverse=True,
    )[:5]
    steps = [
        ("TikTok app credentials are set", service.is_configured),
        ("A TikTok account is connected", accounts.exists()),
        (
            "A video or photo is uploaded",
            Media.select().where(Media.workspace == workspace.id).exists(),
        ),
        ("A post is published or scheduled", mine.exists()),
    ]
    return {
        "steps": steps,
        "service": service,
        "upcoming": list(upcoming),
        "problems": problems,
        "publishing": list(publishing),
        "accounts": list(accounts.where(Account.status != "connected")),
    }
