"""Publishing against the sandbox over real HTTP: the publish job, status checks, webhooks, the
reconciler, faults, and exactly-once. Jobs run in this process (same code a worker runs) unless a
test needs a real worker process (SIGKILL, Redis flush)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import socketserver
import subprocess
import sys
import threading
import time

import pytest
import redis as redis_lib
import requests
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rq.registry import ScheduledJobRegistry

import jobs
import jobs.context
from jobs import publishing as pubjobs
from jobs.webhooks import handle_event
from sandbox import rules as sandbox_rules
from tests import accounts_flow as flow
from tests.conftest import csrf_token, ffmpeg_clip, ffmpeg_image, home
from tests.test_jobs import run_worker_burst
from webapp import publishing
from webapp.media import pull
from webapp.media.pull import pull_url
from webapp.models import (
    Account,
    Media,
    Notification,
    Post,
    PostMedia,
    PostTarget,
    TikTokService,
    WebhookEvent,
    utcnow,
)
from webapp.tiktok import chunks, ratelimit

SMALL_CHUNK = chunks.MIN_CHUNK


@pytest.fixture
def job_settings(app, monkeypatch):
    """Let jobs run in this process with the test app's settings (DB, Redis, media root)."""
    settings = dict(app.config)
    monkeypatch.setattr(jobs.context, "settings", lambda: settings)
    return settings


@pytest.fixture
def service(tiktok, db):
    svc = TikTokService.load()
    svc.audited = True
    svc.save()
    return svc


@pytest.fixture
def maya(admin_client, service):
    flow.connect(admin_client)
    return Account.get(Account.open_id == "sbx-open-maya")


def video_file(settings, name: str, size: int | None = None):
    """Write a real MP4 (padded with zeros to `size` bytes) under MEDIA_ROOT; return its Media."""
    from pathlib import Path

    root = Path(settings["MEDIA_ROOT"])
    path = ffmpeg_clip(root / "1" / name, size="360x640")
    if size:
        with open(path, "ab") as handle:
            handle.truncate(size)
    return path


def add_media(owner, settings, *, name="clip.mp4", size=None, kind="video"):
    if kind == "video":
        path = video_file(settings, name, size)
        content_type = "video/mp4"
    else:
        from pathlib import Path

        path = ffmpeg_image(Path(settings["MEDIA_ROOT"]) / "1" / name, "640x800")
        content_type = "image/jpeg"
    return Media.create(
        workspace=home(owner),
        owner=owner,
        kind=kind,
        original_name=name,
        stored_name=f"1/{name}",
        content_type=content_type,
        size_bytes=path.stat().st_size,
        duration_ms=1000 if kind == "video" else None,
        width=360,
        height=640,
        problems=[],
    )


def make_post(owner, account, media, *, privacy="PUBLIC_TO_EVERYONE", post_type="video", **opts):
    post = Post.create(
        workspace=home(owner),
        author=owner,
        post_type=post_type,
        caption=opts.pop("caption", "Hello from Cadence #test"),
        status="scheduled",
        scheduled_at=utcnow(),
        consent_at=utcnow(),
    )
    for position, m in enumerate(media if isinstance(media, list) else [media]):
        PostMedia.create(post=post, media=m, position=position)
    target = PostTarget.create(
        post=post, account=account, status="scheduled", privacy_level=privacy, **opts
    )
    return post, target


def drive(target_id: int, timeout: float = 20) -> PostTarget:
    """Run the publish job, then status checks, until the target settles."""
    pubjobs.publish_target(target_id)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        target = PostTarget.get_by_id(target_id)
        if target.status not in ("publishing",) and target.phase != "moderation":
            return target
        if target.status == "publishing" and target.phase != "processing":
            pubjobs.publish_target(target_id)
        else:
            time.sleep(0.3)
            pubjobs.check_status(target_id)
    return PostTarget.get_by_id(target_id)


def sandbox_state(sandbox) -> dict:
    return sandbox.control("state")


def accepted_inits(sandbox) -> list[dict]:
    return [i for i in sandbox_state(sandbox)["inits"] if i["result"] == "ok"]


def publish_of(sandbox, publish_id: str) -> dict:
    return next(p for p in sandbox_state(sandbox)["publishes"] if p["publish_id"] == publish_id)


# --- rules ----------------------------------------------------------------------------------------


def test_chunk_plan_follows_tiktoks_rules():
    assert chunks.plan(50_000_123, 10_000_000) == (10_000_000, 5)
    assert chunks.bounds(50_000_123, 10_000_000, 5, 4) == (40_000_000, 50_000_122)
    assert chunks.plan(4_000_000) == (4_000_000, 1)  # under 5 MB: one chunk of the whole file
    size = 4 * 1024**3
    chunk, count = chunks.plan(size)
    assert chunk == chunks.MAX_CHUNK and count == size // chunk <= 1000
    assert size - (count - 1) * chunk <= chunks.MAX_LAST_CHUNK
    assert chunks.plan(6_000_000, 1) == (chunks.MIN_CHUNK, 1)  # never below 5,242,880
    with pytest.raises(ValueError):
        chunks.plan(size + 1)


def assert_plan_follows_tiktoks_rules(size: int, chunk: int, count: int) -> None:
    """Check one chunk plan against every rule of tiktok-api.md 3.3 and the media transfer guide."""
    assert 1 <= count <= chunks.MAX_CHUNKS
    if size < chunks.MIN_CHUNK:
        assert (chunk, count) == (size, 1)
    else:
        assert chunks.MIN_CHUNK <= chunk <= chunks.MAX_CHUNK
        assert count == size // chunk
    last_first, last_last = chunks.bounds(size, chunk, count, count - 1)
    last = last_last - last_first + 1
    assert last_last == size - 1 and last < 2 * chunk and last <= chunks.MAX_LAST_CHUNK
    if size > chunks.MAX_CHUNK:
        assert count >= 2  # "Videos with a total size greater than 64 MB ... multiple chunks"
    # The sandbox's independent reading of the same rules takes it too.
    source = {"video_size": size, "chunk_size": chunk, "total_chunk_count": count}
    assert sandbox_rules.chunk_plan_problem(source) is None


@pytest.mark.parametrize(
    "size", [64_000_000, 64_000_001, 100_000_000, 127_999_999, 128_000_000, 4 * 1024**3]
)
def test_chunk_plan_for_videos_over_64_mb_has_at_least_two_chunks(size):
    chunk, count = chunks.plan(size)
    assert_plan_follows_tiktoks_rules(size, chunk, count)
    if size == 64_000_000:
        assert (chunk, count) == (64_000_000, 1)  # exactly 64 MB may still go whole
    elif size == 100_000_000:
        assert (chunk, count) == (50_000_000, 2)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=chunks.MAX_VIDEO_BYTES),
    preferred=st.one_of(
        st.just(chunks.MAX_CHUNK),
        st.integers(min_value=1, max_value=2 * chunks.MAX_CHUNK),
    ),
)
@example(size=64_000_001, preferred=chunks.MAX_CHUNK)
@example(size=128_000_000, preferred=chunks.MAX_CHUNK)
@example(size=chunks.MIN_CHUNK - 1, preferred=chunks.MAX_CHUNK)
@example(size=chunks.MIN_CHUNK, preferred=1)
@example(size=chunks.MAX_VIDEO_BYTES, preferred=1)
def test_chunk_plan_property_over_every_size_up_to_4_gb(size, preferred):
    chunk, count = chunks.plan(size, preferred)
    assert_plan_follows_tiktoks_rules(size, chunk, count)


