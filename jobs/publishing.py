"""The jobs that carry a post target to TikTok: publish (check, init, upload), status checks, and
the reconciler that re-queues whatever Redis lost.

Exactly once: the target row says how far it got, and each step is committed before the next
request leaves. `init_started_at` is committed before an init is sent and `publish_id` as soon as
it comes back, before any byte. A run that finds an init in flight from a dead run re-inits only
for FILE_UPLOAD (TikTok can't publish a video whose bytes never arrived); for PULL_FROM_URL it
reports "Unconfirmed" instead of risking a second post. A per-target Redis lock, kept alive by a
heartbeat, stops two runs from working on one target at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import threading
import time
import uuid
from pathlib import Path

import peewee as pw
from redis import Redis
from redis.exceptions import LockError, RedisError
from rq.exceptions import InvalidJobOperation, NoSuchJobError

import jobs
from jobs import context
from webapp import publishing as pub
from webapp.db import UNAVAILABLE, connected, db
from webapp.media.pull import pull_url
from webapp.models import Media, Post, PostTarget, TikTokService, utcnow
from webapp.tiktok import TikTokError, ratelimit
from webapp.tiktok import chunks as chunk_rules
from webapp.tiktok.client import TransportError
from webapp.tiktok.rules import Choices, Creator, MediaFacts, decide
from webapp.tiktok.tokens import ReconnectNeeded, client_for, refresh, valid_access_token

log = logging.getLogger(__name__)

LOCK_TTL = 15  # seconds; the heartbeat renews it every BEAT seconds while the run is alive
BEAT = 5
STALE_RUN = dt.timedelta(seconds=4 * BEAT)  # no heartbeat on the row for this long: dead run
INFRA_PATIENCE = 300  # seconds a run waits for the database or Redis to come back
MAX_RUNS = 8  # runs of one target (continuations after 429s and outages) before giving up
# No answer or a 5xx from creator_info or an init: the run asks again within itself, every
# second or two (jittered), for up to RETRY_FOR seconds (an outage), before it continues later.
# Posts due during an outage go out within a couple of seconds of its end.
RETRY_FOR = 120.0
RETRY_DELAYS = (0.5, 1.0, 1.5, 2.0)
# The rate limiter is waited on in the thread for at most this long; a longer wait ends the
# run, and the next one is queued at the time the limiter names (no thread sleeps a minute).
LIMIT_WAIT = 2.0
CHUNK_RETRIES = 6
STATUS_DELAYS = [2, 2, 3, 3, 5, 5, 10, 10, 15, 30, 30, 60]
RECONCILE_AHEAD = dt.timedelta(minutes=10)
LATE_CHECK = dt.timedelta(seconds=30)  # a status check this late is looked at
STUCK_CHECK = dt.timedelta(minutes=2)  # one still "started" this late died with its worker
SUPERSEDED = "superseded by a newer run"
# A job a worker took from its queue starts within moments: "queued" in no queue for this long
# means its worker died holding it.
LOST_JOB = dt.timedelta(seconds=5)


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


class _Patience:
    """The in-run retries of one request: wait() sleeps a short jittered step and tells
    whether to ask again (False once RETRY_FOR has passed or the run was superseded)."""

    def __init__(self):
        self.deadline = time.monotonic() + RETRY_FOR
        self.tries = 0

    def wait(self, heartbeat) -> bool:
        """Sleep before the next try; False when the run should stop retrying instead."""
        if time.monotonic() >= self.deadline or heartbeat.lost.is_set():
            return False
        step = RETRY_DELAYS[min(self.tries, len(RETRY_DELAYS) - 1)]
        self.tries += 1
        # The worker's threads share a few database connections: none is held while waiting.
        if not db.in_transaction():
            db.close()
        _sleep(step * random.uniform(0.75, 1.25))
        db.connect(reuse_if_open=True)
        return not heartbeat.lost.is_set()


class _Heartbeat:
    """Keep a run's claim alive: renew its Redis lock and touch its row every BEAT seconds.

    The row's updated_at is what the reconciler trusts (Redis can be flushed or restarted under
    a live run); the touch is fenced by the run number, so a run that was superseded learns it
    here and stops at its next step. A lock that vanished is taken back if nobody else has it.
    """

    def __init__(self, lock, target_id: int, run: int):
        self.lock, self.target_id, self.run = lock, target_id, run
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="target-heartbeat")

    def _beat(self) -> None:
        while not self._stop.wait(BEAT):
            self.beat()

    def beat(self) -> None:
        """Renew the lock (or take it back) and touch the row; set `lost` when superseded."""
        try:
            self.lock.reacquire()
        except LockError:
            token = self.lock.local.token
            if not self.lock.redis.set(self.lock.name, token, nx=True, px=LOCK_TTL * 1000):
                log.warning("target %s: another run holds the lock", self.target_id)
                self.lost.set()
        except RedisError:
            log.warning("target %s: Redis unavailable; the row keeps the claim", self.target_id)
        try:
            with connected():
                touched = pub.touch(self.target_id, self.run)
                if not touched and PostTarget.get_or_none(
                    (PostTarget.id == self.target_id) & (PostTarget.attempts != self.run)
                ):
                    self.lost.set()
        except pw.PeeweeException:
            log.warning("target %s: the database didn't take the heartbeat", self.target_id)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=2)


def _redis(settings: dict) -> Redis:
    return Redis.from_url(settings["REDIS_URL"])


def target_lock(redis: Redis, target_id: int):
    """Return the lock that one run of a target holds."""
    return redis.lock(lock_key(target_id), timeout=LOCK_TTL, thread_local=False)


def lock_key(target_id: int) -> str:
    """Return the Redis key of a target's run lock."""
    return f"cadence:lock:target:{target_id}"


