"""Switchable faults, signed webhooks, runtime creator changes and state that survives a restart."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time

import pytest
import requests

from sandbox.runner import SandboxProcess
from tests.sandbox.conftest import CLIENT_SECRET, api, tokens_for
from tests.sandbox.test_posting import (
    POST_INFO,
    file_source,
    small_video,
    video_init,
    wait_status,
)

# Run once, not in both passes: these tests talk to the sandbox over HTTP and never open
# Cadence's database, so the engine can't change their outcome.
pytestmark = pytest.mark.engine_independent

SIZE = 4096  # uploads here are a real clip padded to this many bytes


def test_a_queued_fault_answers_once(sandbox):
    token = tokens_for(sandbox)["access_token"]
    sandbox.control(
        "faults", {"queue": [{"path": "/v2/post/publish/video/init/", "kind": "error_5xx"}]}
    )
    first = video_init(sandbox, token)
    assert first.status_code == 500 and first.json()["error"]["code"] == "internal_error"
    assert video_init(sandbox, token).status_code == 200


def test_a_queued_error_can_carry_any_documented_code(sandbox):
    token = tokens_for(sandbox)["access_token"]
    sandbox.control(
        "faults",
        {
            "queue": [
                {
                    "path": "/v2/post/publish/content/init/",
                    "kind": "error",
                    "status": 403,
                    "code": "app_version_check_failed",
                }
            ]
        },
    )
    reply = api(sandbox, "/v2/post/publish/content/init/", token, {})
    assert reply.status_code == 403 and reply.json()["error"]["code"] == "app_version_check_failed"


def test_a_dropped_connection_gives_no_answer(sandbox):
    sandbox.control("faults", {"queue": [{"path": "/v2/oauth/token/", "kind": "drop"}]})
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{sandbox.url}/v2/oauth/token/", data={}, timeout=10)
    assert requests.post(f"{sandbox.url}/v2/oauth/token/", data={}, timeout=10).status_code == 400


def test_random_faults_by_rate_and_path(sandbox):
    token = tokens_for(sandbox)["access_token"]
    sandbox.control("faults", {"rates": {"rate_429": 1.0}, "paths": ["/v2/post/publish/status/"]})
    reply = api(sandbox, "/v2/post/publish/status/fetch/", token, {"publish_id": "x"})
    assert reply.status_code == 429 and reply.json()["error"]["code"] == "rate_limit_exceeded"
    assert api(sandbox, "/v2/post/publish/creator_info/query/", token).status_code == 200
    sandbox.control("faults", {"rates": {"slow": 1.0}, "slow_seconds": 0.5, "paths": []})
    started = time.monotonic()
    api(sandbox, "/v2/post/publish/creator_info/query/", token)
    assert time.monotonic() - started >= 0.5
    faults = sandbox.control("faults")
    assert faults["rates"] == {"slow": 1.0}
    assert faults["fired"] == {"rate_429": 1, "slow": 1}  # counted, for the chaos tally
    sandbox.control("reset", {})
    assert sandbox.control("faults")["rates"] == {}
    assert sandbox.control("faults")["fired"] == {}


def test_unknown_fault_kind_is_refused(sandbox):
    reply = requests.post(
        f"{sandbox.url}/_sandbox/faults", json={"rates": {"meteor": 1}}, timeout=10
    )
    assert reply.status_code == 400


def test_creators_can_change_at_runtime(sandbox):
    token = tokens_for(sandbox)["access_token"]
    sandbox.control(
        "creators/maya.rivers",
        {
            "comment_disabled": True,
            "max_video_post_duration_sec": 30,
            "cant_post": "reached_active_user_cap",
        },
    )
    reply = api(sandbox, "/v2/post/publish/creator_info/query/", token).json()
    assert reply["error"]["code"] == "reached_active_user_cap"
    assert reply["data"] == {}  # can't post now: TikTok may describe nothing
    sandbox.control("creators/maya.rivers", {"cant_post": ""})
    reply = api(sandbox, "/v2/post/publish/creator_info/query/", token).json()
    assert reply["error"]["code"] == "ok"
    assert (
        reply["data"]["comment_disabled"] is True
        and reply["data"]["max_video_post_duration_sec"] == 30
    )


class Receiver:
    """A tiny webhook receiver recording what it gets."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.received.append((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def wait(self, count: int, seconds: float = 5) -> None:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)


