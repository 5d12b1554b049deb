"""What a target carries: the choices made for its account (one mapping between the composer's
Choices, the PostTarget columns and the form's fields), and the facts of its post's media."""

from __future__ import annotations

from webapp.media.storage import problems_of
from webapp.models import Media, PostMedia, PostTarget
from webapp.publishing.states import Phase, Status
from webapp.tiktok.rules import Choices, MediaFacts

# The targets status checks may still have news for (states.needs_checks, as a query).
AWAITING_NEWS = (
    (PostTarget.status == Status.PUBLISHING) & (PostTarget.phase == Phase.PROCESSING)
) | ((PostTarget.status == Status.PUBLISHED) & (PostTarget.phase == Phase.MODERATION))

# Choices attribute (also the form field, after the "a<account id>-" prefix) → PostTarget column.
CHOICE_COLUMNS = {
    "privacy": "privacy_level",
    "allow_comment": "allow_comment",
    "allow_duet": "allow_duet",
    "allow_stitch": "allow_stitch",
    "disclose": "disclose",
    "your_brand": "brand_organic",
    "branded_content": "brand_content",
    "is_aigc": "is_aigc",
    "auto_add_music": "auto_add_music",
}


def target_fields(choices: Choices) -> dict:
    """Return the PostTarget columns for choices (brand choices count only when disclosed)."""
    fields = {column: getattr(choices, name) for name, column in CHOICE_COLUMNS.items()}
    fields["brand_organic"] = choices.disclose and choices.your_brand
    fields["brand_content"] = choices.disclose and choices.branded_content
    return fields


def choices_of(target, post) -> Choices:
    """Return the choices the user confirmed for target's account (never changed here)."""
    return Choices(
        **{name: getattr(target, column) for name, column in CHOICE_COLUMNS.items()},
        caption=post.caption,
        description=post.description,
        cover_timestamp_ms=post.cover_timestamp_ms,
        photo_cover_index=post.photo_cover_index,
    )


def form_fields(target) -> dict:
    """Return the composer form's values for target's choices (prefix not included)."""
    values = {name: getattr(target, column) for name, column in CHOICE_COLUMNS.items()}
    values.pop("auto_add_music")  # not on the form
    privacy = values.pop("privacy")
    fields = {name: "on" for name, value in values.items() if value}
    if privacy:
        fields["privacy"] = privacy
    return fields


def ordered_media(post) -> list[Media]:
    """Return a post's media in order."""
    return [
        link.media
        for link in PostMedia.select(PostMedia, Media)
        .join(Media)
        .where(PostMedia.post == post.id)
        .order_by(PostMedia.position)
    ]


def media_facts(media: list[Media], post_type: str) -> MediaFacts | None:
    """Return what the composer's decision needs to know about a post's media, in order."""
    if not media:
        return None
    problems = tuple(p for m in media for p in problems_of(m))
    if post_type == "video":
        extra = ("A video post has one video.",) if len(media) > 1 else ()
        first = media[0]
        return MediaFacts(kind=first.kind, duration_ms=first.duration_ms, problems=problems + extra)
    kind = "photo" if all(m.kind == "photo" for m in media) else "video"
    return MediaFacts(kind=kind, count=len(media), problems=problems)