def test_rate_limit_is_shared_and_waits_out_the_window(app):
    redis = app.extensions["redis"]
    waits = [ratelimit.take(redis, 7, "video_init") for _ in range(7)]
    assert waits[:6] == [0] * 6
    assert 55 < waits[6] <= 61  # the seventh waits for the first to leave the window
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.acquire(redis, 7, "video_init", max_wait=1)
    assert ratelimit.take(redis, 8, "video_init") == 0  # per account


def test_a_call_tiktok_never_served_gives_its_slot_back(app):
    redis = app.extensions["redis"]
    for _ in range(6):
        assert ratelimit.take(redis, 9, "video_init") == 0
    ratelimit.refund(redis, 9, "video_init")  # the sixth got no answer
    assert ratelimit.take(redis, 9, "video_init") == 0
    assert ratelimit.take(redis, 9, "video_init") > 55


def test_tiktoks_first_429_in_a_window_is_a_hiccup_the_second_waits_the_window(app):
    redis = app.extensions["redis"]
    assert 2 <= ratelimit.refused(redis, 10, "video_init") <= 4
    assert ratelimit.refused(redis, 10, "video_init") == 61
    assert ratelimit.refused(redis, 11, "video_init") <= 4  # per account


# --- the happy paths ------------------------------------------------------------------------------


