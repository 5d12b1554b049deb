"""The chunked upload: PUT {upload_url} with TikTok's exact chunk rules and replies."""

from __future__ import annotations

import hashlib
import re
import time

from flask import Blueprint, jsonify, request

from sandbox import media, processing, rules
from sandbox.common import log_id, state

bp = Blueprint("upload", __name__)

CONTENT_TYPES = {"video/mp4", "video/quicktime", "video/webm"}
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
# Running hashes of uploads in progress (not persisted: an interrupted upload restarts its hash).
_hashers: dict[str, hashlib._Hash] = {}


def _progress(publish: dict) -> str:
    received, total = publish["received"], publish["total"]
    # Nothing yet: "bytes */TOTAL" (RFC 9110's form for "no range"); else the bytes held so far.
    return f"bytes 0-{received - 1}/{total}" if received else f"bytes */{total}"


# TikTok's own codes (tiktok-api.md 2) for the statuses of 3.3: a refused URL credential is an
# invalid token, anything else the client got wrong is invalid_params.
_CODES = {
    400: "invalid_params",
    403: "access_token_invalid",
    404: "invalid_params",
    416: "invalid_params",
}


def _reply(publish: dict | None, status: int, message: str = ""):
    code = "ok" if status in (201, 206) else _CODES.get(status, "internal_error")
    body = {"data": {}, "error": {"code": code, "message": message, "log_id": log_id()}}
    response = jsonify(body)
    response.status_code = status
    if publish is not None:
        response.headers["Content-Range"] = _progress(publish)
    return response


def _drain() -> None:
    # Read what the client sent so the connection stays usable after an early refusal.
    while request.stream.read(1 << 20):
        pass


@bp.route("/upload/<upload_id>/", methods=["PUT"])
def put_chunk(upload_id: str):
    """Accept one chunk, strictly in order."""
    st = state()
    publish_id = st.uploads.get(upload_id)
    if publish_id is None:
        _drain()
        return _reply(None, 404, "No upload at this URL.")
    publish = st.publishes[publish_id]
    if request.args.get("upload_token") != publish["upload_token"]:
        _drain()
        return _reply(publish, 403, "The upload token is not valid.")
    if time.time() > publish["upload_expires_at"]:
        _drain()
        return _reply(publish, 403, "The upload URL has expired (it is valid for one hour).")
    if request.headers.get("Content-Type", "").split(";")[0].strip() not in CONTENT_TYPES:
        _drain()
        return _reply(
            publish, 400, "Content-Type must be video/mp4, video/quicktime or video/webm."
        )
    match = _RANGE.match(request.headers.get("Content-Range", ""))
    length = request.content_length
    if not match or length is None:
        _drain()
        return _reply(
            publish, 400, "Content-Range (bytes FIRST-LAST/TOTAL) and Content-Length are required."
        )
    first, last, total = (int(g) for g in match.groups())
    if total != publish["total"] or last < first or length != last - first + 1:
        _drain()
        return _reply(publish, 400, "Content-Range or Content-Length does not match the video.")
    size, chunk, count = publish["total"], publish["chunk_size"], publish["chunk_count"]
    index = min(first // chunk, count - 1)
    if (first, last) != rules.chunk_bounds(size, chunk, count, index):
        _drain()
        return _reply(publish, 400, "This range is not one of the chunks declared at init.")
    with st.lock:
        received = publish["received"]
        if last < received:
            # A chunk we already hold, re-sent after a lost reply: acknowledge, change nothing.
            _drain()
            return _reply(publish, 201 if received == size else 206)
        if first != received or publish.get("receiving"):
            _drain()
            return _reply(
                publish, 416, "Chunks must arrive in order; Content-Range shows what arrived."
            )
        publish["receiving"] = True
    spool = media.spool_path(publish_id, st.path)
    try:
        # Read outside the lock: a 64 MB chunk must not stall every other request.
        hasher = _hashers.setdefault(publish_id, hashlib.sha256()).copy()
        count_in, head = 0, b""
        while piece := request.stream.read(1 << 20):
            if first == 0 and len(head) < 16:
                head += piece[: 16 - len(head)]
            hasher.update(piece)
            media.keep(spool, size, first + count_in, piece)
            count_in += len(piece)
    finally:
        publish["receiving"] = False
    if count_in != length:
        return _reply(publish, 400, "The body is shorter than Content-Length.")
    with st.lock:
        _hashers[publish_id] = hasher
        if first == 0:
            publish["format_ok"] = processing.looks_like_video(head)
        publish["received"] = last + 1
        if publish["received"] != size:
            st.save()
            return _reply(publish, 206)
        publish["sha256"] = _hashers.pop(publish_id).hexdigest()
    # Every byte is here: TikTok checks the video (outside the lock: ffmpeg takes a moment).
    media.finish_spool(spool, size)
    creator = st.creator_by_open_id(publish["open_id"]) or {}
    publish["check_failed"] = media.check_and_forget(
        spool, creator.get("max_video_post_duration_sec", 0)
    )
    processing.finish(publish)
    return _reply(publish, 201)