# --- which worker process holds a run ------------------------------------------------------------
# A worker process announces itself (jobs.periodic's ticker renews `cadence:alive:<beacon>` every
# half second, for ALIVE_SECONDS) and its runs' lock tokens start with its beacon. A run whose
# process is gone (SIGKILL, out of memory) is then seen dead at once by the reconciler, instead
# of after its lock and its row's heartbeat lapse.

ALIVE_SECONDS = 3
_process = {"beacon": ""}


def announce(redis: Redis) -> None:
    """Say that this worker process is alive (call at least every ALIVE_SECONDS / 2)."""
    if not _process["beacon"]:
        _process["beacon"] = uuid.uuid4().hex
    redis.set(f"cadence:alive:{_process['beacon']}", 1, ex=ALIVE_SECONDS)


def lock_token() -> str:
    """Return a new lock token, carrying this process's beacon when it announces itself."""
    token = uuid.uuid4().hex
    return f"{_process['beacon']}.{token}" if _process["beacon"] else token


_FREE_IF_UNCHANGED = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _holder_alive(redis: Redis, target_id: int) -> bool | None:
    """Tell whether a live run holds the target's lock: None when there is no lock (Redis may
    have forgotten it under a live run); False when its process is gone, and the lock is freed
    for the next run."""
    key = lock_key(target_id)
    token = redis.get(key)
    if token is None:
        return None
    beacon, dot, _rest = token.decode(errors="replace").partition(".")
    if not dot or redis.exists(f"cadence:alive:{beacon}"):
        return True  # a run outside a worker (a script, a test) or a live process
    redis.eval(_FREE_IF_UNCHANGED, 1, key, token)
    return False


# --- the publish job ------------------------------------------------------------------------------


def publish_target(target_id: int, run: int | None = None) -> str:
    """Carry one post target as far as it can go now; return what happened.

    `run` is the target's run number (attempts) when the job was queued; a job from an older
    run, left behind by a crash or a flush, finds the number moved on and does nothing. This job
    checks, waits for the due second and inits; the upload goes to `upload_target` on the upload
    queue, so the workers' init threads are never taken by a transfer.
    """
    return _carry(target_id, run, stage="publish")


def upload_target(target_id: int, run: int, fresh: int = 0) -> str:
    """The upload stage of run `run` (queued by its publish job once TikTok gave an upload URL).

    `fresh` is 1 when that run sent the init itself, so TikTok holds no byte yet; otherwise the
    upload resumes from the progress TikTok reports.
    """
    return _carry(target_id, run, stage="upload", fresh=bool(fresh))


def upload_job_id(target_id: int, run: int) -> str:
    """Return the id of the upload job of one run of a target."""
    return f"upload-{target_id}-{run}"