def test_small_video_goes_out_in_one_chunk_with_its_public_link(maya, admin, job_settings, sandbox):
    media = add_media(admin, job_settings)
    post, target = make_post(admin, maya, media, allow_comment=True)
    target = drive(target.id)
    assert target.status == "published", target.error_message
    assert target.publish_id.startswith("v_pub_file~")
    assert target.publicaly_available_post_id
    # The sandbox stands in for TikTok's web host too (it serves /@user/video/id).
    assert target.public_url == (
        f"{sandbox.url}/@maya.rivers/video/{target.publicaly_available_post_id}"
    )
    assert requests.get(target.public_url, timeout=5).status_code == 200
    assert (
        publishing.public_link("maya.rivers", "7") == "https://www.tiktok.com/@maya.rivers/video/7"
    )
    inits = accepted_inits(sandbox)
    assert len(inits) == 1
    assert inits[0]["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert inits[0]["post_info"]["disable_comment"] is False
    assert inits[0]["post_info"]["disable_duet"] is True
    assert inits[0]["source_info"]["total_chunk_count"] == 1
    assert Post.get_by_id(post.id).status == "published"
    assert target.upload_url_enc is None


def test_upload_urls_stay_out_of_debug_logs(maya, admin, job_settings, sandbox, caplog):
    caplog.set_level("DEBUG")
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    assert drive(target.id).status == "published"
    assert "/upload/" not in caplog.text and "upload_token" not in caplog.text
    assert caplog.records  # DEBUG logging was on


def test_multi_chunk_video_arrives_whole(maya, admin, job_settings, sandbox):
    job_settings["UPLOAD_CHUNK_BYTES"] = SMALL_CHUNK
    size = 3 * SMALL_CHUNK + 12_345
    media = add_media(admin, job_settings, name="long.mp4", size=size)
    _, target = make_post(admin, maya, media)
    target = drive(target.id)
    assert target.status == "published", target.error_message
    source = accepted_inits(sandbox)[0]["source_info"]
    assert source == {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": SMALL_CHUNK,
        "total_chunk_count": 3,
    }
    held = publish_of(sandbox, target.publish_id)
    path = os.path.join(job_settings["MEDIA_ROOT"], media.stored_name)
    assert held["received"] == size
    with open(path, "rb") as handle:
        assert held["sha256"] == hashlib.sha256(handle.read()).hexdigest()


def test_photo_carousel_is_pulled_from_signed_urls(maya, admin, job_settings, sandbox, live_server):
    service = TikTokService.load()
    service.media_url_prefix = f"{live_server}/pull/"
    service.save()
    photos = [add_media(admin, job_settings, name=f"p{i}.jpg", kind="photo") for i in range(3)]
    post, target = make_post(admin, maya, photos, post_type="photo", caption="Three photos")
    target = drive(target.id)
    assert target.status == "published", target.error_message
    init = accepted_inits(sandbox)[0]
    assert init["endpoint"] == "content_init"
    urls = init["source_info"]["photo_images"]
    assert len(urls) == 3 and all(u.startswith(f"{live_server}/pull/") for u in urls)
    assert init["post_info"]["title"] == "Three photos"
    # The signed address serves ranges and refuses a tampered token.
    ranged = requests.get(urls[0], headers={"Range": "bytes=0-9"}, timeout=5)
    assert ranged.status_code == 206 and len(ranged.content) == 10
    assert requests.get(urls[0].replace("/pull/", "/pull/x"), timeout=5).status_code == 404


def test_pull_urls_expire_after_the_publish_window_with_403(app, client, admin, job_settings):
    media = add_media(admin, job_settings, name="p.jpg", kind="photo")
    secret = app.config["SECRET_KEY"]
    lifetime = pull.LIFETIME.total_seconds()
    assert lifetime >= publishing.UNCONFIRMED_AFTER.total_seconds() + 24 * 3600

    def path_of(url: str) -> str:
        return url[len("https://media.example") :]

    # Time travel through the token's own timestamp, not by sleeping.
    fresh = pull_url(media, "https://media.example/pull/", secret)
    nearly_old = pull_url(
        media, "https://media.example/pull/", secret, minted_at=time.time() - lifetime + 120
    )
    expired = pull_url(
        media, "https://media.example/pull/", secret, minted_at=time.time() - lifetime - 120
    )
    assert client.get(path_of(fresh)).status_code == 200
    assert client.get(path_of(nearly_old)).status_code == 200
    assert client.get(path_of(expired)).status_code == 403
    # A token signed with another key, or tampered with, is still simply not found.
    forged = pull_url(media, "https://media.example/pull/", "another key")
    assert client.get(path_of(forged)).status_code == 404
    assert client.get(path_of(fresh).replace("/pull/", "/pull/x")).status_code == 404


def test_a_scheduled_post_mints_its_pull_urls_when_it_is_published(
    maya, admin, job_settings, sandbox, live_server
):
    service = TikTokService.load()
    service.media_url_prefix = f"{live_server}/pull/"
    service.save()
    photos = [add_media(admin, job_settings, name=f"s{i}.jpg", kind="photo") for i in range(2)]
    post, target = make_post(admin, maya, photos, post_type="photo", caption="Scheduled long ago")
    # Scheduled two days ago (longer than a pull URL lives), published only now.
    long_ago = utcnow() - dt.timedelta(days=2)
    Post.update(created_at=long_ago, scheduled_at=long_ago).where(Post.id == post.id).execute()
    started = int(time.time())
    target = drive(target.id)
    assert target.status == "published", target.error_message
    urls = accepted_inits(sandbox)[0]["source_info"]["photo_images"]
    secret = job_settings["SECRET_KEY"]
    for url in urls:
        token = url[len(f"{live_server}/pull/") :].split("/")[0]
        assert pull.minted_at(token, secret) >= started  # minted by the publish job, just now
        assert requests.get(url, timeout=5).status_code == 200


def test_inbox_draft_ends_in_the_creators_inbox(maya, admin, job_settings, sandbox):
    service = TikTokService.load()
    service.share_type = "inbox"
    service.save()
    media = add_media(admin, job_settings)
    _, target = make_post(admin, maya, media, privacy=None)
    target = drive(target.id)
    assert target.status == "inbox"
    assert target.status_label == "Sent to your TikTok inbox: open the TikTok app to finish"
    init = accepted_inits(sandbox)[0]
    assert init["endpoint"] == "inbox_init" and init["post_info"] is None


def test_self_only_post_says_only_you_can_see_it(maya, admin, job_settings, sandbox):
    _, target = make_post(admin, maya, add_media(admin, job_settings), privacy="SELF_ONLY")
    target = drive(target.id)
    assert target.status_label == "Published (only you can see it)"
    assert not target.public_url


@pytest.mark.parametrize(
    ("privacy", "audience"),
    [
        ("SELF_ONLY", "visible only to its owner"),
        ("MUTUAL_FOLLOW_FRIENDS", "visible only to the account's friends and its owner"),
    ],
)
def test_a_private_post_stops_polling_once_published_and_opens_the_profile(
    admin_client, maya, admin, job_settings, sandbox, privacy, audience
):
    _, target = make_post(
        admin, maya, add_media(admin, job_settings), privacy=privacy, caption="Spring look"
    )
    pubjobs.publish_target(target.id)
    # Status checks run while TikTok processes; they stop the moment it says published,
    # since TikTok never sends a public id for a private post (tiktok-api.md 3.6).
    outcomes = []
    for _ in range(40):
        outcomes.append(pubjobs.check_status(target.id))
        if PostTarget.get_by_id(target.id).status == "published":
            break
        time.sleep(0.3)
    assert outcomes[-1] == "published", outcomes
    target = PostTarget.get_by_id(target.id)
    assert target.phase == "" and not target.publicaly_available_post_id
    checks = target.checks
    assert pubjobs.check_status(target.id) == "nothing to check"
    assert pubjobs.reconcile()["checks"] == 0
    assert PostTarget.get_by_id(target.id).checks == checks  # nothing more was scheduled
    assert sandbox_state(sandbox)["publishes"][-1]["public_post_id"] is None
    # The post page links to the creator's profile (on the sandbox's host) and says who sees it.
    page = admin_client.get(f"/posts/{target.post_id}").get_data(as_text=True)
    profile = f"{sandbox.url}/@maya.rivers"
    assert (
        f'href="{profile}" target="_blank" rel="noopener" data-opens="profile">Open on TikTok'
        in (page)
    )
    assert audience in page.replace("&#39;", "'") and "signed in to TikTok as @maya.rivers" in page
    assert 'hx-trigger="every 2s"' not in page  # the widget stopped polling too
    # The sandbox's profile page lists the post, marked private.
    shown = requests.get(profile, timeout=5)
    assert shown.status_code == 200
    assert "Spring look" in shown.text and "(private)" in shown.text


def test_a_public_post_keeps_waiting_for_its_link_then_falls_back_to_the_profile(
    admin_client, maya, admin, job_settings, sandbox
):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    PostTarget.update(
        status="published",
        phase="moderation",
        publish_id="v_pub_file~v2-1.1",
        initialized_at=utcnow(),
        published_at=utcnow(),
    ).where(PostTarget.id == target.id).execute()
    page = admin_client.get(f"/posts/{target.post_id}").get_data(as_text=True)
    assert "the link appears once the post is public" in page and "Open on TikTok" not in page
    assert 'hx-trigger="every 2s"' in page  # still waiting for the public id
    # An hour on with no public id, the checks stop: the profile is where the post is.
    PostTarget.update(published_at=utcnow() - publishing.UNCONFIRMED_AFTER).where(
        PostTarget.id == target.id
    ).execute()
    assert pubjobs.reconcile()["checks"] == 0
    assert PostTarget.get_by_id(target.id).phase == ""
    page = admin_client.get(f"/posts/{target.post_id}").get_data(as_text=True)
    assert f'href="{sandbox.url}/@maya.rivers"' in page
    assert "TikTok hasn&#39;t given this post a public link" in page
    # An account connected without its @username (user.info.profile not granted): no address
    # to open, so the line says where to look instead of a dead button.
    Account.update(username="").where(Account.id == maya.id).execute()
    page = admin_client.get(f"/posts/{target.post_id}").get_data(as_text=True)
    assert "Open on TikTok" not in page
    assert "in the TikTok app signed in as Maya Rivers" in page


# --- faults ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"path": "/upload/", "kind": "error_5xx"},
        {"path": "/upload/", "kind": "drop"},
        {"path": "/upload/", "kind": "error", "status": 416, "code": "range"},
        {"path": "/upload/", "kind": "rate_429"},
    ],
    ids=["5xx", "dropped", "416", "429"],
)
def test_upload_faults_resume_and_finish(maya, admin, job_settings, sandbox, fault, monkeypatch):
    monkeypatch.setattr(pubjobs, "_sleep", lambda s: None)
    job_settings["UPLOAD_CHUNK_BYTES"] = SMALL_CHUNK
    media = add_media(admin, job_settings, name="f.mp4", size=2 * SMALL_CHUNK + 10)
    _, target = make_post(admin, maya, media)
    # The first chunk goes through (a zero-second "slow" is a no-op); the fault hits the second.
    first = {"path": "/upload/", "kind": "slow", "seconds": 0}
    sandbox.control("faults", {"queue": [first, fault], "clear_queue": True})
    target = drive(target.id)
    assert target.status == "published", target.error_message
    assert len(accepted_inits(sandbox)) == 1
    assert publish_of(sandbox, target.publish_id)["received"] == 2 * SMALL_CHUNK + 10


def test_expired_upload_url_fails_with_retry_and_retry_inits_again(
    maya, admin, job_settings, sandbox, admin_client
):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    sandbox.control(
        "faults",
        {"queue": [{"path": "/upload/", "kind": "error", "status": 403, "code": "expired"}]},
    )
    target = drive(target.id)
    assert target.status == "failed" and target.retryable
    assert "expired" in target.error_message
    assert Notification.select().where(Notification.kind == "post_failed").exists()
    page = admin_client.get(f"/posts/{target.post_id}").get_data(as_text=True)
    assert "Retry" in page and target.error_message in page
    token = csrf_token(admin_client, f"/posts/{target.post_id}")
    response = admin_client.post(
        f"/posts/{target.post_id}/targets/{target.id}/retry", data={"csrf_token": token}
    )
    assert response.status_code == 303
    again = PostTarget.get_by_id(target.id)
    assert again.status == "scheduled" and again.attempts == 1 and again.publish_id is None
    assert drive(target.id).status == "published"
    assert len(accepted_inits(sandbox)) == 2  # the first publish_id never got its bytes


