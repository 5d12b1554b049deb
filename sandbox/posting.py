"""Content Posting API: creator_info, video/inbox/photo init, status fetch, cancel."""

from __future__ import annotations

import secrets
import time

from flask import Blueprint, request

from sandbox import processing, rules
from sandbox.common import bearer, cfg, fail, has_scope, ok, scope_error, state
from sandbox.state import PRIVATE_OPTIONS, PUBLIC_OPTIONS

bp = Blueprint("posting", __name__)

DAY = 86400


def privacy_options(creator: dict) -> list[str]:
    """Return the privacy levels a creator may choose."""
    return list(PRIVATE_OPTIONS if creator["private"] else PUBLIC_OPTIONS)


def _limited(record: dict, endpoint: str, limit_key: str):
    key = f"{endpoint}:{request.headers.get('Authorization', '')}"
    if not state().hit(key, cfg(limit_key)):
        return fail(
            "rate_limit_exceeded", "Too many requests for this access token; slow down.", 429
        )
    return None


def _body() -> dict | None:
    data = request.get_json(silent=True, force=True)
    return data if isinstance(data, dict) else None


@bp.route("/v2/post/publish/creator_info/query/", methods=["POST"])
def creator_info():
    """Describe what the creator may post right now."""
    record, error = bearer()
    if error:
        return error
    if not has_scope(record, "video.publish"):
        return scope_error("video.publish")
    limited = _limited(record, "creator_info", "RATE_CREATOR_INFO")
    if limited:
        return limited
    creator = state().creator_by_open_id(record["open_id"])
    data = {
        "creator_avatar_url": f"{request.host_url}_sandbox/avatar/{creator['username']}.svg",
        "creator_username": creator["username"],
        "creator_nickname": creator["nickname"],
        "privacy_level_options": privacy_options(creator),
        "comment_disabled": creator["comment_disabled"],
        "duet_disabled": creator["duet_disabled"],
        "stitch_disabled": creator["stitch_disabled"],
        "max_video_post_duration_sec": creator["max_video_post_duration_sec"],
    }
    if creator["cant_post"]:
        # TikTok reports "can't post now" with HTTP 200 and the reason in error.code, and may
        # leave `data` empty: the client must know who the account is without it.
        return fail(creator["cant_post"], "The creator can't make more posts right now.", 200)
    return ok(data)


def _record_init(endpoint: str, record: dict, body, result: str, publish_id: str = "") -> None:
    st = state()
    with st.lock:
        st.inits.append(
            {
                "endpoint": endpoint,
                "open_id": record["open_id"],
                "publish_id": publish_id,
                "post_info": (body or {}).get("post_info") if isinstance(body, dict) else None,
                "source_info": (body or {}).get("source_info") if isinstance(body, dict) else None,
                "result": result,
                "at": time.time(),
            }
        )
        st.save()


def _refuse(endpoint, record, body, code, message, status):
    _record_init(endpoint, record, body, code)
    return fail(code, message, status)


def _recent(open_id: str, mode: str) -> int:
    now = time.time()
    return sum(
        1
        for p in state().publishes.values()
        if p["open_id"] == open_id
        and p["mode"] == mode
        and now - p["created_at"] < DAY
        and p["status"] != "FAILED"
    )


def _policy_problem(creator: dict, post_info: dict, *, direct: bool) -> tuple[str, str, int] | None:
    """Return (code, message, status) when TikTok's posting policy refuses this post, else None."""
    if not direct:
        if _recent(creator["open_id"], "inbox") >= cfg("DAILY_PENDING_DRAFTS"):
            return (
                "spam_risk_too_many_pending_share",
                "The creator has too many pending drafts.",
                403,
            )
        return None
    privacy = post_info.get("privacy_level")
    if not privacy:
        return "invalid_params", "post_info.privacy_level is required.", 400
    if cfg("UNAUDITED") and not creator["private"]:
        return (
            "unaudited_client_can_only_post_to_private_accounts",
            "Unaudited clients can only post to private accounts.",
            403,
        )
    if privacy not in privacy_options(creator):
        return (
            "privacy_level_option_mismatch",
            "privacy_level is not one of the creator's privacy_level_options.",
            403,
        )
    if _recent(creator["open_id"], "direct") >= cfg("DAILY_DIRECT_POSTS"):
        return (
            "spam_risk_too_many_posts",
            "The creator has posted too much in the last 24 hours.",
            403,
        )
    return None