def _carry(target_id: int, run: int | None, *, stage: str, fresh: bool = False) -> str:
    settings = context.settings()
    redis = _redis(settings)
    lock = target_lock(redis, target_id)
    # The database or Redis going away (a restart, a crash) ends the attempt, not the job: the
    # run starts over in this thread once they answer again, from where the row says it got, as
    # after a crash (fenced by the run number, so it never sends twice what it mustn't).
    deadline = time.monotonic() + INFRA_PATIENCE
    while True:
        try:
            return _carry_once(lock, redis, settings, target_id, run, stage=stage, fresh=fresh)
        except (*UNAVAILABLE, RedisError) as exc:
            if time.monotonic() >= deadline:
                raise
            log.warning("target %s: %s; trying again in a second", target_id, exc)
            fresh = False  # TikTok may hold some bytes by now: the upload asks it where it is
            _sleep(random.uniform(0.75, 1.25))


def _carry_once(lock, redis: Redis, settings: dict, target_id: int, run, *, stage, fresh) -> str:
    # Still ours after an attempt the database or Redis interrupted: carry on under it. A lock
    # left by a killed process is freed first, not waited out.
    if not lock.owned():
        _holder_alive(redis, target_id)
        if not lock.acquire(
            # The upload job may start while its publish job is still letting go of the lock.
            blocking=stage == "upload",
            blocking_timeout=10,
            token=lock_token(),
        ):
            return "another run holds this target"
    with connected():
        target = PostTarget.get_or_none(PostTarget.id == target_id)
        if target is None:
            outcome = "no such target"
        elif run is not None and target.attempts != run:
            outcome = f"superseded (run {run}, the target is at run {target.attempts})"
        else:
            with _Heartbeat(lock, target_id, target.attempts) as heartbeat:
                job = _Run(target_id, settings, redis, target.attempts, heartbeat, stage=stage)
                job.claimed_init = fresh
                outcome = job.go()
    # Not in a finally: after an outage the lock stays (it lapses by itself) for the retry.
    with contextlib.suppress(LockError, RedisError):
        lock.release()
    return outcome


