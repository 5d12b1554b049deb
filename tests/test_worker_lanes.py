"""A worker process runs inits and uploads on separate threads: an upload in progress never
delays another post's init (TikTok behind a latency and a slow uplink, a real worker process)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest

from sandbox.runner import SandboxProcess
from tests import accounts_flow as flow
from tests.test_publishing import add_media, make_post
from webapp import publishing
from webapp.models import Account, PostTarget, TikTokService, utcnow

UPLINK_MBPS = 8  # 1 MB/s: the 3 MB video below takes 3 s to upload
BIG = 3_000_000


@pytest.fixture(scope="module")
def distant():
    env = {
        "SANDBOX_PROCESSING_SECONDS": "0.3",
        "SANDBOX_MODERATION_SECONDS": "0.3",
        "SANDBOX_EXTRA_CREATORS": "2",
    }
    with SandboxProcess(env=env, latency_ms=50, jitter_ms=10, uplink_mbps=UPLINK_MBPS) as sbx:
        yield sbx


@pytest.fixture
def worker(settings):
    env = {**os.environ, "CADENCE_DOTENV": ""}
    for key in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"):
        env[key] = settings[key]
    proc = subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _wait(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_an_init_is_not_delayed_by_an_upload_in_the_same_worker(
    app, db, admin, admin_client, settings, distant, worker
):
    distant.control("reset", {})
    service = TikTokService.load()
    service.client_key = "sbx_demo_client_key"
    service.set_client_secret("sbx_demo_client_secret")
    service.auth_base_url = service.api_base_url = distant.url
    service.audited = True
    service.save()
    for creator in ("creator001", "creator002"):
        flow.connect(admin_client, creator=creator)
    first, second = list(Account.select().order_by(Account.username))
    redis = app.extensions["redis"]

    _post, big = make_post(admin, first, add_media(admin, settings, name="big.mp4", size=BIG))
    publishing.schedule(_post, redis)

    def uploading():
        row = PostTarget.get_by_id(big.id)
        return row.phase == "uploading" and row.publish_id

    big_publish = _wait(uploading, 20)
    # The second post falls due while the first one's bytes are still on their way.
    post, small = make_post(admin, second, add_media(admin, settings, name="small.mp4"))
    due = utcnow().replace(microsecond=0) + dt.timedelta(seconds=2)
    post.scheduled_at = due
    post.save()
    publishing.schedule(post, redis)
    small_publish = _wait(lambda: PostTarget.get_by_id(small.id).publish_id, 20)

    state = distant.control("state")
    init_at = next(i["at"] for i in state["inits"] if i["publish_id"] == small_publish)
    received = next(p for p in state["publishes"] if p["publish_id"] == big_publish)
    late = init_at - due.replace(tzinfo=dt.UTC).timestamp()
    assert 0 <= late < 0.5, f"the init arrived {late:.2f} s after its due time"
    # The upload really was in progress then (it ends 3 s after it began).
    assert received.get("received_at") is None or received["received_at"] > init_at
    # And it still finishes, on the upload queue's thread.
    _wait(lambda: PostTarget.get_by_id(big.id).uploaded_bytes == BIG, 20)
