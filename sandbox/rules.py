"""TikTok's validation rules for init requests, as plain functions returning an error or None."""

from __future__ import annotations

MIN_CHUNK = 5_242_880
MAX_CHUNK = 64_000_000
MAX_LAST_CHUNK = 128_000_000
MAX_CHUNKS = 1000
MAX_VIDEO_BYTES = 4 * 1024**3
MAX_TITLE_VIDEO = 2200
MAX_TITLE_PHOTO = 90
MAX_DESCRIPTION_PHOTO = 4000
VIDEO_BOOLEANS = (
    "disable_comment",
    "disable_duet",
    "disable_stitch",
    "brand_content_toggle",
    "brand_organic_toggle",
    "is_aigc",
)
PHOTO_BOOLEANS = (
    "disable_comment",
    "auto_add_music",
    "brand_content_toggle",
    "brand_organic_toggle",
)


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units, as TikTok counts captions."""
    return len(text.encode("utf-16-le")) // 2


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def chunk_plan_problem(source: dict) -> str | None:
    """Return why a FILE_UPLOAD chunk plan breaks TikTok's rules, or None."""
    size, chunk, count = (
        _int(source.get(k)) for k in ("video_size", "chunk_size", "total_chunk_count")
    )
    if size is None or chunk is None or count is None:
        return "video_size, chunk_size and total_chunk_count must be integers"
    if size <= 0 or size > MAX_VIDEO_BYTES:
        return "video_size must be between 1 byte and 4 GB"
    if size < MIN_CHUNK:
        if chunk != size or count != 1:
            return "a video under 5 MB is uploaded as one chunk with chunk_size equal to video_size"
        return None
    if not MIN_CHUNK <= chunk <= MAX_CHUNK:
        return f"chunk_size must be between {MIN_CHUNK} and {MAX_CHUNK} bytes"
    if count != size // chunk:
        return "total_chunk_count must equal floor(video_size / chunk_size)"
    if not 1 <= count <= MAX_CHUNKS:
        return "total_chunk_count must be between 1 and 1000"
    if size > MAX_CHUNK and count < 2:
        return f"a video over {MAX_CHUNK} bytes must be uploaded in more than one chunk"
    if size - (count - 1) * chunk > MAX_LAST_CHUNK:
        return "the last chunk may be at most 128 MB"
    return None


def chunk_bounds(size: int, chunk: int, count: int, index: int) -> tuple[int, int]:
    """Return the inclusive byte range of chunk `index` under a plan."""
    first = index * chunk
    last = size - 1 if index == count - 1 else first + chunk - 1
    return first, last


def post_info_problem(
    info, *, booleans, title_limit: int, description_limit: int | None = None, strict: bool = True
) -> str | None:
    """Return why post_info is malformed (not the privacy check), or None."""
    if not isinstance(info, dict):
        return "post_info must be an object"
    title = info.get("title", "")
    if not isinstance(title, str) or utf16_len(title) > title_limit:
        return f"title must be text of at most {title_limit} UTF-16 code units"
    if description_limit is not None:
        description = info.get("description", "")
        if not isinstance(description, str) or utf16_len(description) > description_limit:
            return f"description must be text of at most {description_limit} UTF-16 code units"
    for name in booleans:
        if name in info and not isinstance(info[name], bool):
            return f"{name} must be true or false"
        if strict and name not in info:
            return f"{name} is missing (the sandbox requires every boolean to be sent explicitly)"
    cover = info.get("video_cover_timestamp_ms")
    if cover is not None and (_int(cover) is None or cover < 0):
        return "video_cover_timestamp_ms must be a non-negative integer"
    if info.get("brand_content_toggle") and info.get("privacy_level") == "SELF_ONLY":
        return "branded content can't be private (SELF_ONLY)"
    return None


def on_verified_prefix(url, prefixes: list[str]) -> bool:
    """Tell whether url lies under one of the verified prefixes."""
    return isinstance(url, str) and any(url.startswith(p) for p in prefixes if p)