class _Run:
    """One run of the publish job for one target."""

    def __init__(
        self,
        target_id: int,
        settings: dict,
        redis: Redis,
        run: int,
        heartbeat,
        stage: str = "publish",
    ):
        self.target_id = target_id
        self.stage = stage  # "publish": check, wait, init; "upload": the bytes and after
        self.run = run
        self.heartbeat = heartbeat
        self.settings = settings
        self.redis = redis
        self.service = TikTokService.load()
        self.client = client_for(self.service, settings)
        self.claimed_init = False

    # -- helpers --
    def target(self) -> PostTarget:
        return PostTarget.get_by_id(self.target_id)

    def update(self, where_status=None, **fields) -> int:
        """Change this run's target; fenced, so a superseded run changes nothing (returns 0)."""
        return pub.advance(self.target_id, self.run, where_status, **fields)

    def token(self, target: PostTarget) -> str:
        return valid_access_token(target.account_id, client=self.client, redis=self.redis)

    def later(self, seconds: float, why: str) -> str:
        """Stop this run and queue the next one in `seconds`."""
        target = self.target()
        if target.attempts + 1 >= MAX_RUNS:
            pub.fail_with(target, "gave_up", pub.CODES["gave_up"], run=self.run)
            return "gave up"
        when = utcnow() + dt.timedelta(seconds=max(1, seconds))
        if not pub.continue_later(self.redis, self.target_id, self.run, when, why):
            return SUPERSEDED
        return f"continues in {seconds:.0f} s"

    def ask(self, account_id: int, endpoint: str, send, target: PostTarget):
        """Send one counted call (send(token)); return (data, ""). A call TikTok never served
        (no answer, or a 5xx) gives its rate-limit slot back before the error goes on."""
        try:
            return send(self.token(target)), ""
        except TikTokError as exc:
            if exc.retryable and exc.code != "rate_limit_exceeded":
                with contextlib.suppress(RedisError):
                    ratelimit.refund(self.redis, account_id, endpoint)
            raise

    def slow_down(self, account_id: int, endpoint: str) -> str:
        """TikTok answered 429: continue after a hiccup's few seconds, or the whole window."""
        wait = ratelimit.refused(self.redis, account_id, endpoint)
        if wait >= 60:
            return self.later(wait, "TikTok asked to slow down; trying again in a minute.")
        return self.later(wait, "TikTok asked to slow down; trying again in a few seconds.")

    # -- the steps --
    def go(self) -> str:
        target = PostTarget.get_or_none(PostTarget.id == self.target_id)
        if target is None:
            return "no such target"
        if target.status == "scheduled":
            if not pub.start_run(self.target_id, self.run):
                return "the target changed meanwhile"
            target = self.target()
        if target.status != "publishing":
            return f"nothing to do ({target.status})"
        if self.stage == "upload" and target.phase != "uploading":
            return f"nothing to upload ({target.phase})"
        if target.phase in ("", "checking"):
            outcome = self.check_and_wait(target)
            if outcome:
                return outcome
            target = self.target()
        if target.phase == "initializing":
            outcome = self.init(target)
            if outcome:
                return outcome
            target = self.target()
        if target.phase == "uploading" and self.stage == "publish" and jobs.current_job():
            # On a worker the bytes go to the upload queue's threads; called directly (a
            # script, a test) the run carries on here.
            return self.hand_over_upload(target)
        if target.phase == "uploading":
            outcome = self.upload(target)
            if outcome:
                return outcome
            target = self.target()
        if target.phase == "processing":
            schedule_status_check(self.redis, target, delay=STATUS_DELAYS[0])
            return "processing on TikTok"
        return f"stopped at {target.phase}"

    def hand_over_upload(self, target: PostTarget) -> str:
        """Queue this run's upload on the upload queue; this job (an init thread) ends here."""
        jobs.enqueue(
            self.redis,
            upload_target,
            target.id,
            self.run,
            int(self.claimed_init),
            job_id=upload_job_id(target.id, self.run),
            queue_name=jobs.UPLOAD_QUEUE,
            job_timeout=6 * 3600,
            result_ttl=3600,
            failure_ttl=7 * 86400,
        )
        return "upload queued"

    def check_and_wait(self, target: PostTarget) -> str:
        """Run the composer's decision on fresh creator_info; wait for the minute; claim init."""
        post = target.post
        account = target.account
        if account.status != "connected":
            pub.set_needs_attention(
                target, [account.status_reason or "The account must be reconnected."], run=self.run
            )
            return "account not connected"
        patience = _Patience()
        while True:
            try:
                ratelimit.acquire(self.redis, account.id, "creator_info", max_wait=LIMIT_WAIT)
                data, code = self.ask(account.id, "creator_info", self.client.creator_info, target)
                break
            except ReconnectNeeded as exc:
                pub.set_needs_attention(target, [str(exc)], run=self.run)
                return "reconnect needed"
            except ratelimit.RateLimited as exc:
                return self.later(exc.wait, "Waiting for TikTok's per-minute limit.")
            except TikTokError as exc:
                if exc.code in pub.CANT_POST_NOW:
                    data, code = exc.data, exc.code
                    break
                if exc.code == "rate_limit_exceeded":
                    return self.slow_down(account.id, "creator_info")
                if exc.retryable and patience.wait(self.heartbeat):
                    continue
                if exc.retryable:
                    return self.later(10, "TikTok didn't answer; trying again.")
                return self.later(15 * (target.attempts + 1), "TikTok didn't answer; trying again.")
        creator = Creator.from_api(data, code)
        decision = decide(
            creator=creator,
            media=pub.media_facts(pub.ordered_media(post), post.post_type),
            post_type=post.post_type,
            share_type=self.service.share_type,
            audited=self.service.audited,
            choices=pub.choices_of(target, post),
        )
        if not decision.allowed:
            pub.set_needs_attention(target, decision.errors or [decision.blocked], run=self.run)
            return "needs attention"
        due = post.scheduled_at
        if due is not None:
            wait = (due - dt.datetime.now(dt.UTC).replace(tzinfo=None)).total_seconds()
            if wait > 0:
                # No database connection is held while waiting (a thread per due post).
                if wait > 1:
                    db.close()
                _sleep(wait)
                db.connect(reuse_if_open=True)
        source = self.source(post)
        if source is None:
            pub.set_needs_attention(
                target,
                [
                    "Photo posts (and PULL_FROM_URL) need the verified media URL prefix in "
                    "Admin Console → Services."
                ],
                run=self.run,
            )
            return "needs attention"
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        if self.heartbeat.lost.is_set() or not self.update(
            ["publishing"], phase="initializing", init_started_at=now, source=source
        ):
            return SUPERSEDED
        self.claimed_init = True
        pub.record(target, "started", "Sending to TikTok", {"post_info": decision.post_info})
        self.post_info = decision.post_info
        return ""

    def source(self, post: Post) -> str | None:
        prefix = self.service.media_url_prefix
        if post.post_type == "photo":
            return "PULL_FROM_URL" if prefix else None
        if self.service.upload_method == "PULL_FROM_URL":
            return "PULL_FROM_URL" if prefix else None
        return "FILE_UPLOAD"

    def init(self, target: PostTarget) -> str:
        """Send the init request (once), save publish_id before any byte moves."""
        if target.publish_id:
            self.update(phase="uploading" if target.source == "FILE_UPLOAD" else "processing")
            return ""
        if not self.claimed_init:
            # A run died with an init in flight. A FILE_UPLOAD init without bytes can't become
            # a post, so sending a new one is safe; a pulled one might have been published.
            if target.init_started_at is not None and target.source == "PULL_FROM_URL":
                pub.set_unconfirmed(
                    target,
                    "Cadence stopped while TikTok was being asked to publish, and can't tell "
                    "whether TikTok received it. Check your TikTok profile before posting again.",
                    run=self.run,
                )
                return "unconfirmed"
            outcome = self.check_and_wait(target)
            if outcome:
                return outcome
            target = self.target()
        post = target.post
        media = ordered_media(post)
        inbox = self.service.share_type != "direct_post"
        endpoint = (
            "content_init"
            if post.post_type == "photo"
            else ("inbox_init" if inbox else "video_init")
        )
        size = chunk_size = count = 0
        if post.post_type == "photo":
            source_info = {
                "source": "PULL_FROM_URL",
                "photo_images": [self.url_of(m) for m in media],
                "photo_cover_index": post.photo_cover_index,
            }
        elif target.source == "PULL_FROM_URL":
            source_info = {"source": "PULL_FROM_URL", "video_url": self.url_of(media[0])}
        else:
            size = self.path_of(media[0]).stat().st_size
            chunk_size, count = chunk_rules.plan(size, self.settings["UPLOAD_CHUNK_BYTES"])
            source_info = {
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": chunk_size,
                "total_chunk_count": count,
            }
        patience = _Patience()
        refreshed = False
        while True:
            if self.heartbeat.lost.is_set():
                return SUPERSEDED
            try:
                ratelimit.acquire(self.redis, target.account_id, endpoint, max_wait=LIMIT_WAIT)
                if post.post_type == "photo":

                    def send(token):
                        return self.client.init_photo(
                            token,
                            post_mode="MEDIA_UPLOAD" if inbox else "DIRECT_POST",
                            post_info=self.post_info,
                            source_info=source_info,
                        )
                else:

                    def send(token):
                        return self.client.init_video(
                            token, source_info=source_info, post_info=self.post_info, inbox=inbox
                        )

                data, _code = self.ask(target.account_id, endpoint, send, target)
                break
            except ReconnectNeeded as exc:
                self.update(init_started_at=None)
                pub.set_failed(target, code="reconnect_needed", message=str(exc), retryable=True)
                return "reconnect needed"
            except ratelimit.RateLimited as exc:
                self.update(init_started_at=None, phase="checking")
                return self.later(exc.wait, "Waiting for TikTok's per-minute limit.")
            except TransportError:
                if target.source == "PULL_FROM_URL":
                    pub.set_unconfirmed(
                        target,
                        "TikTok didn't answer the request to publish, so Cadence can't tell "
                        "whether it arrived. Check your TikTok profile before posting again.",
                    )
                    return "unconfirmed"
                if not patience.wait(self.heartbeat):
                    self.update(init_started_at=None, phase="checking")
                    return self.later(30, "TikTok didn't answer; trying again shortly.")
            except TikTokError as exc:
                if exc.code == "access_token_invalid" and not refreshed:
                    refresh(target.account_id, client=self.client, redis=self.redis, force=True)
                    refreshed = True
                    continue
                if exc.code == "rate_limit_exceeded":
                    self.update(init_started_at=None, phase="checking")
                    return self.slow_down(target.account_id, endpoint)
                if exc.retryable:
                    if not patience.wait(self.heartbeat):
                        self.update(init_started_at=None, phase="checking")
                        return self.later(30, "TikTok had a problem; trying again shortly.")
                    continue
                self.update(init_started_at=None)
                pub.fail_with(target, exc.code, pub.init_error(exc.code), run=self.run)
                return f"refused: {exc.code}"
        publish_id = str(data.get("publish_id", ""))
        with db.atomic():
            fields = dict(
                publish_id=publish_id,
                initialized_at=utcnow(),
                phase="uploading" if source_info["source"] == "FILE_UPLOAD" else "processing",
                total_bytes=size,
                chunk_size=chunk_size,
                uploaded_bytes=0,
            )
            if data.get("upload_url"):
                holder = PostTarget()
                holder.set_upload_url(str(data["upload_url"]))
                fields["upload_url_enc"] = holder.upload_url_enc
            if not self.update(**fields):
                # Another run took over while this init was on its way: TikTok gets no bytes
                # for this publish_id, so it can't become a post.
                log.warning("target %s: init %s answered after a newer run", target.id, publish_id)
                return SUPERSEDED
            pub.record(
                target, "initialized", "TikTok accepted the post", {"publish_id": publish_id}
            )
        return ""

    def upload(self, target: PostTarget) -> str:
        """Send the chunks in order from wherever TikTok's progress says, streamed from disk."""
        post = target.post
        media = ordered_media(post)[0]
        path = self.path_of(media)
        size, chunk = target.total_bytes, target.chunk_size
        count = 1 if size < chunk_rules.MIN_CHUNK else size // chunk
        url = target.upload_url()
        received = 0
        if not self.claimed_init:
            # Resuming after a dead run: ask TikTok how much it holds.
            known = self.progress_from_status(target)
            if isinstance(known, str):
                return known
            received = known
        failures = 0
        while received < size:
            if self.heartbeat.lost.is_set():
                return SUPERSEDED
            index = chunk_rules.index_at(received, chunk, count)
            first, last = chunk_rules.bounds(size, chunk, count, index)
            try:
                reply = self.client.put_chunk(
                    url,
                    path,
                    first=first,
                    last=last,
                    total=size,
                    content_type=media.content_type or "video/mp4",
                )
            except TransportError:
                failures += 1
                if failures > CHUNK_RETRIES:
                    return self.later(30, "The upload keeps being interrupted; resuming shortly.")
                _sleep(min(2**failures, 30))
                continue
            if reply.status in (201, 206):
                received = reply.received if reply.received is not None else last + 1
                failures = 0
                if not self.update(uploaded_bytes=received):
                    return SUPERSEDED
                if reply.status == 201:
                    break
                continue
            if reply.status in (416, 429) or reply.status >= 500:
                # 416: resume where TikTok's Content-Range says; 429 and 5xx: back off, resend.
                failures += 1
                if failures > CHUNK_RETRIES:
                    return self.later(30, "TikTok had problems taking the video; resuming shortly.")
                if reply.received is not None:
                    received = reply.received
                if reply.status != 416:
                    _sleep(min(2**failures, 30))
                continue
            if reply.status == 403:
                pub.fail_with(
                    target, "upload_url_expired", pub.upload_refused(403, ""), run=self.run
                )
                return "upload URL expired"
            code = reply.code if reply.code not in ("", "ok") else f"upload_http_{reply.status}"
            pub.fail_with(target, code, pub.upload_refused(reply.status, code), run=self.run)
            return f"upload refused ({reply.status} {code})"
        self.update(phase="processing", uploaded_bytes=size, upload_url_enc=None)
        pub.record(self.target(), "uploaded", "The whole video reached TikTok")
        return ""

    def progress_from_status(self, target: PostTarget) -> int | str:
        """Return the bytes TikTok holds for a resumed upload (or an outcome string)."""
        try:
            ratelimit.acquire(self.redis, target.account_id, "status", max_wait=10)
            data = self.client.publish_status(self.token(target), target.publish_id)
        except TikTokError as exc:
            if exc.code in pub.STATUS_ERRORS:
                pub.fail_with(target, exc.code, pub.CODES[exc.code], run=self.run)
                return f"failed ({exc.code})"
            return 0  # send chunk 0: its reply's Content-Range says where TikTok stands
        except (ReconnectNeeded, ratelimit.RateLimited):
            return 0
        status = str(data.get("status", ""))
        if status != "PROCESSING_UPLOAD":
            self.update(phase="processing")
            pub.apply_status(
                target.id,
                status,
                fail_reason=str(data.get("fail_reason", "")),
                post_ids=data.get("publicaly_available_post_id"),
            )
            return "processing on TikTok"
        return int(data.get("uploaded_bytes") or 0)

    def path_of(self, media: Media) -> Path:
        return Path(self.settings["MEDIA_ROOT"]) / media.stored_name

    def url_of(self, media: Media) -> str:
        return pull_url(media, self.service.media_url_prefix, self.settings["SECRET_KEY"])


