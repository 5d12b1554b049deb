"""The media library's rules: taking uploads in (each checked against TikTok's rules by a job),
making TikTok-ready copies, and deleting only what no unfinished post needs. The views in
views.py parse the request, call these and render."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from redis.exceptions import RedisError

from webapp.db import db
from webapp.media.storage import receive, remove_files, start_check, start_conversion
from webapp.models import Media, Post, PostMedia

log = logging.getLogger(__name__)

# Posts in these states still need their media.
ACTIVE_POSTS = ("draft", "awaiting_approval", "scheduled", "publishing", "needs_attention")


def owned(media_id: int, workspace_id: int) -> Media | None:
    """Return the workspace's media (never another workspace's, never a deleted one), or None."""
    return Media.get_or_none(
        (Media.id == media_id) & (Media.workspace == workspace_id) & (Media.status != "deleted")
    )


def listing(workspace_id: int):
    """Return the query of the workspace's media, newest first."""
    return (
        Media.select()
        .where((Media.workspace == workspace_id) & (Media.status != "deleted"))
        .order_by(Media.created_at.desc(), Media.id.desc())
    )


@dataclass
class Uploaded:
    """What became of the files of one upload: those kept, and why the others weren't."""

    kept: list[Media] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Return the sentence about the kept files ('' when none were kept)."""
        if not self.kept:
            return ""
        names = ", ".join(m.original_name for m in self.kept)
        checking = sum(m.status == "checking" for m in self.kept)
        flawed = [m for m in self.kept if m.problems]
        note = f" {len(flawed)} of them break a TikTok rule; see below." if flawed else ""
        if checking:
            note += " Cadence is checking them against TikTok's rules; see below."
        return f"Uploaded {names}.{note}"


def take_uploads(files: list[tuple[Path, str]], user_id: int, workspace_id: int) -> Uploaded:
    """Keep each uploaded (spooled path, original name) as media and start its check."""
    done = Uploaded()
    for spooled, filename in files:
        media = receive(spooled, filename, user_id, workspace_id=workspace_id)
        try:
            start_check(media)
        except (RedisError, ValueError):
            log.exception("the check of media %s could not be queued", media.id)
            media.delete_instance()
            remove_files(media)
            done.refused.append(f"{filename}: Cadence can't check files right now; try again.")
            continue
        media = Media.get_by_id(media.id)
        if media.status == "invalid" and not media.kind:
            # Checked in the request (MEDIA_CHECKS=inline) and not media at all: keep nothing.
            media.delete_instance()
            remove_files(media)
            done.refused.append(f"{filename}: {media.problems[0]}")
            continue
        done.kept.append(media)
    return done


def convert(media: Media) -> tuple[str, str]:
    """Make a TikTok-ready JPEG copy of a photo; return (category, message) for the person."""
    if media.kind != "photo" or not media.problems:
        return "info", "This file doesn't need converting."
    try:
        copy = start_conversion(media)
    except (RedisError, ValueError):
        log.exception("the conversion of media %s could not be queued", media.id)
        return "error", "Cadence can't convert files right now; try again."
    if copy.status == "checking":
        return "success", f"Making a TikTok-ready copy, “{copy.original_name}”; it appears below."
    if copy.kind:
        return "success", f"Made a TikTok-ready copy, “{copy.original_name}”; the original is kept."
    copy.delete_instance()
    return (
        "error",
        f"“{media.original_name}” could not be converted. Try exporting it as JPEG yourself.",
    )


def posts_using(media: Media) -> list[Post]:
    """Return the unfinished posts that use media (it can't be deleted while there are any)."""
    return list(
        Post.select()
        .join(PostMedia)
        .where((PostMedia.media == media.id) & Post.status.in_(ACTIVE_POSTS))
        .distinct()
    )


def in_use_message(media: Media, posts: list[Post]) -> str:
    """Return why media can't be deleted, naming the posts that use it."""
    names = "; ".join(
        f"“{p.caption[:40] or f'post #{p.id}'}” ({p.status_label.lower()})" for p in posts
    )
    one = len(posts) == 1
    return (
        f"“{media.original_name}” is used by {names}. Remove it from "
        f"{'that post' if one else 'those posts'} or cancel {'it' if one else 'them'} first."
    )


def delete(media: Media) -> str:
    """Delete media unless an unfinished post uses it; return why not ('' when deleted).
    Finished posts keep their history: only the file goes."""
    posts = posts_using(media)
    if posts:
        return in_use_message(media, posts)
    with db.atomic():
        if media.post_links.exists():
            media.status = "deleted"
            media.save()
        else:
            media.delete_instance()
    remove_files(media)
    return ""
