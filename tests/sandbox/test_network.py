"""The sandbox's network profile: latency and jitter per request, one uplink for every upload."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from sandbox.runner import SandboxProcess
from tests.sandbox.conftest import api, tokens_for
from tests.sandbox.test_posting import file_source, put, video_init

pytestmark = pytest.mark.engine_independent

LATENCY, JITTER = 0.2, 0.05
MBPS = 16  # 2,000,000 bytes/s for all uploads together
SIZE = 1_000_000


@pytest.fixture(scope="module")
def distant():
    with SandboxProcess(
        latency_ms=LATENCY * 1000, jitter_ms=JITTER * 1000, uplink_mbps=MBPS
    ) as sbx:
        yield sbx


def _timed(fn):
    start = time.perf_counter()
    reply = fn()
    return reply, time.perf_counter() - start


def test_each_api_request_is_answered_after_the_latency_within_its_jitter(distant):
    token = tokens_for(distant)["access_token"]
    times = []
    for _ in range(6):
        reply, took = _timed(lambda: api(distant, "/v2/post/publish/creator_info/query/", token))
        assert reply.status_code == 200
        times.append(took)
    assert min(times) >= LATENCY
    # The jitter is drawn per request, on top of the latency; a little local time besides.
    assert max(times) <= LATENCY + JITTER + 0.1
    # The control pages are local: no latency.
    _reply, took = _timed(lambda: requests.get(f"{distant.url}/_sandbox/state", timeout=5))
    assert took < LATENCY


def test_concurrent_uploads_share_one_uplink(distant):
    token = tokens_for(distant)["access_token"]
    urls = [
        video_init(distant, token, source=file_source(SIZE)).json()["data"]["upload_url"]
        for _ in range(2)
    ]
    rate = MBPS * 1_000_000 / 8
    # Alone, one upload gets the whole uplink.
    alone = video_init(distant, token, source=file_source(SIZE)).json()["data"]["upload_url"]
    reply, single = _timed(lambda: put(alone, 0, SIZE - 1, SIZE, b"v" * SIZE))
    assert reply.status_code == 201
    assert SIZE / rate <= single <= SIZE / rate + LATENCY + JITTER + 0.4
    # Together, two uploads take as long as their bytes at the shared rate, each of them too.
    done = {}

    def upload(url):
        reply, took = _timed(lambda: put(url, 0, SIZE - 1, SIZE, b"v" * SIZE))
        done[url] = (reply.status_code, took)

    start = time.perf_counter()
    threads = [threading.Thread(target=upload, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    total = time.perf_counter() - start
    assert [status for status, _ in done.values()] == [201, 201]
    both = 2 * SIZE / rate
    assert both <= total <= both + LATENCY + JITTER + 0.4
    # Neither ran at the whole rate: each waited for the other's bytes.
    assert min(took for _, took in done.values()) >= 0.8 * both