def test_a_refused_chunk_keeps_tiktoks_error_code(maya, admin, job_settings, sandbox):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    sandbox.control(
        "faults",
        {"queue": [{"path": "/upload/", "kind": "error", "status": 400, "code": "invalid_params"}]},
    )
    target = drive(target.id)
    assert target.status == "failed" and target.error_code == "invalid_params"
    assert "HTTP 400, invalid_params" in target.error_message


def test_429_at_init_continues_a_few_seconds_later_without_a_second_post(
    maya, admin, job_settings, sandbox, app
):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    sandbox.control(
        "faults", {"queue": [{"path": "/v2/post/publish/video/init/", "kind": "rate_429"}]}
    )
    pubjobs.publish_target(target.id)
    target = PostTarget.get_by_id(target.id)
    assert target.status == "publishing" and target.phase == "checking"
    assert target.attempts == 1 and target.publish_id is None
    job = jobs.fetch(publishing.publish_job_id(target), app.extensions["redis"])
    assert job.get_status() == "scheduled"
    # TikTok's first 429 in a minute is a hiccup: the next run comes a few seconds later.
    assert _scheduled_in(app, job) < 6
    assert accepted_inits(sandbox) == []
    assert drive(target.id).status == "published"
    assert len(accepted_inits(sandbox)) == 1


def _scheduled_in(app, job) -> float:
    registry = ScheduledJobRegistry(queue=jobs.queue(app.extensions["redis"]))
    when = registry.get_scheduled_time(job)
    return (when - dt.datetime.now(dt.UTC)).total_seconds()


def test_a_second_429_within_the_minute_waits_out_the_window_without_a_second_post(
    maya, admin, job_settings, sandbox, app
):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    init = {"path": "/v2/post/publish/video/init/", "kind": "rate_429"}
    sandbox.control("faults", {"queue": [init, init]})
    assert pubjobs.publish_target(target.id).startswith("continues in")
    assert pubjobs.publish_target(target.id, 1).startswith("continues in")
    target = PostTarget.get_by_id(target.id)
    assert target.attempts == 2 and target.publish_id is None
    job = jobs.fetch(publishing.publish_job_id(target), app.extensions["redis"])
    assert 55 < _scheduled_in(app, job) <= 61
    assert accepted_inits(sandbox) == []
    assert drive(target.id).status == "published"
    assert len(accepted_inits(sandbox)) == 1


def test_an_unanswered_init_is_asked_again_within_the_run_and_uses_no_slot(
    maya, admin, job_settings, sandbox, app
):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    init = "/v2/post/publish/video/init/"
    sandbox.control(
        "faults",
        {"queue": [{"path": init, "kind": "error_5xx"}, {"path": init, "kind": "drop"}]},
    )
    started = time.monotonic()
    assert drive(target.id).status == "published"
    assert time.monotonic() - started < 10  # not the 30 s of a continuation
    target = PostTarget.get_by_id(target.id)
    assert target.attempts == 0  # one run: no continuation was queued
    assert len(accepted_inits(sandbox)) == 1
    # The two calls TikTok never served gave their slots back: one counted init.
    redis = app.extensions["redis"]
    assert redis.zcard(f"cadence:rate:video_init:{maya.id}") == 1


def test_a_post_due_during_an_outage_inits_within_seconds_of_its_end(
    maya, admin, job_settings, sandbox
):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    sandbox.control("faults", {"outage_seconds": 4})
    started = time.monotonic()
    pubjobs.publish_target(target.id)  # creator_info, then the init: retried through the outage
    target = PostTarget.get_by_id(target.id)
    assert target.attempts == 0 and target.publish_id
    inits = accepted_inits(sandbox)
    assert len(inits) == 1
    assert 4 <= time.monotonic() - started < 9
    assert sandbox.control("faults")["fired"]["outage"] >= 2


def test_a_run_held_up_by_the_rate_limit_frees_its_thread_and_continues_when_it_allows(
    maya, admin, job_settings, sandbox, app
):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    redis = app.extensions["redis"]
    for _ in range(ratelimit.LIMITS["video_init"]):  # other posts of the account took the minute
        ratelimit.take(redis, maya.id, "video_init")
    started = time.monotonic()
    assert pubjobs.publish_target(target.id).startswith("continues in")
    assert time.monotonic() - started < pubjobs.LIMIT_WAIT + 5  # no thread sleeps a minute
    target = PostTarget.get_by_id(target.id)
    job = jobs.fetch(publishing.publish_job_id(target), redis)
    assert 50 < _scheduled_in(app, job) <= 62  # when the limiter said a slot frees up
    assert accepted_inits(sandbox) == []


def test_slow_status_answers_still_end_published(maya, admin, job_settings, sandbox):
    sandbox.control(
        "faults",
        {"rates": {"slow": 1.0}, "paths": ["/v2/post/publish/status/"], "slow_seconds": 1},
    )
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    assert drive(target.id, timeout=40).status == "published"


def test_failed_processing_is_explained_without_retry(maya, admin, job_settings, sandbox):
    from pathlib import Path

    root = Path(job_settings["MEDIA_ROOT"]) / "1"
    root.mkdir(parents=True, exist_ok=True)
    (root / "bad.mp4").write_bytes(b"not a video at all" * 1000)
    media = Media.create(
        workspace=home(admin),
        owner=admin,
        kind="video",
        original_name="bad.mp4",
        stored_name="1/bad.mp4",
        content_type="video/mp4",
        duration_ms=1000,
    )
    _, target = make_post(admin, maya, media)
    target = drive(target.id)
    assert target.status == "failed" and target.fail_reason == "file_format_check_failed"
    assert not target.retryable
    assert "MP4" in target.error_message


def clip_media(owner, settings, name: str, **clip) -> Media:
    """A real clip with the given size/rate/seconds that Cadence's own probe did not flag."""
    from pathlib import Path

    path = ffmpeg_clip(Path(settings["MEDIA_ROOT"]) / "1" / name, **clip)
    return Media.create(
        workspace=home(owner),
        owner=owner,
        kind="video",
        original_name=name,
        stored_name=f"1/{name}",
        content_type="video/mp4",
        size_bytes=path.stat().st_size,
        duration_ms=1000,  # what Cadence believed; TikTok reads the file itself
        problems=[],
    )


@pytest.mark.parametrize(
    ("clip", "max_duration", "reason", "words"),
    [
        ({"rate": 20}, None, "frame_rate_check_failed", "frame rate (23–60 fps)"),
        ({"size": "320x640"}, None, "file_format_check_failed", "each side must be 360 to 4096"),
        ({"seconds": 2}, 1, "duration_check_failed", "longer (or shorter) than TikTok allows"),
    ],
)
def test_tiktoks_video_checks_fail_the_post_in_plain_words(
    maya, admin, job_settings, sandbox, admin_client, clip, max_duration, reason, words
):
    if max_duration:
        sandbox.control("creators/maya.rivers", {"max_video_post_duration_sec": max_duration})
    media = clip_media(admin, job_settings, f"{reason}.mp4", **{"size": "360x640", **clip})
    _, target = make_post(admin, maya, media)
    target = drive(target.id)
    assert target.status == "failed" and target.fail_reason == reason
    assert target.error_message == publishing.FAIL_REASONS[reason] and words in target.error_message
    assert not target.retryable
    page = admin_client.get(f"/posts/{target.post_id}").get_data(as_text=True)
    assert target.error_message in page.replace("&#39;", "'")


