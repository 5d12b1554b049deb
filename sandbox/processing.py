"""What happens to a publish after init: bytes arrive or are pulled, TikTok processes, moderates."""

from __future__ import annotations

import threading
import time

import requests
from flask import current_app

from sandbox import media
from sandbox.common import cfg, state
from sandbox.webhooks import send_event

VIDEO_MAGIC_OFFSET = 4  # MP4/MOV: "ftyp" at byte 4


def looks_like_video(head: bytes) -> bool:
    """Tell whether the first bytes are an MP4/MOV or WebM container."""
    return (
        head[VIDEO_MAGIC_OFFSET : VIDEO_MAGIC_OFFSET + 4] == b"ftyp"
        or head[:4] == b"\x1a\x45\xdf\xa3"
    )


def image_size(data: bytes) -> tuple[str, int, int] | None:
    """Return (format, width, height) of a JPEG or WebP image, or None."""
    if data[:3] == b"\xff\xd8\xff":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            if marker in {
                0xC0,
                0xC1,
                0xC2,
                0xC3,
                0xC5,
                0xC6,
                0xC7,
                0xC9,
                0xCA,
                0xCB,
                0xCD,
                0xCE,
                0xCF,
            }:
                height = int.from_bytes(data[i + 5 : i + 7], "big")
                width = int.from_bytes(data[i + 7 : i + 9], "big")
                return "jpeg", width, height
            i += 2 + length
        return None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        chunk = data[12:16]
        if chunk == b"VP8 " and len(data) >= 30:
            return (
                "webp",
                int.from_bytes(data[26:28], "little") & 0x3FFF,
                int.from_bytes(data[28:30], "little") & 0x3FFF,
            )
        if chunk == b"VP8L" and len(data) >= 25:
            bits = int.from_bytes(data[21:25], "little")
            return "webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X" and len(data) >= 30:
            return (
                "webp",
                int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1,
            )
    return None


def finish(publish: dict, *, failed: str = "") -> None:
    """Mark the bytes as all there (processing starts), or the publish as failed."""
    st = state()
    with st.lock:
        if failed:
            publish["status"] = "FAILED"
            publish["fail_reason"] = failed
            st.save()
            send_event(
                "post.publish.failed",
                publish["open_id"],
                {
                    "publish_id": publish["publish_id"],
                    "reason": failed,
                    "publish_type": _publish_type(publish),
                },
            )
            return
        publish["received_at"] = time.time()
        publish["status"] = (
            "PROCESSING_UPLOAD" if publish["source"] == "FILE_UPLOAD" else "PROCESSING_DOWNLOAD"
        )
        st.save()


def _publish_type(publish: dict) -> str:
    return "INBOX_SHARE" if publish["mode"] == "inbox" else "DIRECT_PUBLISH"


def advance(publish: dict) -> None:
    """Move a publish along the timeline that its timestamps imply, firing webhooks on the way."""
    st = state()
    with st.lock:
        if publish["status"] == "FAILED" or publish["received_at"] is None:
            return
        now = time.time()
        done_at = publish["received_at"] + cfg("PROCESSING_SECONDS")
        if now < done_at:
            return
        changed = False
        if publish["status"] in {"PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"}:
            failed = publish.get("check_failed") or (
                "file_format_check_failed"
                if publish["source"] == "FILE_UPLOAD" and publish["format_ok"] is False
                else ""
            )
            if failed:
                st.save()
                finish(publish, failed=failed)
                return
            changed = True
            if publish["mode"] == "inbox":
                publish["status"] = "SEND_TO_USER_INBOX"
                send_event(
                    "post.publish.inbox_delivered",
                    publish["open_id"],
                    {"publish_id": publish["publish_id"], "publish_type": "INBOX_SHARE"},
                )
            else:
                publish["status"] = "PUBLISH_COMPLETE"
                send_event(
                    "post.publish.complete",
                    publish["open_id"],
                    {"publish_id": publish["publish_id"], "publish_type": "DIRECT_PUBLISH"},
                )
        if (
            publish["status"] == "PUBLISH_COMPLETE"
            and publish["privacy"] == "PUBLIC_TO_EVERYONE"
            and not publish["public_post_id"]
            and now >= done_at + cfg("MODERATION_SECONDS")
        ):
            # An int64, as TikTok's docs type publicaly_available_post_id.
            publish["public_post_id"] = 7_300_000_000_000_000_000 + st.next_number() % 10**15
            changed = True
            send_event(
                "post.publish.publicly_available",
                publish["open_id"],
                {
                    "publish_id": publish["publish_id"],
                    "post_id": str(publish["public_post_id"]),
                    "publish_type": "DIRECT_PUBLISH",
                },
            )
        if changed:
            st.save()


