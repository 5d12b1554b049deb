"""Read the composer form (plain or htmx) into plain values; nothing here trusts the browser."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from webapp.models import PostMedia as PostMediaOrder
from webapp.publishing import form_fields
from webapp.tiktok.rules import Choices

ACTIONS = {"post_now", "schedule", "save_draft"}
MAX_ID = 2**63 - 1  # the largest id a database column holds (SQLite raises past it)
MAX_INT = 2**31 - 1  # an IntegerField on PostgreSQL
# Far past TikTok's limits: longer text is refused (never cut) and isn't echoed back whole.
MAX_CAPTION_KEPT = 10_000
MAX_DESCRIPTION_KEPT = 20_000
# TikTok's privacy levels are upper-case names; an unknown one creator_info lists still passes.
PRIVACY_LEVEL = re.compile(r"[A-Z_]{1,32}")


def _ids(values: list[str]) -> list[int]:
    out = []
    for value in values:
        # ASCII only (str.isdigit() also accepts "²", which int() refuses), and short enough
        # for int() to read and a database to compare.
        if not (value.isascii() and value.isdigit() and len(value) <= 19):
            continue
        if int(value) <= MAX_ID and int(value) not in out:
            out.append(int(value))
    return out


def _int_or_none(value: str | None, limit: int = MAX_ID) -> int | None:
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:  # not a number, or more digits than int() reads
        return None
    return number if number is not None and -limit - 1 <= number <= limit else None


def _privacy(value: str | None) -> str | None:
    return value if value and PRIVACY_LEVEL.fullmatch(value) else None


@dataclass
class ComposerInput:
    """Everything the user entered, per account where TikTok options differ."""

    account_ids: list[int] = field(default_factory=list)
    post_type: str = "video"
    media_ids: list[int] = field(default_factory=list)
    caption: str = ""
    description: str = ""
    cover_timestamp_ms: int | None = None
    choices: dict[int, Choices] = field(default_factory=dict)
    schedule_at: str = ""
    action: str = ""
    post_id: int | None = None  # editing a draft or a scheduled post
    too_long: list[str] = field(default_factory=list)  # why the text can't be kept as typed


def from_post(post, zone) -> MultiDict:
    """Return the form a saved draft or scheduled post was made from, to edit it."""
    form = MultiDict(
        {
            "post_type": post.post_type,
            "caption": post.caption,
            "description": post.description,
            "post_id": str(post.id),
        }
    )
    if post.cover_timestamp_ms is not None:
        form["cover_timestamp_ms"] = str(post.cover_timestamp_ms)
    # A draft has a time only when a manager sent it back: it keeps the time asked for.
    if post.scheduled_at and post.status in ("draft", "scheduled", "awaiting_approval"):
        local = post.scheduled_at.replace(tzinfo=dt.UTC).astimezone(zone)
        form["schedule_at"] = local.strftime("%Y-%m-%dT%H:%M")
    for link in post.media_links.order_by(PostMediaOrder.position):
        form.add("media", str(link.media_id))
    for target in post.targets:
        form.add("accounts", str(target.account_id))
        for name, value in form_fields(target).items():
            form[f"a{target.account_id}-{name}"] = value
    return form


def parse(form: MultiDict) -> ComposerInput:
    """Turn the submitted form into a ComposerInput (unknown or malformed values are dropped)."""
    caption, description = form.get("caption", ""), form.get("description", "")
    data = ComposerInput(
        account_ids=_ids(form.getlist("accounts")),
        post_type="photo" if form.get("post_type") == "photo" else "video",
        media_ids=_ids(form.getlist("media")),
        caption=caption[:MAX_CAPTION_KEPT],
        description=description[:MAX_DESCRIPTION_KEPT],
        cover_timestamp_ms=_int_or_none(form.get("cover_timestamp_ms"), MAX_INT),
        schedule_at=form.get("schedule_at", "").strip(),
        action=form.get("action", "") if form.get("action") in ACTIONS else "",
        post_id=_int_or_none(form.get("post_id")),
    )
    if len(caption) > MAX_CAPTION_KEPT:
        data.too_long.append(f"The caption is too long to save ({MAX_CAPTION_KEPT:,} at most).")
    if data.post_type == "photo" and len(description) > MAX_DESCRIPTION_KEPT:
        data.too_long.append(
            f"The description is too long to save ({MAX_DESCRIPTION_KEPT:,} at most)."
        )
    for account_id in data.account_ids:
        prefix = f"a{account_id}-"

        def ticked(name: str, prefix: str = prefix) -> bool:
            return form.get(prefix + name) in {"on", "1", "true", "y"}

        data.choices[account_id] = Choices(
            privacy=_privacy(form.get(prefix + "privacy")),
            allow_comment=ticked("allow_comment"),
            allow_duet=ticked("allow_duet"),
            allow_stitch=ticked("allow_stitch"),
            disclose=ticked("disclose"),
            your_brand=ticked("your_brand"),
            branded_content=ticked("branded_content"),
            is_aigc=ticked("is_aigc"),
            caption=data.caption,
            description=data.description,
            cover_timestamp_ms=data.cover_timestamp_ms,
        )
    return data