@pytest.mark.parametrize(
    "code", ["invalid_publish_id", "token_not_authorized_for_specified_publish_id"]
)
def test_unrecoverable_status_errors_end_the_post_failed_at_once(
    maya, admin, job_settings, sandbox, admin_client, code
):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    PostTarget.update(
        status="publishing",
        phase="processing",
        publish_id="v_pub_file~v2-1.404",  # a publish_id the sandbox never issued
        initialized_at=utcnow(),
    ).where(PostTarget.id == target.id).execute()
    if code != "invalid_publish_id":
        # TikTok's answer when this token may not read the publish (another creator's).
        sandbox.control(
            "faults",
            {
                "queue": [
                    {
                        "path": "/v2/post/publish/status/fetch/",
                        "kind": "error",
                        "status": 400,
                        "code": code,
                    }
                ]
            },
        )
    outcome = pubjobs.check_status(target.id)
    target = PostTarget.get_by_id(target.id)
    assert target.status == "failed" and target.error_code == code, outcome
    assert target.error_message == publishing.STATUS_ERRORS[code]
    assert target.next_check_at is None  # no further check was queued
    assert not target.retryable
    page = admin_client.get(f"/posts/{target.post_id}").get_data(as_text=True)
    assert "Check the TikTok profile before posting it again." in page


def test_an_unrecoverable_status_error_leaves_a_published_post_published(
    maya, admin, job_settings, sandbox
):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    PostTarget.update(
        status="published",
        phase="moderation",
        publish_id="v_pub_file~v2-1.404",
        initialized_at=utcnow(),
        published_at=utcnow(),
    ).where(PostTarget.id == target.id).execute()
    pubjobs.check_status(target.id)
    target = PostTarget.get_by_id(target.id)
    assert target.status == "published" and target.phase == ""  # no more checks, not "failed"


# --- at publish time ------------------------------------------------------------------------------


def test_creator_changes_since_scheduling_need_attention(maya, admin, job_settings, sandbox):
    _, target = make_post(admin, maya, add_media(admin, job_settings), allow_duet=True)
    sandbox.control("creators/maya.rivers", {"duet_disabled": True})
    target = drive(target.id)
    assert target.status == "needs_attention"
    assert "Duets are turned off" in target.error_message
    assert target.allow_duet is True  # the user's choice is kept as it was
    assert accepted_inits(sandbox) == [] and sandbox_state(sandbox)["inits"] == []
    assert Notification.select().where(Notification.kind == "post_needs_attention").exists()


def test_a_privacy_no_longer_offered_needs_attention(maya, admin, job_settings, sandbox):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    sandbox.control("creators/maya.rivers", {"private": True})
    target = drive(target.id)
    assert target.status == "needs_attention"
    assert target.privacy_level == "PUBLIC_TO_EVERYONE"
    assert sandbox_state(sandbox)["inits"] == []


def test_a_post_scheduled_while_audited_but_published_while_unaudited_needs_attention(
    admin_client, maya, admin, job_settings, sandbox, service
):
    """The publish job runs the same decision: unaudited, only "Only me" may go; nothing is sent."""
    from webapp.models import AppSettings
    from webapp.tiktok.rules import UNAUDITED_REFUSED
    from webapp.timezones import zone_for

    media = add_media(admin, job_settings)
    zone = zone_for(admin, AppSettings.load().timezone)
    when = (dt.datetime.now(zone) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "accounts": str(maya.id),
        "post_type": "video",
        "media": str(media.id),
        "caption": "First look at the spring collection",
        f"a{maya.id}-privacy": "PUBLIC_TO_EVERYONE",
        "action": "schedule",
        "schedule_at": when,
        "csrf_token": csrf_token(admin_client, "/compose/"),
    }
    assert admin_client.post("/compose/", data=data).status_code == 303  # audited: accepted
    service.audited = False
    service.save()
    target = drive(PostTarget.get().id)
    assert target.status == "needs_attention"
    assert UNAUDITED_REFUSED in target.error_message
    assert target.privacy_level == "PUBLIC_TO_EVERYONE"  # the choice is kept, never changed
    assert sandbox_state(sandbox)["inits"] == []
    page = admin_client.get(f"/posts/{target.post_id}").get_data(as_text=True)
    assert "Until TikTok audits this app, it accepts only “Only me” posts." in page


# --- webhooks and status agree --------------------------------------------------------------------


def test_webhook_and_status_apply_the_same_news_in_any_order(maya, admin, job_settings, sandbox):
    _, target = make_post(admin, maya, add_media(admin, job_settings), privacy="SELF_ONLY")
    pubjobs.publish_target(target.id)
    target = PostTarget.get_by_id(target.id)
    assert target.phase == "processing"
    import json

    for _ in range(2):  # a redelivery changes nothing
        event = WebhookEvent.create(
            digest=os.urandom(8).hex(),
            event="post.publish.complete",
            user_openid="sbx-open-maya",
            payload={
                "event": "post.publish.complete",
                "content": json.dumps({"publish_id": target.publish_id}),
            },
        )
        handle_event(event.id)
    target = PostTarget.get_by_id(target.id)
    assert target.status == "published"
    time.sleep(0.5)
    assert pubjobs.check_status(target.id) == "nothing to check"
    assert PostTarget.get_by_id(target.id).status == "published"
    kinds = [e.kind for e in target.events]
    assert kinds.count("published") == 1


# --- exactly once across crashes and Redis losses -------------------------------------------------


def worker_env(settings: dict) -> dict:
    env = {**os.environ, "CADENCE_DOTENV": ""}
    for key in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"):
        env[key] = str(settings[key])
    env["UPLOAD_CHUNK_BYTES"] = str(settings.get("UPLOAD_CHUNK_BYTES", chunks.MAX_CHUNK))
    return env


def test_sigkill_mid_upload_resumes_without_a_second_init(maya, admin, job_settings, sandbox, app):
    job_settings["UPLOAD_CHUNK_BYTES"] = SMALL_CHUNK
    size = 8 * SMALL_CHUNK + 77
    media = add_media(admin, job_settings, name="kill.mp4", size=size)
    post, target = make_post(admin, maya, media)
    # Every chunk takes a second, so the worker is surely mid-upload when it dies.
    sandbox.control("faults", {"rates": {"slow": 1.0}, "paths": ["/upload/"], "slow_seconds": 1})
    redis = app.extensions["redis"]
    publishing.schedule(post, redis)
    worker = subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--workers", "1"],
        env=worker_env(job_settings),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = PostTarget.get_by_id(target.id)
            if row.uploaded_bytes >= 2 * SMALL_CHUNK:
                break
            time.sleep(0.2)
        assert row.phase == "uploading" and row.publish_id
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    sandbox.control("faults", {"rates": {}, "paths": []})
    redis.delete(f"cadence:lock:target:{target.id}")  # what its 30 s expiry would do
    # The reconciler sees a run that died (no lock, job "started" long ago) and queues a new one.
    PostTarget.update(updated_at=utcnow() - pubjobs.STALE_RUN * 2).where(
        PostTarget.id == target.id
    ).execute()
    assert pubjobs.reconcile()["resumed"] == 1
    result = run_worker_burst(job_settings)
    assert result.returncode == 0, result.stderr
    target = drive(target.id)  # status checks
    assert target.status == "published", target.error_message
    assert len(accepted_inits(sandbox)) == 1
    assert publish_of(sandbox, target.publish_id)["received"] == size


