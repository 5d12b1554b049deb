"""Content Posting as tiktok-api.md §3 describes it: creator_info, inits, chunked upload, status."""

from __future__ import annotations

import functools
import http.server
import re
import threading
import time
from functools import partial

import pytest
import requests

from tests.sandbox.conftest import api, tokens_for

# Run once, not in both passes: these tests talk to the sandbox over HTTP and never open
# Cadence's database, so the engine can't change their outcome.
pytestmark = pytest.mark.engine_independent

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
MB5 = 5_242_880

POST_INFO = {
    "privacy_level": "PUBLIC_TO_EVERYONE",
    "title": "Hello #sandbox",
    "disable_comment": False,
    "disable_duet": False,
    "disable_stitch": False,
    "brand_content_toggle": False,
    "brand_organic_toggle": False,
    "is_aigc": False,
}


def file_source(size, chunk=None, count=None):
    chunk = chunk or size
    return {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": chunk,
        "total_chunk_count": count if count is not None else max(1, size // chunk),
    }


def video_init(sandbox, token, post_info=None, source=None):
    return api(
        sandbox,
        "/v2/post/publish/video/init/",
        token,
        {"post_info": post_info or POST_INFO, "source_info": source or file_source(1000)},
    )


def put(url, first, last, total, data, ctype="video/mp4"):
    return requests.put(
        url,
        data=data,
        timeout=30,
        headers={"Content-Type": ctype, "Content-Range": f"bytes {first}-{last}/{total}"},
    )


@functools.cache
def clip(size="360x640", rate=30, seconds=1, ext="mp4") -> bytes:
    """Return a real, tiny H.264 MP4 (or VP9 WebM) clip made by ffmpeg."""
    import subprocess
    import tempfile

    import imageio_ffmpeg

    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/clip.{ext}"
        codec = ["-c:v", "libx264", "-pix_fmt", "yuv420p"] if ext == "mp4" else ["-c:v", "libvpx"]
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i"]
            + [f"color=c=black:size={size}:rate={rate}:duration={seconds}", *codec, path],
            check=True,
            timeout=60,
        )
        with open(path, "rb") as handle:
            return handle.read()


def small_video(size=None):
    """Return a real video of (at least) `size` bytes: a tiny clip padded with zeros."""
    data = clip()
    return data + b"\0" * max(0, (size or 0) - len(data))


def wait_status(sandbox, token, publish_id, want, seconds=5):
    deadline = time.monotonic() + seconds
    while True:
        data = api(
            sandbox, "/v2/post/publish/status/fetch/", token, {"publish_id": publish_id}
        ).json()["data"]
        if data["status"] == want or time.monotonic() > deadline:
            return data
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("creator", "options", "disabled", "max_sec"),
    [
        (
            "maya.rivers",
            ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
            (False, False, False),
            600,
        ),
        (
            "kenji.private",
            ["FOLLOWER_OF_CREATOR", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
            (False, True, True),
            300,
        ),
        (
            "lena.quiet",
            ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
            (True, False, False),
            60,
        ),
    ],
)
def test_creator_info_per_demo_creator(sandbox, creator, options, disabled, max_sec):
    token = tokens_for(sandbox, creator)["access_token"]
    reply = api(sandbox, "/v2/post/publish/creator_info/query/", token)
    assert reply.status_code == 200
    body = reply.json()
    assert body["error"]["code"] == "ok"
    data = body["data"]
    assert data["creator_username"] == creator and data["creator_nickname"]
    assert data["privacy_level_options"] == options
    assert (data["comment_disabled"], data["duet_disabled"], data["stitch_disabled"]) == disabled
    assert data["max_video_post_duration_sec"] == max_sec


def test_cant_post_now_is_http_200_with_the_error_code(sandbox):
    token = tokens_for(sandbox, "omar.paused")["access_token"]
    reply = api(sandbox, "/v2/post/publish/creator_info/query/", token)
    assert reply.status_code == 200
    assert reply.json()["error"]["code"] == "spam_risk_too_many_posts"
    assert reply.json()["data"] == {}  # nothing about the creator: the client must know them
    init = video_init(sandbox, token)
    assert init.status_code == 403 and init.json()["error"]["code"] == "spam_risk_too_many_posts"