def _source_problem(source, *, photo: bool) -> tuple[str, str, int] | None:
    """Return (code, message, status) when source_info is refused, else None."""
    if not isinstance(source, dict):
        return "invalid_params", "source_info must be an object", 400
    kind = source.get("source")
    prefixes = [p.strip() for p in str(cfg("VERIFIED_URL_PREFIXES")).split(",") if p.strip()]
    if photo:
        if kind != "PULL_FROM_URL":
            return "invalid_params", "photos can only be posted with source PULL_FROM_URL", 400
        images = source.get("photo_images")
        if not isinstance(images, list) or not 1 <= len(images) <= 35:
            return "invalid_params", "photo_images must list 1 to 35 image URLs", 400
        cover = source.get("photo_cover_index", 0)
        if not isinstance(cover, int) or isinstance(cover, bool) or not 0 <= cover < len(images):
            return "invalid_params", "photo_cover_index is out of range", 400
        if not all(rules.on_verified_prefix(u, prefixes) for u in images):
            return (
                "url_ownership_unverified",
                "A photo URL is not on a verified domain or prefix.",
                403,
            )
        return None
    if kind == "FILE_UPLOAD":
        problem = rules.chunk_plan_problem(source)
        return ("invalid_params", problem, 400) if problem else None
    if kind == "PULL_FROM_URL":
        if not isinstance(source.get("video_url"), str):
            return "invalid_params", "video_url is required for PULL_FROM_URL", 400
        if not rules.on_verified_prefix(source["video_url"], prefixes):
            return (
                "url_ownership_unverified",
                "video_url is not on a verified domain or URL prefix.",
                403,
            )
        return None
    return "invalid_params", "source must be FILE_UPLOAD or PULL_FROM_URL", 400


def _create_publish(record, creator, *, kind, mode, source, post_info, prefix) -> dict:
    st = state()
    number = st.next_number()
    publish_id = f"{prefix}.{number}"
    privacy = (post_info or {}).get("privacy_level")
    if cfg("UNAUDITED") and mode == "direct":
        privacy = "SELF_ONLY"  # unaudited clients can only post privately
    publish = {
        "publish_id": publish_id,
        "open_id": creator["open_id"],
        "username": creator["username"],
        "kind": kind,
        "mode": mode,
        "source": source.get("source"),
        "source_info": source,
        "post_info": post_info or {},
        "privacy": privacy,
        "status": "PROCESSING_UPLOAD",
        "fail_reason": "",
        "received": 0,
        "downloaded": 0,
        "created_at": time.time(),
        "received_at": None,
        "public_post_id": None,
        "format_ok": None,
        "events": [],
        "total": source.get("video_size", 0),
        "upload_id": None,
    }
    result = {"publish_id": publish_id}
    if source.get("source") == "FILE_UPLOAD":
        upload_id = secrets.token_hex(12)
        token = secrets.token_urlsafe(16)
        publish.update(
            upload_id=upload_id,
            upload_token=token,
            upload_expires_at=time.time() + cfg("UPLOAD_URL_TTL"),
            chunk_size=source["chunk_size"],
            chunk_count=source["total_chunk_count"],
        )
        base = (cfg("UPLOAD_BASE_URL") or request.host_url).rstrip("/")
        result["upload_url"] = f"{base}/upload/{upload_id}/?upload_token={token}"
        st.uploads[upload_id] = publish_id
    else:
        publish["status"] = "PROCESSING_DOWNLOAD"
    st.publishes[publish_id] = publish
    st.save()
    if publish["status"] == "PROCESSING_DOWNLOAD":
        processing.start_pull(publish_id)
    return result


def _video_init(endpoint: str, *, inbox: bool):
    record, error = bearer()
    if error:
        return error
    scope = "video.upload" if inbox else "video.publish"
    if not has_scope(record, scope):
        return scope_error(scope)
    limited = _limited(record, endpoint, "RATE_INIT")
    if limited:
        _record_init(endpoint, record, None, "rate_limit_exceeded")
        return limited
    body = _body()
    if body is None:
        return _refuse(
            endpoint, record, body, "invalid_params", "The request body must be JSON.", 400
        )
    creator = state().creator_by_open_id(record["open_id"])
    if creator["cant_post"]:
        return _refuse(
            endpoint, record, body, creator["cant_post"], "The creator can't post right now.", 403
        )
    post_info = body.get("post_info")
    if not inbox:
        problem = rules.post_info_problem(
            post_info,
            booleans=rules.VIDEO_BOOLEANS,
            title_limit=rules.MAX_TITLE_VIDEO,
            strict=cfg("STRICT"),
        )
        if problem:
            return _refuse(endpoint, record, body, "invalid_params", problem, 400)
    policy = _policy_problem(creator, post_info, direct=not inbox)
    if policy:
        return _refuse(endpoint, record, body, *policy)
    source_problem = _source_problem(body.get("source_info"), photo=False)
    if source_problem:
        return _refuse(endpoint, record, body, *source_problem)
    source = body["source_info"]
    pull = source["source"] == "PULL_FROM_URL"
    prefix = (
        ("v_inbox_url~v2.1" if pull else "v_inbox_file~v2.1")
        if inbox
        else ("v_pub_url~v2-1" if pull else "v_pub_file~v2-1")
    )
    result = _create_publish(
        record,
        creator,
        kind="video",
        mode="inbox" if inbox else "direct",
        source=source,
        post_info=None if inbox else post_info,
        prefix=prefix,
    )
    _record_init(endpoint, record, body, "ok", result["publish_id"])
    return ok(result)