def test_a_run_whose_worker_was_sigkilled_is_resumed_once_its_process_is_gone(
    maya, admin, job_settings, sandbox, app
):
    job_settings["UPLOAD_CHUNK_BYTES"] = SMALL_CHUNK
    size = 8 * SMALL_CHUNK + 77
    post, target = make_post(admin, maya, add_media(admin, job_settings, name="k.mp4", size=size))
    sandbox.control("faults", {"rates": {"slow": 1.0}, "paths": ["/upload/"], "slow_seconds": 1})
    redis = app.extensions["redis"]
    publishing.schedule(post, redis)
    worker = subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--workers", "1"],
        env=worker_env(job_settings),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row = PostTarget.get_by_id(target.id)
            if row.uploaded_bytes >= 2 * SMALL_CHUNK:
                break
            time.sleep(0.2)
        assert row.phase == "uploading" and row.publish_id
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    sandbox.control("faults", {"rates": {}, "paths": []})
    # Its lock is still there (15 s to go) and its row was touched moments ago, but its worker
    # process stopped saying it is alive: the run is resumed as soon as that lapses.
    assert redis.exists(pubjobs.lock_key(target.id))
    assert pubjobs.resume_dead_runs() == 0
    time.sleep(pubjobs.ALIVE_SECONDS + 0.5)
    assert pubjobs.resume_dead_runs() == 1
    assert not redis.exists(pubjobs.lock_key(target.id))  # freed for the new run
    assert PostTarget.get_by_id(target.id).attempts == 1
    result = run_worker_burst(job_settings)
    assert result.returncode == 0, result.stderr
    target = drive(target.id)
    assert target.status == "published", target.error_message
    assert len(accepted_inits(sandbox)) == 1


def test_a_run_outlives_a_redis_restart_in_its_thread_and_posts_once(
    maya, admin, job_settings, sandbox
):
    from bench.servers import PrivateRedis

    private = PrivateRedis()
    job_settings["REDIS_URL"] = private.url
    try:
        _, target = make_post(admin, maya, add_media(admin, job_settings))
        # TikTok is away, so the run is retrying within itself when Redis is killed under it.
        sandbox.control("faults", {"outage_seconds": 3})
        outcome = {}
        runner = threading.Thread(
            target=lambda: outcome.update(result=pubjobs.publish_target(target.id, 0))
        )
        runner.start()
        time.sleep(1)
        private.kill()
        time.sleep(1.5)
        private.start()  # empty: the run's lock and the rate counts are gone
        runner.join(60)
        # Not a failed job left for the reconciler: the same run carried on once Redis answered.
        assert outcome["result"] == "processing on TikTok"
        target = PostTarget.get_by_id(target.id)
        assert target.attempts == 0 and target.publish_id
        assert drive(target.id).status == "published"
        assert len(accepted_inits(sandbox)) == 1
    finally:
        private.stop()


def test_runs_of_a_gone_process_are_resumed_by_the_ticker_once_per_slot_without_a_job_thread(
    maya, admin, job_settings, app
):
    from jobs import periodic

    _, target = make_post(admin, maya, add_media(admin, job_settings))
    PostTarget.update(status="publishing", phase="checking", updated_at=utcnow()).where(
        PostTarget.id == target.id
    ).execute()
    redis = app.extensions["redis"]
    # Its lock names a worker process that no longer says it is alive (SIGKILLed).
    redis.set(pubjobs.lock_key(target.id), "0123456789abcdef.run", ex=pubjobs.LOCK_TTL)
    threads = periodic.tick_inline(redis, now=2_000_000)
    assert len(threads) == 1
    threads[0].join(20)
    assert periodic.tick_inline(redis, now=2_000_001) == []  # the slot is taken
    target = PostTarget.get_by_id(target.id)
    assert target.attempts == 1
    assert jobs.fetch(publishing.publish_job_id(target), redis).get_status() == "queued"
    # A run whose process is alive is left alone.
    redis.set("cadence:alive:fedcba9876543210", 1, ex=pubjobs.ALIVE_SECONDS)
    redis.set(pubjobs.lock_key(target.id), "fedcba9876543210.run", ex=pubjobs.LOCK_TTL)
    redis.delete(f"rq:job:{publishing.publish_job_id(target)}")
    assert pubjobs.resume_dead_runs() == 0


def test_redis_flushed_with_posts_scheduled_still_go_out(
    admin_client, maya, admin, job_settings, sandbox, app
):
    media = add_media(admin, job_settings)
    post, target = make_post(admin, maya, media)
    redis = app.extensions["redis"]
    publishing.schedule(post, redis)
    redis.flushdb()  # a Redis restart without persistence
    assert pubjobs.reconcile()["queued"] == 1
    assert pubjobs.reconcile()["queued"] == 0  # its job is back: nothing more to queue
    result = run_worker_burst(job_settings)
    assert result.returncode == 0, result.stderr
    assert drive(target.id).status == "published"
    assert len(accepted_inits(sandbox)) == 1


def test_a_job_taken_by_a_worker_killed_before_starting_it_is_queued_again(
    maya, admin, job_settings, sandbox, app
):
    post, target = make_post(admin, maya, add_media(admin, job_settings))
    redis = app.extensions["redis"]
    publishing.schedule(post, redis)
    job_id = publishing.publish_job_id(target)
    # A worker moved it off the queue and was SIGKILLed before it started it: the job's hash
    # still says "queued", but it is in no queue, so no worker will ever run it.
    assert redis.lrem(f"rq:queue:{jobs.QUEUE_NAME}", 0, job_id) == 1
    assert pubjobs.reconcile()["queued"] == 0  # moments ago: a live worker may be starting it
    redis.hset(f"rq:job:{job_id}", "enqueued_at", "2020-01-01T00:00:00.000000Z")
    assert pubjobs.reconcile()["queued"] == 1
    result = run_worker_burst(job_settings)
    assert result.returncode == 0, result.stderr
    assert drive(target.id).status == "published"
    assert len(accepted_inits(sandbox)) == 1


def test_redis_flushed_under_a_live_run_leaves_it_alone_and_it_finishes_once(
    maya, admin, job_settings, sandbox, app
):
    job_settings["UPLOAD_CHUNK_BYTES"] = SMALL_CHUNK
    size = 4 * SMALL_CHUNK + 5
    post, target = make_post(admin, maya, add_media(admin, job_settings, name="f.mp4", size=size))
    # Each chunk takes a second: the run is mid-upload when Redis forgets its lock and its job.
    sandbox.control("faults", {"rates": {"slow": 1.0}, "paths": ["/upload/"], "slow_seconds": 1})
    redis = app.extensions["redis"]
    outcome = {}
    runner = threading.Thread(
        target=lambda: outcome.update(result=pubjobs.publish_target(target.id, 0))
    )
    runner.start()
    deadline = time.monotonic() + 30
    while PostTarget.get_by_id(target.id).uploaded_bytes < SMALL_CHUNK:
        assert time.monotonic() < deadline, "the upload never started"
        time.sleep(0.1)
    redis.flushdb()
    # The row was touched moments ago, so the reconciler doesn't start a second run.
    assert pubjobs.reconcile()["resumed"] == 0
    runner.join(60)
    assert outcome["result"] == "processing on TikTok"
    sandbox.control("faults", {"rates": {}, "paths": []})
    assert drive(target.id).status == "published"
    assert len(accepted_inits(sandbox)) == 1