def ordered_media(post: Post) -> list[Media]:
    """Return a post's media in order."""
    return pub.ordered_media(post)


def media_facts(post: Post) -> MediaFacts | None:
    """Return what the composer's decision needs to know about a post's media."""
    return pub.media_facts(pub.ordered_media(post), post.post_type)


def choices_of(target: PostTarget, post: Post) -> Choices:
    """Return the choices the user confirmed for this account (never changed here)."""
    return pub.choices_of(target, post)


# --- status checks --------------------------------------------------------------------------------


def schedule_status_check(redis: Redis, target: PostTarget, *, delay: float) -> None:
    """Queue the next status check of target in `delay` seconds."""
    pub.schedule_status_check(redis, target, delay=delay)


def _needs_checks(target: PostTarget) -> bool:
    return pub.needs_checks(target)


def check_status(target_id: int) -> str:
    """Ask status/fetch where a publish stands; apply it; check again later if unfinished."""
    settings = context.settings()
    redis = _redis(settings)
    with connected():
        target = PostTarget.get_or_none(PostTarget.id == target_id)
        if target is None or not target.publish_id or not _needs_checks(target):
            return "nothing to check"
        if pub.overdue(target):
            return pub.apply_status(target.id, "UNCONFIRMED")
        client = client_for(TikTokService.load(), settings)
        delay = STATUS_DELAYS[min(target.checks, len(STATUS_DELAYS) - 1)]
        try:
            ratelimit.acquire(redis, target.account_id, "status", max_wait=5)
            token = valid_access_token(target.account_id, client=client, redis=redis)
            data = client.publish_status(token, target.publish_id)
        except ratelimit.RateLimited as exc:
            schedule_status_check(redis, target, delay=max(delay, exc.wait))
            return "rate limited"
        except ReconnectNeeded:
            schedule_status_check(redis, target, delay=60)
            return "account needs reconnecting; the webhook or a later check may still tell"
        except TikTokError as exc:
            if exc.code in pub.STATUS_ERRORS:
                # Asking again for an hour can't change TikTok's answer: end it now. A post
                # already published only stops waiting for its public link.
                if target.status == "published":
                    pub.stop_checks(target, pub.STATUS_ERRORS[exc.code])
                    return f"stopped checking ({exc.code})"
                pub.fail_with(target, exc.code, pub.CODES[exc.code])
                return f"failed ({exc.code})"
            if exc.code == "access_token_invalid":
                with contextlib.suppress(TikTokError, ReconnectNeeded):
                    refresh(target.account_id, client=client, redis=redis, force=True)
            schedule_status_check(redis, target, delay=max(delay, 10))
            return f"no answer ({exc.code})"
        outcome = pub.apply_status(
            target.id,
            str(data.get("status", "")),
            fail_reason=str(data.get("fail_reason", "")),
            post_ids=data.get("publicaly_available_post_id"),
            uploaded_bytes=data.get("uploaded_bytes"),
        )
        target = PostTarget.get_by_id(target.id)
        if _needs_checks(target):
            schedule_status_check(redis, target, delay=delay)
        elif pub.in_moderation(target):
            pub.stop_checks(target)
        return outcome