def test_creator_info_needs_video_publish(sandbox):
    token = tokens_for(sandbox, scopes="user.info.basic,video.upload")["access_token"]
    reply = api(sandbox, "/v2/post/publish/creator_info/query/", token)
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "scope_not_authorized"


@pytest.mark.parametrize(
    ("post_info", "source", "status", "code"),
    [
        (
            {**POST_INFO, "privacy_level": "FOLLOWER_OF_CREATOR"},
            None,
            403,
            "privacy_level_option_mismatch",
        ),
        ({k: v for k, v in POST_INFO.items() if k != "privacy_level"}, None, 400, "invalid_params"),
        ({**POST_INFO, "title": "😀" * 1101}, None, 400, "invalid_params"),  # 2202 UTF-16 units
        ({k: v for k, v in POST_INFO.items() if k != "is_aigc"}, None, 400, "invalid_params"),
        (
            {**POST_INFO, "privacy_level": "SELF_ONLY", "brand_content_toggle": True},
            None,
            400,
            "invalid_params",
        ),
        (
            None,
            {"source": "FILE_UPLOAD", "video_size": 0, "chunk_size": 0, "total_chunk_count": 1},
            400,
            "invalid_params",
        ),
        (None, file_source(5 * 1024**3, 64_000_000, 83), 400, "invalid_params"),
        (
            None,
            file_source(4_000_000, 1_000_000, 4),
            400,
            "invalid_params",
        ),  # < 5 MB must be one chunk
        (
            None,
            file_source(50_000_123, 10_000_000, 6),
            400,
            "invalid_params",
        ),  # count must be floor()
        (None, file_source(50_000_123, 4_000_000, 12), 400, "invalid_params"),  # chunk below 5 MB
        (None, file_source(200_000_000, 65_000_000, 3), 400, "invalid_params"),  # chunk above 64 MB
        (
            None,
            {"source": "PULL_FROM_URL", "video_url": "https://unverified.example/v.mp4"},
            403,
            "url_ownership_unverified",
        ),
        (None, {"source": "CARRIER_PIGEON"}, 400, "invalid_params"),
    ],
)
def test_video_init_errors(sandbox, post_info, source, status, code):
    token = tokens_for(sandbox)["access_token"]
    reply = video_init(sandbox, token, post_info, source)
    assert reply.status_code == status, reply.text
    assert reply.json()["error"]["code"] == code
    witness = sandbox.control("state")["inits"]
    assert witness[-1]["result"] == code


@pytest.mark.parametrize(
    ("size", "chunk", "count"),
    [
        (64_000_001, 64_000_000, 1),  # the old plan: one 64 MB chunk, a "last" chunk of 64 MB + 1
        (100_000_000, 64_000_000, 1),
        (128_000_000, 128_000_000, 1),
        (100_000_000, 100_000_000, 1),
    ],
)
def test_a_video_over_64_mb_in_one_chunk_is_refused_at_init(sandbox, size, chunk, count):
    token = tokens_for(sandbox)["access_token"]
    reply = video_init(sandbox, token, source=file_source(size, chunk, count))
    assert reply.status_code == 400, reply.text
    body = reply.json()
    assert body["error"]["code"] == "invalid_params"
    assert body["error"]["message"] and body["error"]["log_id"] and body["data"] == {}
    assert sandbox.control("state")["inits"][-1]["result"] == "invalid_params"


@pytest.mark.parametrize(
    ("size", "chunk", "count"),
    [
        (64_000_000, 64_000_000, 1),
        (64_000_001, 32_000_000, 2),
        (100_000_000, 50_000_000, 2),
        (128_000_000, 64_000_000, 2),
        (4 * 1024**3, 64_000_000, 67),
    ],
)
def test_chunk_plans_for_large_videos_are_accepted(sandbox, size, chunk, count):
    token = tokens_for(sandbox)["access_token"]
    reply = video_init(sandbox, token, source=file_source(size, chunk, count))
    assert reply.status_code == 200, reply.text
    assert reply.json()["error"]["code"] == "ok"