def verify(headers: dict, body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in headers["TikTok-Signature"].split(","))
    expected = hmac.new(
        CLIENT_SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["s"]) and abs(time.time() - int(parts["t"])) < 300


def test_webhooks_are_signed_like_tiktoks():
    receiver = Receiver()
    env = {
        "SANDBOX_WEBHOOK_URL": receiver.url,
        "SANDBOX_PROCESSING_SECONDS": "0.1",
        "SANDBOX_MODERATION_SECONDS": "0.1",
    }
    with SandboxProcess(env=env) as sb:
        tokens = tokens_for(sb)
        reply = video_init(
            sb,
            tokens["access_token"],
            source={
                "source": "FILE_UPLOAD",
                "video_size": SIZE,
                "chunk_size": SIZE,
                "total_chunk_count": 1,
            },
        )
        data = reply.json()["data"]
        requests.put(
            data["upload_url"],
            data=small_video(SIZE),
            timeout=10,
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{SIZE - 1}/{SIZE}"},
        )
        receiver.wait(2)
        sb.control(f"deauthorize/{tokens['open_id']}", {})
        receiver.wait(3)
    events = []
    for headers, body in receiver.received:
        assert verify(headers, body)
        payload = json.loads(body)
        assert (
            payload["client_key"] == "sbx_demo_client_key"
            and payload["user_openid"] == "sbx-open-maya"
        )
        events.append((payload["event"], json.loads(payload["content"])))
    names = [e for e, _ in events]
    assert names == [
        "post.publish.complete",
        "post.publish.publicly_available",
        "authorization.removed",
    ]
    assert events[0][1]["publish_id"] == data["publish_id"]
    assert events[1][1]["post_id"]


def test_upload_url_can_point_at_another_host():
    with SandboxProcess() as sb:
        other = sb.url.replace("127.0.0.1", "localhost")
        sb.stop()
        sb.env["SANDBOX_UPLOAD_BASE_URL"] = other
        sb.start()
        token = tokens_for(sb)["access_token"]
        url = video_init(sb, token, source=file_source(SIZE)).json()["data"]["upload_url"]
        assert url.startswith(other + "/upload/")
        reply = requests.put(
            url,
            data=small_video(SIZE),
            timeout=10,
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{SIZE - 1}/{SIZE}"},
        )
        assert reply.status_code == 201


def test_state_file_keeps_tokens_and_posts_across_a_restart(tmp_path):
    path = tmp_path / "sandbox.json"
    with SandboxProcess(state_file=path, env={"SANDBOX_PROCESSING_SECONDS": "0.1"}) as sb:
        tokens = tokens_for(sb)
        reply = video_init(
            sb,
            tokens["access_token"],
            {**POST_INFO, "privacy_level": "SELF_ONLY"},
            {
                "source": "FILE_UPLOAD",
                "video_size": SIZE,
                "chunk_size": SIZE,
                "total_chunk_count": 1,
            },
        )
        data = reply.json()["data"]
        requests.put(
            data["upload_url"],
            data=small_video(SIZE),
            timeout=10,
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{SIZE - 1}/{SIZE}"},
        )
        sb.restart()
        assert wait_status(sb, tokens["access_token"], data["publish_id"], "PUBLISH_COMPLETE")[
            "status"
        ] == ("PUBLISH_COMPLETE")
        assert len(sb.control("state")["inits"]) == 1


def test_dashboard_and_unknown_routes(sandbox):
    assert "TikTok sandbox" in requests.get(f"{sandbox.url}/_sandbox/", timeout=10).text
    missing = requests.get(f"{sandbox.url}/v2/nothing/", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