# --- the reconciler -------------------------------------------------------------------------------


def _job_alive(redis: Redis, job_id: str) -> str:
    """Return the job's status, or '' when Redis doesn't know it."""
    try:
        job = jobs.fetch(job_id, redis)
        state = job.get_status(refresh=True) or ""
    except (NoSuchJobError, InvalidJobOperation):  # gone between the two reads
        return ""
    # "queued" or "scheduled" in its hash but in no queue: taken by a worker killed before it
    # could start it, or half-written by an enqueue that Redis lost. Nobody will run it.
    if state == "queued" and redis.lpos(f"rq:queue:{job.origin}", job_id) is None:
        enqueued = job.enqueued_at
        fresh = enqueued is not None and utcnow() - enqueued.replace(tzinfo=None) < LOST_JOB
        return state if fresh else ""
    if state == "scheduled" and redis.zscore(f"rq:scheduled:{job.origin}", job_id) is None:
        return ""
    return state


def _started_job_alive(redis: Redis, target_id: int, job_id: str, now: dt.datetime) -> bool:
    holder = _holder_alive(redis, target_id)
    if holder is not None:
        return holder
    try:
        started = jobs.fetch(job_id, redis).started_at
    except NoSuchJobError:
        return False
    # Without a lock: alive only if it started moments ago (it takes the lock first thing).
    return started is not None and now - started.replace(tzinfo=None) < STALE_RUN


