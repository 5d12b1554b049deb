"""Read the composer form (plain or htmx) into plain values; nothing here trusts the browser."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from webapp.models import PostMedia as PostMediaOrder
from webapp.tiktok.composer import Choices

ACTIONS = {"post_now", "schedule", "save_draft"}


def _ids(values: list[str]) -> list[int]:
    out = []
    for value in values:
        if value.isdigit() and int(value) not in out:
            out.append(int(value))
    return out


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


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
    if post.scheduled_at and post.status == "scheduled":
        local = post.scheduled_at.replace(tzinfo=dt.UTC).astimezone(zone)
        form["schedule_at"] = local.strftime("%Y-%m-%dT%H:%M")
    for link in post.media_links.order_by(PostMediaOrder.position):
        form.add("media", str(link.media_id))
    for target in post.targets:
        prefix = f"a{target.account_id}-"
        form.add("accounts", str(target.account_id))
        if target.privacy_level:
            form[prefix + "privacy"] = target.privacy_level
        for name, value in (
            ("allow_comment", target.allow_comment),
            ("allow_duet", target.allow_duet),
            ("allow_stitch", target.allow_stitch),
            ("disclose", target.disclose),
            ("your_brand", target.brand_organic),
            ("branded_content", target.brand_content),
            ("is_aigc", target.is_aigc),
        ):
            if value:
                form[prefix + name] = "on"
    return form


def parse(form: MultiDict) -> ComposerInput:
    """Turn the submitted form into a ComposerInput (unknown or malformed values are dropped)."""
    data = ComposerInput(
        account_ids=_ids(form.getlist("accounts")),
        post_type="photo" if form.get("post_type") == "photo" else "video",
        media_ids=_ids(form.getlist("media")),
        caption=form.get("caption", "")[:10_000],
        description=form.get("description", "")[:20_000],
        cover_timestamp_ms=_int_or_none(form.get("cover_timestamp_ms")),
        schedule_at=form.get("schedule_at", "").strip(),
        action=form.get("action", "") if form.get("action") in ACTIONS else "",
        post_id=_int_or_none(form.get("post_id")),
    )
    for account_id in data.account_ids:
        prefix = f"a{account_id}-"

        def ticked(name: str, prefix: str = prefix) -> bool:
            return form.get(prefix + name) in {"on", "1", "true", "y"}

        data.choices[account_id] = Choices(
            privacy=form.get(prefix + "privacy") or None,
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