def test_a_superseded_run_changes_nothing_and_sends_nothing(maya, admin, job_settings, sandbox):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    # The reconciler moved the target on to run 1 (say, after Redis lost run 0's lock).
    PostTarget.update(attempts=1).where(PostTarget.id == target.id).execute()
    assert pubjobs.publish_target(target.id, 0).startswith("superseded")
    assert PostTarget.get_by_id(target.id).status == "scheduled"
    assert sandbox_state(sandbox)["inits"] == []


def test_a_run_whose_claim_moved_on_stops_before_the_init(maya, admin, job_settings, sandbox, app):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    redis = app.extensions["redis"]
    lock = pubjobs.target_lock(redis, target.id)
    assert lock.acquire(blocking=False)
    heartbeat = pubjobs._Heartbeat(lock, target.id, 0)
    run = pubjobs._Run(target.id, job_settings, redis, 0, heartbeat)
    # Run 0 was checking the creator when the reconciler moved the target on to run 1.
    PostTarget.update(status="publishing", phase="checking", attempts=1).where(
        PostTarget.id == target.id
    ).execute()
    assert run.go() == pubjobs.SUPERSEDED
    assert sandbox_state(sandbox)["inits"] == []
    assert PostTarget.get_by_id(target.id).phase == "checking"
    # The heartbeat notices too, from its own thread: the row's run number is no longer its own.
    beating = threading.Thread(target=heartbeat.beat)
    beating.start()
    beating.join(10)
    assert heartbeat.lost.is_set()


def test_the_heartbeat_takes_back_a_lock_redis_forgot_but_not_a_taken_one(db, app):
    redis = app.extensions["redis"]
    lock = pubjobs.target_lock(redis, 4242)
    assert lock.acquire(blocking=False)
    heartbeat = pubjobs._Heartbeat(lock, 4242, 0)
    redis.flushdb()
    heartbeat.beat()
    assert redis.get(lock.name) == lock.local.token and not heartbeat.lost.is_set()
    redis.set(lock.name, b"another run")
    heartbeat.beat()
    assert heartbeat.lost.is_set()


def test_a_pull_init_in_flight_when_the_worker_died_is_unconfirmed(
    maya, admin, job_settings, sandbox
):
    post, target = make_post(admin, maya, add_media(admin, job_settings))
    PostTarget.update(
        status="publishing",
        phase="initializing",
        source="PULL_FROM_URL",
        init_started_at=utcnow(),
    ).where(PostTarget.id == target.id).execute()
    pubjobs.publish_target(target.id)
    target = PostTarget.get_by_id(target.id)
    assert target.status == "unconfirmed"
    assert target.status_label == "Unconfirmed: check your TikTok profile before posting again"
    assert sandbox_state(sandbox)["inits"] == []


def test_no_answer_within_an_hour_is_unconfirmed(maya, admin, job_settings, sandbox):
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    PostTarget.update(
        status="publishing",
        phase="processing",
        publish_id="v_pub_file~v2-1.404",
        initialized_at=utcnow() - publishing.UNCONFIRMED_AFTER * 2,
    ).where(PostTarget.id == target.id).execute()
    assert pubjobs.reconcile()["unconfirmed"] == 1
    assert PostTarget.get_by_id(target.id).status == "unconfirmed"


def test_a_status_check_that_died_with_its_worker_is_asked_again(maya, admin, job_settings):
    """A status job left "started" by a SIGKILLed worker (RQ notices only at its timeout) must
    not stop the checks: seen in make chaos, where 2 posts stayed "processing" for minutes."""
    _, target = make_post(admin, maya, add_media(admin, job_settings))
    PostTarget.update(
        status="publishing",
        phase="processing",
        publish_id="v_pub_file~v2-1.404",
        initialized_at=utcnow(),
        checks=1,
        next_check_at=utcnow() - dt.timedelta(seconds=60),
    ).where(PostTarget.id == target.id).execute()
    redis = job_settings_redis()
    target = PostTarget.get_by_id(target.id)
    job = jobs.enqueue(
        redis, "jobs.publishing.check_status", target.id, job_id=publishing.status_job_id(target)
    )
    job.set_status("started")
    # A minute late and started: a check may still be under way.
    assert pubjobs.reconcile()["checks"] == 0
    PostTarget.update(next_check_at=utcnow() - pubjobs.STUCK_CHECK * 2).where(
        PostTarget.id == target.id
    ).execute()
    assert pubjobs.reconcile()["checks"] == 1
    assert PostTarget.get_by_id(target.id).checks == 2  # a new check, under a new job id


# --- screens --------------------------------------------------------------------------------------


def test_post_now_from_the_composer_to_the_live_status(
    admin_client, maya, admin, job_settings, sandbox
):
    media = add_media(admin, job_settings)
    data = {
        "accounts": str(maya.id),
        "post_type": "video",
        "media": str(media.id),
        "caption": "Live status",
        f"a{maya.id}-privacy": "PUBLIC_TO_EVERYONE",
        "action": "post_now",
        "csrf_token": csrf_token(admin_client, "/compose/"),
    }
    response = admin_client.post("/compose/", data=data)
    assert response.status_code == 303
    page_url = response.headers["Location"]
    page = admin_client.get(page_url).get_data(as_text=True)
    assert "It can take a few minutes for your post to be processed" in page
    assert 'hx-trigger="every 2s"' in page  # the widget polls while work runs
    target = PostTarget.get()
    assert drive(target.id).status == "published"
    widget = admin_client.get(f"/posts/{target.post_id}/status").get_data(as_text=True)
    assert "Open on TikTok" in widget and "hx-trigger" not in widget
    # The timeline comes along out of band, so the page shows how the post landed.
    assert '<section id="post-timeline" hx-swap-oob="true">' in widget
    assert "The whole video reached TikTok" in widget and "Published on TikTok" in widget


def test_cancel_a_scheduled_post_asks_first_and_drops_its_job(
    admin_client, maya, admin, job_settings, app
):
    post, target = make_post(admin, maya, add_media(admin, job_settings))
    Post.update(scheduled_at=utcnow() + publishing.UNCONFIRMED_AFTER).where(
        Post.id == post.id
    ).execute()
    redis = app.extensions["redis"]
    publishing.schedule(Post.get_by_id(post.id), redis)
    assert "Cancel this post?" in admin_client.get(f"/posts/{post.id}/cancel").get_data(
        as_text=True
    )
    token = csrf_token(admin_client, f"/posts/{post.id}/cancel")
    admin_client.post(f"/posts/{post.id}/cancel", data={"csrf_token": token})
    assert PostTarget.get_by_id(target.id).status == "cancelled"
    assert Post.get_by_id(post.id).status == "cancelled"
    assert redis.exists(f"rq:job:{publishing.publish_job_id(target)}") == 0
    assert pubjobs.publish_target(target.id).startswith("nothing to do")