def resume_dead_runs() -> int:
    """Queue a new run for every run that died (its worker process killed, its job lost with
    Redis); return how many. Cheap: runs every few seconds."""
    settings = context.settings()
    with connected():
        return _resume_dead_runs(_redis(settings), utcnow())


def _resume_dead_runs(redis: Redis, now: dt.datetime) -> int:
    resumed = 0
    # A job that a killed process took just before its run began (the target still scheduled):
    # its lock names the process.
    starting = (
        PostTarget.select(PostTarget, Post)
        .join(Post)
        .where(
            (PostTarget.status == pub.Status.SCHEDULED)
            & (Post.status != "draft")
            & (Post.scheduled_at <= now + 2 * pub.LEAD)
        )
    )
    for target in starting:
        if _holder_alive(redis, target.id) is False:
            pub.requeue(redis, target, new_run=True, when=target.post.scheduled_at)
            resumed += 1
    running = PostTarget.select().where(
        (PostTarget.status == pub.Status.PUBLISHING) & PostTarget.phase.in_(pub.RUN_PHASES)
    )
    for target in running:
        holder = _holder_alive(redis, target.id)
        if holder:
            continue
        # Without a lock, the row is trusted over Redis (flushed or restarted under a live
        # run, which takes its lock back at its next heartbeat): a live run touches it every
        # BEAT seconds. A lock whose process is gone needs no such wait.
        if holder is None and now - target.updated_at < STALE_RUN:
            continue
        state = _job_alive(redis, pub.publish_job_id(target))
        if state in ("queued", "scheduled", "deferred"):
            continue
        # An upload waiting for a thread of the upload queue: its run is alive.
        if _job_alive(redis, upload_job_id(target.id, target.attempts)) == "queued":
            continue
        pub.requeue(redis, target, new_run=True)
        resumed += 1
    return resumed