def test_title_of_exactly_2200_utf16_units_is_accepted(sandbox):
    token = tokens_for(sandbox)["access_token"]
    reply = video_init(sandbox, token, {**POST_INFO, "title": "😀" * 1100})
    assert reply.status_code == 200 and reply.json()["error"]["code"] == "ok"


def test_bad_json_is_invalid_params(sandbox):
    token = tokens_for(sandbox)["access_token"]
    reply = requests.post(
        f"{sandbox.url}/v2/post/publish/video/init/",
        data="{not json",
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "invalid_params"


def test_tiktoks_worked_example_uploads_in_five_chunks(sandbox):
    size, chunk = 50_000_123, 10_000_000
    token = tokens_for(sandbox)["access_token"]
    reply = video_init(sandbox, token, source=file_source(size, chunk, 5))
    assert reply.status_code == 200
    data = reply.json()["data"]
    assert data["publish_id"].startswith("v_pub_file~v2-1.") and len(data["publish_id"]) <= 64
    url = data["upload_url"]
    video = small_video(size)
    for index in range(4):
        first = index * chunk
        reply = put(url, first, first + chunk - 1, size, video[first : first + chunk])
        assert reply.status_code == 206
        assert reply.headers["Content-Range"] == f"bytes 0-{first + chunk - 1}/{size}"
    last = put(url, 40_000_000, 50_000_122, size, video[40_000_000:])
    assert last.status_code == 201
    assert last.headers["Content-Range"] == f"bytes 0-50000122/{size}"
    done = wait_status(sandbox, token, data["publish_id"], "PUBLISH_COMPLETE")
    assert done["uploaded_bytes"] == size


def test_out_of_order_chunk_gets_416_with_progress(sandbox):
    size, chunk = 12_000_000, 6_000_000
    token = tokens_for(sandbox)["access_token"]
    url = video_init(sandbox, token, source=file_source(size, chunk, 2)).json()["data"][
        "upload_url"
    ]
    early = put(url, 6_000_000, 11_999_999, size, b"\x00" * 6_000_000)
    assert early.status_code == 416
    assert early.headers["Content-Range"] == f"bytes */{size}"
    assert (
        put(url, 0, 5_999_999, size, MP4_HEAD + b"\x00" * (chunk - len(MP4_HEAD))).status_code
        == 206
    )
    resent = put(url, 0, 5_999_999, size, MP4_HEAD + b"\x00" * (chunk - len(MP4_HEAD)))
    assert (
        resent.status_code == 206
    )  # a repeat of a chunk already held is acknowledged, not re-counted
    assert resent.headers["Content-Range"] == f"bytes 0-5999999/{size}"


@pytest.mark.parametrize(
    ("headers_change", "status"),
    [
        ({"ctype": "application/octet-stream"}, 400),
        ({"last": 500}, 400),  # Content-Range says 501 bytes but 1000 are sent
        ({"total": 999}, 400),
    ],
)
def test_bad_upload_headers_get_400(sandbox, headers_change, status):
    token = tokens_for(sandbox)["access_token"]
    url = video_init(sandbox, token).json()["data"]["upload_url"]
    reply = put(
        url,
        0,
        headers_change.get("last", 999),
        headers_change.get("total", 1000),
        small_video(),
        headers_change.get("ctype", "video/mp4"),
    )
    assert reply.status_code == status


def test_unknown_upload_is_404_and_wrong_token_403(sandbox):
    token = tokens_for(sandbox)["access_token"]
    url = video_init(sandbox, token).json()["data"]["upload_url"]
    assert (
        put(url.replace("/upload/", "/upload/ff"), 0, 999, 1000, small_video()).status_code == 404
    )
    assert (
        put(url.split("?")[0] + "?upload_token=wrong", 0, 999, 1000, small_video()).status_code
        == 403
    )


def test_expired_upload_url_is_403():
    from sandbox.runner import SandboxProcess

    with SandboxProcess(env={"SANDBOX_UPLOAD_URL_TTL": "0"}) as short:
        token = tokens_for(short)["access_token"]
        url = video_init(short, token).json()["data"]["upload_url"]
        time.sleep(0.05)
        assert put(url, 0, 999, 1000, small_video()).status_code == 403


def upload_small(sandbox, token, post_info=None, data=None):
    payload = data or small_video()
    reply = video_init(sandbox, token, post_info, file_source(len(payload)))
    body = reply.json()["data"]
    assert put(body["upload_url"], 0, len(payload) - 1, len(payload), payload).status_code == 201
    return body["publish_id"]


def test_status_moves_from_processing_to_complete_with_a_public_id(sandbox):
    token = tokens_for(sandbox)["access_token"]
    publish_id = upload_small(sandbox, token)
    first = api(
        sandbox, "/v2/post/publish/status/fetch/", token, {"publish_id": publish_id}
    ).json()["data"]
    assert first["status"] == "PROCESSING_UPLOAD" and first["uploaded_bytes"] == len(small_video())
    complete = wait_status(sandbox, token, publish_id, "PUBLISH_COMPLETE")
    assert complete["status"] == "PUBLISH_COMPLETE"
    time.sleep(0.5)
    later = api(
        sandbox, "/v2/post/publish/status/fetch/", token, {"publish_id": publish_id}
    ).json()["data"]
    [post_id] = later["publicaly_available_post_id"]
    assert isinstance(post_id, int) and 0 < post_id < 2**63  # an int64, as TikTok's docs type it
    page = requests.get(f"{sandbox.url}/@maya.rivers/video/{post_id}", timeout=10)
    assert page.status_code == 200 and "Hello #sandbox" in page.text


def test_self_only_posts_never_get_a_public_id(sandbox):
    token = tokens_for(sandbox)["access_token"]
    publish_id = upload_small(sandbox, token, {**POST_INFO, "privacy_level": "SELF_ONLY"})
    wait_status(sandbox, token, publish_id, "PUBLISH_COMPLETE")
    time.sleep(0.6)
    data = api(sandbox, "/v2/post/publish/status/fetch/", token, {"publish_id": publish_id}).json()[
        "data"
    ]
    assert data["status"] == "PUBLISH_COMPLETE" and data["publicaly_available_post_id"] == []


def test_the_profile_page_lists_published_posts_with_private_ones_marked(sandbox):
    token = tokens_for(sandbox)["access_token"]
    public = upload_small(sandbox, token, {**POST_INFO, "title": "Open to all"})
    private = upload_small(sandbox, token, {**POST_INFO, "privacy_level": "SELF_ONLY"})
    for publish_id in (public, private):
        wait_status(sandbox, token, publish_id, "PUBLISH_COMPLETE")
    page = requests.get(f"{sandbox.url}/@maya.rivers", timeout=10)
    assert page.status_code == 200
    items = {
        m.group(1): m.group(2)
        for m in re.finditer(r'<li data-publish-id="([^"]+)"(.*?)</li>', page.text, re.S)
    }
    assert set(items) == {public, private}
    assert "Only me (private)" in items[private] and "Hello #sandbox" in items[private]
    assert "Everyone" in items[public] and "(private)" not in items[public]
    assert requests.get(f"{sandbox.url}/@nobody.here", timeout=10).status_code == 404


def test_a_file_that_is_not_a_video_fails_the_format_check(sandbox):
    token = tokens_for(sandbox)["access_token"]
    publish_id = upload_small(sandbox, token, data=b"just some text, renamed to .mp4" * 10)
    data = wait_status(sandbox, token, publish_id, "FAILED")
    assert data["fail_reason"] == "file_format_check_failed"


@pytest.mark.parametrize(
    ("video", "max_duration", "reason"),
    [
        ({"rate": 20}, None, "frame_rate_check_failed"),
        ({"rate": 90}, None, "frame_rate_check_failed"),
        ({"size": "320x640"}, None, "file_format_check_failed"),  # a side under 360 px
        ({"size": "360x4100"}, None, "file_format_check_failed"),  # a side over 4096 px
        ({"seconds": 3}, 2, "duration_check_failed"),  # longer than the creator's maximum
        ({"seconds": 2}, 2, None),
        ({"rate": 23, "ext": "webm"}, None, None),
        ({"rate": 60}, None, None),
    ],
)
def test_uploaded_videos_are_checked_like_tiktok_does(sandbox, video, max_duration, reason):
    if max_duration:
        sandbox.control("creators/maya.rivers", {"max_video_post_duration_sec": max_duration})
    token = tokens_for(sandbox)["access_token"]
    payload = clip(**video)
    publish_id = upload_small(sandbox, token, data=payload)
    data = wait_status(sandbox, token, publish_id, "FAILED" if reason else "PUBLISH_COMPLETE")
    assert data["status"] == ("FAILED" if reason else "PUBLISH_COMPLETE"), data
    assert data.get("fail_reason") == reason


def test_a_large_upload_is_checked_from_its_head_and_tail(sandbox):
    size, chunk = 70_000_000, 35_000_000  # the clip's moov atom sits at its end, before padding
    token = tokens_for(sandbox)["access_token"]
    sandbox.control("creators/maya.rivers", {"max_video_post_duration_sec": 1})
    body = video_init(sandbox, token, source=file_source(size, chunk, 2)).json()["data"]
    video = clip(seconds=2) + b"\0" * (size - len(clip(seconds=2)))
    assert put(body["upload_url"], 0, chunk - 1, size, video[:chunk]).status_code == 206
    assert put(body["upload_url"], chunk, size - 1, size, video[chunk:]).status_code == 201
    data = wait_status(sandbox, token, body["publish_id"], "FAILED")
    assert data["fail_reason"] == "duration_check_failed"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ("content_type", 400, "invalid_params"),
        ("wrong_token", 403, "access_token_invalid"),
        ("no_such_upload", 404, "invalid_params"),
        ("out_of_order", 416, "invalid_params"),
    ],
)
def test_upload_errors_use_tiktoks_codes_and_envelope(sandbox, change, status, code):
    size, chunk = 12_000_000, 6_000_000
    token = tokens_for(sandbox)["access_token"]
    url = video_init(sandbox, token, source=file_source(size, chunk, 2)).json()["data"][
        "upload_url"
    ]
    first, last, ctype = 0, chunk - 1, "video/mp4"
    if change == "content_type":
        ctype = "application/octet-stream"
    elif change == "wrong_token":
        url = url.split("?")[0] + "?upload_token=wrong"
    elif change == "no_such_upload":
        url = url.replace("/upload/", "/upload/ff")
    else:
        first, last = chunk, size - 1
    reply = put(url, first, last, size, b"\0" * (last - first + 1), ctype)
    assert reply.status_code == status
    body = reply.json()
    assert body["data"] == {}
    assert body["error"]["code"] == code
    assert body["error"]["message"] and body["error"]["log_id"]