@bp.route("/v2/post/publish/video/init/", methods=["POST"])
def video_init():
    """Start a Direct Post of a video."""
    return _video_init("video_init", inbox=False)


@bp.route("/v2/post/publish/inbox/video/init/", methods=["POST"])
def inbox_init():
    """Send a video to the creator's inbox as a draft."""
    return _video_init("inbox_init", inbox=True)


@bp.route("/v2/post/publish/content/init/", methods=["POST"])
def content_init():
    """Start a photo post (Direct Post or a draft)."""
    endpoint = "content_init"
    record, error = bearer()
    if error:
        return error
    body = _body()
    mode = (body or {}).get("post_mode")
    scope = "video.upload" if mode == "MEDIA_UPLOAD" else "video.publish"
    if not has_scope(record, scope):
        return scope_error(scope)
    limited = _limited(record, endpoint, "RATE_INIT")
    if limited:
        _record_init(endpoint, record, None, "rate_limit_exceeded")
        return limited
    if body is None:
        return _refuse(
            endpoint, record, body, "invalid_params", "The request body must be JSON.", 400
        )
    if body.get("media_type") != "PHOTO" or mode not in {"DIRECT_POST", "MEDIA_UPLOAD"}:
        return _refuse(
            endpoint,
            record,
            body,
            "invalid_params",
            "media_type must be PHOTO and post_mode DIRECT_POST or MEDIA_UPLOAD.",
            400,
        )
    creator = state().creator_by_open_id(record["open_id"])
    if creator["cant_post"]:
        return _refuse(
            endpoint, record, body, creator["cant_post"], "The creator can't post right now.", 403
        )
    post_info = body.get("post_info") or {}
    direct = mode == "DIRECT_POST"
    if any(k in post_info for k in ("disable_duet", "disable_stitch")):
        return _refuse(
            endpoint, record, body, "invalid_params", "Photo posts have no duet or stitch.", 400
        )
    problem = rules.post_info_problem(
        post_info,
        booleans=rules.PHOTO_BOOLEANS if direct else (),
        title_limit=rules.MAX_TITLE_PHOTO,
        description_limit=rules.MAX_DESCRIPTION_PHOTO,
        strict=cfg("STRICT") and direct,
    )
    if problem:
        return _refuse(endpoint, record, body, "invalid_params", problem, 400)
    policy = _policy_problem(creator, post_info, direct=direct)
    if policy:
        return _refuse(endpoint, record, body, *policy)
    source_problem = _source_problem(body.get("source_info"), photo=True)
    if source_problem:
        return _refuse(endpoint, record, body, *source_problem)
    result = _create_publish(
        record,
        creator,
        kind="photo",
        mode="direct" if direct else "inbox",
        source=body["source_info"],
        post_info=post_info if direct else None,
        prefix="p_pub_url~v2" if direct else "p_inbox_url~v2",
    )
    _record_init(endpoint, record, body, "ok", result["publish_id"])
    return ok(result)


def _publish_for(record: dict):
    body = _body() or {}
    publish = state().publishes.get(str(body.get("publish_id", "")))
    if publish is None:
        return None, fail("invalid_publish_id", "publish_id is not valid.", 400)
    if publish["open_id"] != record["open_id"]:
        return None, fail(
            "token_not_authorized_for_specified_publish_id",
            "This access token may not read this publish_id.",
            400,
        )
    return publish, None


@bp.route("/v2/post/publish/status/fetch/", methods=["POST"])
def status_fetch():
    """Report where a publish stands."""
    record, error = bearer()
    if error:
        return error
    if not (has_scope(record, "video.publish") or has_scope(record, "video.upload")):
        return scope_error("video.publish")
    limited = _limited(record, "status", "RATE_STATUS")
    if limited:
        return limited
    publish, error = _publish_for(record)
    if error:
        return error
    processing.advance(publish)
    data = {
        "status": publish["status"],
        "uploaded_bytes": publish["received"],
        "downloaded_bytes": publish["downloaded"],
    }
    if publish["status"] == "FAILED":
        data["fail_reason"] = publish["fail_reason"]
    if publish["status"] == "PUBLISH_COMPLETE":
        data["publicaly_available_post_id"] = (
            [publish["public_post_id"]] if publish["public_post_id"] else []
        )
    return ok(data)


@bp.route("/v2/post/publish/cancel/", methods=["POST"])
def cancel():
    """Cancel a PULL_FROM_URL download that is still running."""
    record, error = bearer()
    if error:
        return error
    publish, error = _publish_for(record)
    if error:
        return error
    processing.advance(publish)
    if publish["status"] != "PROCESSING_DOWNLOAD":
        return fail(
            "publish_not_cancellable", "Only a download still in progress can be cancelled.", 400
        )
    processing.finish(publish, failed="publish_cancelled")
    return ok({})