def reconcile() -> dict:
    """Re-queue what Redis lost (a restart or a flush), resume runs that died, and give up on
    publishes TikTok never confirmed. Runs every ~30 s; safe to run anywhere, any number of times.
    """
    settings = context.settings()
    redis = _redis(settings)
    done = {"queued": 0, "resumed": 0, "checks": 0, "unconfirmed": 0}
    now = utcnow()
    with connected():
        due = (
            PostTarget.select(PostTarget, Post)
            .join(Post)
            .where(
                (PostTarget.status == "scheduled")
                # Drafts and posts awaiting approval never go out on their own.
                & Post.status.not_in([pub.Status.DRAFT, pub.Status.AWAITING_APPROVAL])
                & (Post.scheduled_at <= now + RECONCILE_AHEAD)
            )
        )
        for target in due:
            job_id = pub.publish_job_id(target)
            state = _job_alive(redis, job_id)
            # A job "started" on a worker that was killed before its run began stays "started"
            # (RQ only notices at its timeout): it is dead once its process or its lock is gone.
            dead = state == "started" and not _started_job_alive(redis, target.id, job_id, now)
            if dead or state in ("", "failed", "stopped", "canceled", "finished"):
                pub.requeue(
                    redis,
                    target,
                    new_run=dead or state in ("failed", "finished"),
                    when=target.post.scheduled_at,
                )
                done["queued"] += 1
        done["resumed"] = _resume_dead_runs(redis, now)
        checking = PostTarget.select().where(pub.AWAITING_NEWS)
        for target in checking:
            if pub.overdue(target, now):
                pub.apply_status(target.id, "UNCONFIRMED")
                done["unconfirmed"] += 1
                continue
            if not _needs_checks(target):
                pub.stop_checks(target)
                continue
            late_by = (
                dt.timedelta.max if target.next_check_at is None else now - target.next_check_at
            )
            state = _job_alive(redis, pub.status_job_id(target)) if late_by > LATE_CHECK else ""
            # A check takes seconds: one still "started" long after its time ran on a worker
            # that was killed (RQ only notices at the job's timeout), so it is asked again.
            alive = state in ("queued", "scheduled") or (
                state == "started" and late_by < STUCK_CHECK
            )
            if late_by > LATE_CHECK and not alive:
                schedule_status_check(redis, target, delay=0)
                done["checks"] += 1
    return done