def test_editing_a_scheduled_post_moves_its_job(admin_client, maya, admin, job_settings, app):
    media = add_media(admin, job_settings)
    data = {
        "accounts": str(maya.id),
        "post_type": "video",
        "media": str(media.id),
        "caption": "Later",
        f"a{maya.id}-privacy": "PUBLIC_TO_EVERYONE",
        "action": "schedule",
        "schedule_at": "2099-01-01T10:00",
        "csrf_token": csrf_token(admin_client, "/compose/"),
    }
    data["schedule_at"] = (utcnow() + publishing.UNCONFIRMED_AFTER).strftime("%Y-%m-%dT%H:%M")
    assert admin_client.post("/compose/", data=data).status_code == 303
    redis = app.extensions["redis"]
    old = PostTarget.get()
    assert jobs.fetch(publishing.publish_job_id(old), redis).get_status() == "scheduled"
    later = utcnow() + 2 * publishing.UNCONFIRMED_AFTER
    edit = {**data, "post_id": str(old.post_id), "caption": "Later, edited"}
    edit["schedule_at"] = later.strftime("%Y-%m-%dT%H:%M")
    edit["csrf_token"] = csrf_token(admin_client, f"/compose/{old.post_id}/edit")
    assert admin_client.post("/compose/", data=edit).status_code == 303
    new = PostTarget.get()
    assert new.post_id == old.post_id
    registry = ScheduledJobRegistry(queue=jobs.queue(redis))
    assert registry.get_job_ids() == [publishing.publish_job_id(new)]  # one job, not two
    job = jobs.fetch(publishing.publish_job_id(new), redis)
    due = registry.get_scheduled_time(job).replace(tzinfo=None)
    assert due == later.replace(second=0) - publishing.LEAD


def test_an_edit_arriving_after_publishing_started_is_refused(
    admin_client, maya, admin, job_settings
):
    post, target = make_post(admin, maya, add_media(admin, job_settings))
    Post.update(scheduled_at=utcnow() + publishing.UNCONFIRMED_AFTER).where(
        Post.id == post.id
    ).execute()
    form_page = admin_client.get(f"/compose/{post.id}/edit")
    assert form_page.status_code == 200
    # The run claims the target between the page load and the submit.
    PostTarget.update(status="publishing", phase="uploading").where(
        PostTarget.id == target.id
    ).execute()
    data = {
        "post_id": str(post.id),
        "accounts": str(maya.id),
        "post_type": "video",
        "media": str(post.media_links.get().media_id),
        "caption": "Changed",
        f"a{maya.id}-privacy": "SELF_ONLY",
        "action": "save_draft",
        "csrf_token": csrf_token(admin_client, f"/compose/{post.id}/edit"),
    }
    response = admin_client.post("/compose/", data=data)
    assert response.status_code in (303, 404)
    row = PostTarget.get_by_id(target.id)
    assert row.status == "publishing" and row.privacy_level == "PUBLIC_TO_EVERYONE"


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib to deliver a message (EHLO, MAIL, RCPT, DATA, QUIT)."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        body, in_data = [], False
        while line := self.rfile.readline():
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    self.server.messages.append(b"".join(body).decode())
                    self.wfile.write(b"250 queued\r\n")
                else:
                    body.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-test\r\n250 SIZE 1000000\r\n")
            elif verb == b"DATA":
                in_data, body = True, []
                self.wfile.write(b"354 end with .\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def job_settings_redis():
    return redis_lib.Redis.from_url(jobs.context.settings()["REDIS_URL"])


def test_failures_are_emailed_when_smtp_is_configured(
    maya, admin, job_settings, sandbox, monkeypatch
):
    from webapp import mail

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setitem(mail._config, "url", f"smtp://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setitem(mail._config, "sender", "cadence@example.com")
    try:
        _, target = make_post(admin, maya, add_media(admin, job_settings))
        sandbox.control(
            "faults",
            {"queue": [{"path": "/upload/", "kind": "error", "status": 403, "code": "expired"}]},
        )
        assert drive(target.id).status == "failed"
        # The email is queued after the failure commits; a worker sends it.
        queued = [j for j in jobs.queue(job_settings_redis()).jobs if j.id.startswith("email-")]
        assert len(queued) == 1
        assert queued[0].perform() == "sent"
    finally:
        server.shutdown()
    assert len(server.messages) == 1
    message = server.messages[0]
    assert f"To: {admin.email}" in message
    assert "Subject: Cadence: A post failed: The upload link expired" in message
    # A whole link, into the post's workspace, at the address people reach Cadence at.
    public = job_settings["PUBLIC_URL"].rstrip("/")
    assert f"{public}/w/ada-admins-workspace/posts/{target.post_id}" in message


def test_a_mail_server_that_is_down_does_not_stop_publishing(
    maya, admin, job_settings, sandbox, monkeypatch
):
    from webapp import mail

    monkeypatch.setitem(mail._config, "url", "smtp://127.0.0.1:9")  # nothing listens there
    _, target = make_post(admin, maya, add_media(admin, job_settings), allow_duet=True)
    sandbox.control("creators/maya.rivers", {"duet_disabled": True})
    assert drive(target.id).status == "needs_attention"
    assert Notification.select().where(Notification.kind == "post_needs_attention").exists()


def test_a_due_post_says_it_is_on_its_way_and_a_later_one_that_it_waits(maya, admin, job_settings):
    post, target = make_post(admin, maya, add_media(admin, job_settings))
    # "Post now" stores the moment of the click: the widget must not say the post waits.
    assert publishing.live_message(PostTarget.get_by_id(target.id)) == (
        "Due now: on its way to TikTok."
    )
    Post.update(scheduled_at=utcnow() + dt.timedelta(hours=2)).where(Post.id == post.id).execute()
    assert publishing.live_message(PostTarget.get_by_id(target.id)) == "Waiting for its time."


def test_a_slow_mail_server_never_holds_the_transaction(maya, admin, job_settings, monkeypatch):
    """Email is queued after commit and sent by a worker: the state change doesn't wait for
    SMTP, and a change that rolls back emails nobody (issue 16)."""
    from webapp import mail

    silent = socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler)
    try:  # accepts connections, never greets: a mail server hanging for its 10 s timeout
        monkeypatch.setitem(mail._config, "url", f"smtp://127.0.0.1:{silent.server_address[1]}")
        _, target = make_post(admin, maya, add_media(admin, job_settings))
        r = job_settings_redis()
        with pytest.raises(RuntimeError), publishing.transaction():
            publishing.set_failed(target, code="x", message="Rolled back.", retryable=False)
            raise RuntimeError("the change is abandoned")
        assert PostTarget.get_by_id(target.id).status == "scheduled"
        assert not [j for j in jobs.queue(r).jobs if j.id.startswith("email-")]
        started = time.monotonic()
        publishing.set_failed(target, code="x", message="It failed.", retryable=False)
        assert time.monotonic() - started < 2
        note = Notification.get(Notification.message == "A post failed: It failed.")
        assert jobs.fetch(f"email-{note.id}", r).args == [note.id]
    finally:
        silent.server_close()