def test_a_pulled_video_is_checked_too(sandbox, file_server):
    folder, base = file_server
    (folder / "slow.mp4").write_bytes(clip(rate=15))
    token = tokens_for(sandbox)["access_token"]
    publish_id = video_init(
        sandbox, token, source={"source": "PULL_FROM_URL", "video_url": f"{base}/slow.mp4"}
    ).json()["data"]["publish_id"]
    data = wait_status(sandbox, token, publish_id, "FAILED")
    assert data["fail_reason"] == "frame_rate_check_failed"


def test_inbox_upload_ends_in_the_inbox(sandbox):
    token = tokens_for(sandbox)["access_token"]
    video = small_video()
    reply = api(
        sandbox,
        "/v2/post/publish/inbox/video/init/",
        token,
        {"source_info": file_source(len(video))},
    )
    assert reply.status_code == 200
    body = reply.json()["data"]
    end = len(video) - 1
    assert put(body["upload_url"], 0, end, len(video), video).status_code == 201
    assert (
        wait_status(sandbox, token, body["publish_id"], "SEND_TO_USER_INBOX")["status"]
        == "SEND_TO_USER_INBOX"
    )


def test_inbox_needs_video_upload_and_caps_pending_drafts(sandbox):
    token = tokens_for(sandbox, scopes="user.info.basic,video.publish")["access_token"]
    reply = api(
        sandbox, "/v2/post/publish/inbox/video/init/", token, {"source_info": file_source(1000)}
    )
    assert reply.status_code == 401 and reply.json()["error"]["code"] == "scope_not_authorized"
    token = tokens_for(sandbox, "kenji.private")["access_token"]
    for _ in range(5):
        assert (
            api(
                sandbox,
                "/v2/post/publish/inbox/video/init/",
                token,
                {"source_info": file_source(1000)},
            ).status_code
            == 200
        )
    token2 = tokens_for(sandbox, "kenji.private")[
        "access_token"
    ]  # a fresh token: not the rate limit
    sixth = api(
        sandbox, "/v2/post/publish/inbox/video/init/", token2, {"source_info": file_source(1000)}
    )
    assert (
        sixth.status_code == 403
        and sixth.json()["error"]["code"] == "spam_risk_too_many_pending_share"
    )