def advance_all() -> None:
    """Advance every publish still on its way."""
    for publish in list(state().publishes.values()):
        if publish["status"] not in {"FAILED", "SEND_TO_USER_INBOX"} and not publish.get(
            "public_post_id"
        ):
            advance(publish)


def _pull(app, publish_id: str) -> None:
    with app.app_context():
        publish = state().publishes[publish_id]
        spool = None if publish["kind"] == "photo" else media.spool_path(publish_id, state().path)
        try:
            _download(publish, spool)
        finally:
            if spool is not None:
                spool.unlink(missing_ok=True)  # a failed or cancelled pull leaves nothing behind


def _download(publish: dict, spool) -> None:
    """Fetch a pulled publish's media, check it as TikTok would, and finish the publish."""
    source = publish["source_info"]
    urls = source.get("photo_images") or [source.get("video_url")]
    reason = "photo_pull_failed" if publish["kind"] == "photo" else "video_pull_failed"
    total = 0
    for url in urls:
        try:
            response = requests.get(url, stream=True, timeout=(5, 30), allow_redirects=False)
            if response.status_code != 200:
                finish(publish, failed=reason)
                return
            head, size, tail = b"", 0, bytearray()
            for piece in response.iter_content(1 << 16):
                if publish["status"] == "FAILED":  # cancelled meanwhile
                    return
                if len(head) < 65536:
                    head += piece[: 65536 - len(head)]
                if spool is not None:
                    # The size is unknown until the end: keep the head now, the tail last.
                    media.write_at(spool, size, piece[: max(0, media.HEAD - size)])
                    tail += piece
                    del tail[: -media.TAIL]
                size += len(piece)
                publish["downloaded"] = total + size
        except requests.RequestException:
            finish(publish, failed=reason)
            return
        total += size
        if publish["kind"] == "photo":
            info = image_size(head)
            if info is None:
                finish(publish, failed="file_format_check_failed")
                return
            if max(info[1], info[2]) > 1080 or size > 20 * 1024 * 1024:
                finish(publish, failed="picture_size_check_failed")
                return
        elif not looks_like_video(head):
            finish(publish, failed="file_format_check_failed")
            return
        else:
            media.write_at(spool, size - len(tail), bytes(tail))
            media.finish_spool(spool, size)
            creator = state().creator_by_open_id(publish["open_id"]) or {}
            failed = media.check_and_forget(spool, creator.get("max_video_post_duration_sec", 0))
            if failed:
                finish(publish, failed=failed)
                return
    publish["total"] = total
    finish(publish)


def start_pull(publish_id: str) -> None:
    """Download a PULL_FROM_URL publish's media in the background."""
    app = current_app._get_current_object()
    threading.Thread(target=_pull, args=(app, publish_id), daemon=True).start()


def start_ticker(app) -> None:
    """Advance publishes every 200 ms so webhooks fire without anyone polling."""

    def run() -> None:
        while True:
            time.sleep(0.2)
            try:
                with app.app_context():
                    advance_all()
            except Exception:  # noqa: BLE001 - the ticker must never die
                app.logger.exception("sandbox ticker")

    threading.Thread(target=run, daemon=True, name="sandbox-ticker").start()