def test_init_rate_limit_is_six_per_minute_per_token(sandbox):
    token = tokens_for(sandbox)["access_token"]
    codes = [video_init(sandbox, token).status_code for _ in range(7)]
    assert codes[:6] == [200] * 6
    assert codes[6] == 429
    other = tokens_for(sandbox, "lena.quiet")["access_token"]
    assert video_init(sandbox, other).status_code == 200


def test_status_errors(sandbox):
    token = tokens_for(sandbox)["access_token"]
    publish_id = video_init(sandbox, token).json()["data"]["publish_id"]
    unknown = api(
        sandbox, "/v2/post/publish/status/fetch/", token, {"publish_id": "v_pub_file~nope"}
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "invalid_publish_id"
    stranger = tokens_for(sandbox, "lena.quiet")["access_token"]
    foreign = api(sandbox, "/v2/post/publish/status/fetch/", stranger, {"publish_id": publish_id})
    assert foreign.status_code == 400
    assert foreign.json()["error"]["code"] == "token_not_authorized_for_specified_publish_id"


@pytest.fixture
def file_server(tmp_path):
    """Serve tmp_path over HTTP on 127.0.0.1 (the sandbox's verified prefix in these tests)."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_pull_from_url_downloads_the_video(sandbox, file_server):
    folder, base = file_server
    (folder / "clip.mp4").write_bytes(small_video(40_000))
    token = tokens_for(sandbox)["access_token"]
    reply = video_init(
        sandbox, token, source={"source": "PULL_FROM_URL", "video_url": f"{base}/clip.mp4"}
    )
    assert reply.status_code == 200
    body = reply.json()["data"]
    assert body["publish_id"].startswith("v_pub_url~") and "upload_url" not in body
    data = wait_status(sandbox, token, body["publish_id"], "PUBLISH_COMPLETE")
    assert data["downloaded_bytes"] == 40_000


def test_pull_of_a_missing_file_fails(sandbox, file_server):
    _folder, base = file_server
    token = tokens_for(sandbox)["access_token"]
    publish_id = video_init(
        sandbox, token, source={"source": "PULL_FROM_URL", "video_url": f"{base}/gone.mp4"}
    ).json()["data"]["publish_id"]
    assert wait_status(sandbox, token, publish_id, "FAILED")["fail_reason"] == "video_pull_failed"


JPEG_1x1 = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffc0000b080438043801011100ffd9"
)  # SOF: 1080x1080


def photo_body(urls, **info):
    return {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": {
            "title": "Photos",
            "description": "d",
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "disable_comment": False,
            "auto_add_music": True,
            "brand_content_toggle": False,
            "brand_organic_toggle": False,
            **info,
        },
        "source_info": {"source": "PULL_FROM_URL", "photo_images": urls, "photo_cover_index": 0},
    }


def test_photo_post_pulls_images_and_publishes(sandbox, file_server):
    folder, base = file_server
    (folder / "a.jpg").write_bytes(JPEG_1x1)
    token = tokens_for(sandbox)["access_token"]
    reply = api(sandbox, "/v2/post/publish/content/init/", token, photo_body([f"{base}/a.jpg"] * 2))
    assert reply.status_code == 200, reply.text
    publish_id = reply.json()["data"]["publish_id"]
    assert publish_id.startswith("p_pub_url~v2.")
    assert (
        wait_status(sandbox, token, publish_id, "PUBLISH_COMPLETE")["status"] == "PUBLISH_COMPLETE"
    )


def test_one_oversized_photo_fails_the_carousel(sandbox, file_server):
    folder, base = file_server
    (folder / "a.jpg").write_bytes(JPEG_1x1)
    (folder / "big.jpg").write_bytes(
        JPEG_1x1.replace(bytes.fromhex("04380438"), bytes.fromhex("05000438"))
    )
    token = tokens_for(sandbox)["access_token"]
    publish_id = api(
        sandbox,
        "/v2/post/publish/content/init/",
        token,
        photo_body([f"{base}/a.jpg", f"{base}/big.jpg"]),
    ).json()["data"]["publish_id"]
    assert (
        wait_status(sandbox, token, publish_id, "FAILED")["fail_reason"]
        == "picture_size_check_failed"
    )


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"post_info": {"title": "x" * 91}}, "invalid_params"),
        ({"post_info": {"description": "x" * 4001}}, "invalid_params"),
        ({"post_info": {"disable_duet": False}}, "invalid_params"),
        ({"source_info": {"source": "FILE_UPLOAD"}}, "invalid_params"),
        ({"source_info": {"photo_images": []}}, "invalid_params"),
        ({"source_info": {"photo_cover_index": 3}}, "invalid_params"),
        (
            {"source_info": {"photo_images": ["https://elsewhere.example/a.jpg"]}},
            "url_ownership_unverified",
        ),
    ],
)
def test_photo_init_errors(sandbox, change, code):
    body = photo_body(["http://127.0.0.1:1/a.jpg"])
    for part, values in change.items():
        body[part] = {**body[part], **values}
    token = tokens_for(sandbox)["access_token"]
    reply = api(sandbox, "/v2/post/publish/content/init/", token, body)
    assert reply.json()["error"]["code"] == code, reply.text


def test_cancel_only_while_a_pull_runs(sandbox):
    token = tokens_for(sandbox)["access_token"]
    publish_id = upload_small(sandbox, token)
    reply = api(sandbox, "/v2/post/publish/cancel/", token, {"publish_id": publish_id})
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "publish_not_cancellable"


def test_unaudited_clients_only_post_to_private_accounts_as_only_me():
    from sandbox.runner import SandboxProcess

    with SandboxProcess(env={"SANDBOX_UNAUDITED": "1", "SANDBOX_PROCESSING_SECONDS": "0.1"}) as sb:
        public = tokens_for(sb, "maya.rivers")["access_token"]
        refused = video_init(sb, public)
        assert refused.status_code == 403
        assert (
            refused.json()["error"]["code"] == "unaudited_client_can_only_post_to_private_accounts"
        )
        private = tokens_for(sb, "kenji.private")["access_token"]
        publish_id = upload_small(
            sb, private, {**POST_INFO, "privacy_level": "FOLLOWER_OF_CREATOR"}
        )
        wait_status(sb, private, publish_id, "PUBLISH_COMPLETE")
        publish = next(p for p in sb.control("state")["publishes"] if p["publish_id"] == publish_id)
        assert publish["privacy"] == "SELF_ONLY"
