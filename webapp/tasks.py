"""The queue, as the web app and the jobs share it: job ids, RQ objects, enqueueing and dropping.

Jobs (in jobs/) are plain functions that take ids, open their own DB connection and never
build the web app. The web app never imports them: it enqueues them here by dotted path
("jobs.publishing.publish_target"), and jobs/__init__.py re-exports this module for the job side.

Everything is enqueued through `enqueue()`, which gives each job a deterministic id so the
same work is never queued twice. Every queue, job, worker, result and the scheduler read and
write Redis with RQ's JSON serializer (SERIALIZER): RQ's default is pickle, which would let
anyone who can write to Redis run code in the workers and in the web process. This module is
the only place that builds RQ objects; everything else asks it.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import functools
import json
import logging
import re
import threading
import time
from collections.abc import Callable

from redis import Redis
from rq import Queue, Worker
from rq.exceptions import (
    DequeueTimeout,
    DeserializationError,
    InvalidJobOperation,
    NoSuchJobError,
)
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty
from rq.worker import SimpleWorker, WorkerStatus

log = logging.getLogger(__name__)

QUEUE_NAME = "cadence"
# The upload stage of a publish (see jobs.publishing): its own queue, so the workers run its jobs
# on their own threads and an init never waits behind an upload.
UPLOAD_QUEUE = "cadence-upload"
SERIALIZER = JSONSerializer

# The RQ options enqueue() passes on; anything else would reach the job function as a keyword.
RQ_OPTIONS = frozenset({"job_timeout", "result_ttl", "failure_ttl", "ttl", "description"})


def queue(connection: Redis) -> Queue:
    """Return Cadence's queue on connection."""
    return Queue(QUEUE_NAME, connection=connection, serializer=SERIALIZER)


def new_worker(connection: Redis, worker_class: type[Worker] | None = None) -> Worker:
    """Return an RQ worker for Cadence's queues (not named worker: jobs.worker is the module)."""
    worker_class = worker_class or ThreadedWorker
    return worker_class([QUEUE_NAME, UPLOAD_QUEUE], connection=connection, serializer=SERIALIZER)


def all_workers(connection: Redis) -> list[Worker]:
    """Return every registered RQ worker."""
    return Worker.all(connection=connection, serializer=SERIALIZER)


def scheduler(connection: Redis, interval: int = 1):
    """Return RQ's scheduler for Cadence's queue (it promotes due scheduled jobs)."""
    from rq.scheduler import RQScheduler

    return RQScheduler(
        [QUEUE_NAME], connection=connection, interval=interval, serializer=SERIALIZER
    )


def fetch(job_id: str, connection: Redis) -> Job:
    """Return the job under job_id (raises NoSuchJobError when there is none)."""
    return Job.fetch(job_id, connection=connection, serializer=SERIALIZER)


def current_job() -> Job | None:
    """Return the job this worker is running (its serializer already JSON), or None."""
    from rq import get_current_job

    return get_current_job()


def readable(job: Job) -> bool:
    """Tell whether job's payload and meta are JSON (RQ marks meta it couldn't load)."""
    try:
        job.func_name  # noqa: B018 - decodes the payload
    except DeserializationError:
        return False
    return "unserialized" not in job.meta


def id_only_problem(value: object) -> str | None:
    """Say why value can't be a job argument (None when it can): ids and plain text only."""
    # bool is an int; JSON keeps it, but no job takes one, so it is refused as a likely mistake.
    if isinstance(value, bool) or type(value) not in (int, str):
        return f"{type(value).__name__} {value!r:.60} is not an id (an int or a str)"
    return None


def enqueue(
    connection: Redis,
    func: Callable | str,
    *args: int | str,
    job_id: str,
    at: dt.datetime | None = None,
    queue_name: str = QUEUE_NAME,
    **options,
) -> Job:
    """Queue func(*args) under job_id, now or at a UTC time; an existing live job is reused.

    func is a job's dotted path ("jobs.health.ping"), or the function itself on the job side.

    Job arguments are ids (ints or strs) so they survive JSON unchanged; anything else raises
    TypeError here, before it reaches Redis, and so do options RQ doesn't take.
    """
    name = func if isinstance(func, str) else func.__name__
    for value in args:
        problem = id_only_problem(value)
        if problem:
            raise TypeError(f"{name}: job arguments must be ids: {problem}")
    unknown = set(options) - RQ_OPTIONS
    if unknown:
        raise TypeError(f"{name}: enqueue() takes no {', '.join(sorted(unknown))}")
    try:
        existing = fetch(job_id, connection)
    except NoSuchJobError:
        existing = None
    if existing is not None and not readable(existing):
        # A pickle from before the switch to JSON (or planted): RQ would keep its fields under
        # the new job's, so it goes entirely.
        existing.delete()
        existing = None
    try:
        state = existing.get_status(refresh=True) if existing is not None else None
    except InvalidJobOperation:  # deleted between the two reads: there is none
        state = None
    if state in {"queued", "scheduled", "started", "deferred"}:
        return existing
    q = Queue(queue_name, connection=connection, serializer=SERIALIZER)
    if at is not None:
        when = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        return q.enqueue_at(when, func, *args, job_id=job_id, **options)
    return q.enqueue(func, *args, job_id=job_id, **options)


# --- Redis for code that runs in a request or in a job ------------------------------------------

_connections: dict[str, Redis] = {}


def connection() -> Redis:
    """Return Redis for this process: the web app's inside a request, else one for the settings
    that the process activated (webapp.config.activate)."""
    from flask import current_app, has_app_context

    if has_app_context() and "redis" in current_app.extensions:
        return current_app.extensions["redis"]
    from webapp import config

    url = config.active()["REDIS_URL"]
    if url not in _connections:
        _connections[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return _connections[url]


def drop(connection: Redis, job_id: str) -> None:
    """Remove a queued or scheduled job (it is gone from Redis afterwards); a started one stays."""
    try:
        job = fetch(job_id, connection)
        if job.get_status(refresh=False) != "started":
            job.delete()
    except (NoSuchJobError, InvalidJobOperation):  # gone meanwhile (another process dropped it)
        return


# --- Job ids and what each job is queued with ---------------------------------------------------

LEAD = dt.timedelta(seconds=10)  # publish jobs start this early, check the creator, then wait
PUBLISH_JOB = "jobs.publishing.publish_target"
STATUS_JOB = "jobs.publishing.check_status"
WEBHOOK_JOB = "jobs.webhooks.handle_event"
PING_JOB = "jobs.health.ping"
EMAIL_JOB = "jobs.notifications.email_notification"
INVITATION_EMAIL_JOB = "jobs.notifications.email_invitation"
MEDIA_CHECK_JOB = "jobs.media.check_media"
MEDIA_CONVERT_JOB = "jobs.media.convert_media"
MOCKUPS_JOB = "jobs.auditkit.build_mockups"
MOCKUPS_JOB_ID = "audit-kit-mockups"


def publish_job_id(target) -> str:
    """Return the id of the job that carries a post target forward (one per run)."""
    return f"publish-{target.id}-{target.attempts}"


def status_job_id(target) -> str:
    """Return the id of the next status check of a post target."""
    return f"status-{target.id}-{target.checks}"


def check_job_id(media) -> str:
    """Return the deterministic job id of a media's check (its random stored name in it)."""
    from pathlib import Path

    return f"media-check-{media.id}-{Path(media.stored_name).stem}"


def enqueue_publish(connection: Redis, target, when: dt.datetime | None) -> Job:
    """Queue the publish job of target, starting LEAD before `when` (UTC) or now."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    start = when - LEAD if when is not None and when - LEAD > now else None
    # A waiting job under this id (ids of deleted targets can come back on SQLite) may carry an
    # old time: replace it. A started one is left alone, and enqueue() returns it.
    drop(connection, publish_job_id(target))
    return enqueue(
        connection,
        PUBLISH_JOB,
        target.id,
        target.attempts,
        job_id=publish_job_id(target),
        at=start,
        job_timeout=6 * 3600,
        result_ttl=3600,
        failure_ttl=7 * 86400,
    )


def enqueue_status_check(connection: Redis, target, when: dt.datetime) -> Job:
    """Queue a status check of target at `when` (UTC), under its current check number."""
    return enqueue(
        connection,
        STATUS_JOB,
        target.id,
        job_id=status_job_id(target),
        at=when,
        result_ttl=600,
        failure_ttl=86400,
    )


def enqueue_webhook(connection: Redis, event_id: int) -> Job:
    """Queue the handling of a recorded webhook event."""
    return enqueue(connection, WEBHOOK_JOB, event_id, job_id=f"webhook-{event_id}")


def enqueue_ping(connection: Redis) -> Job:
    """Queue a round trip through a worker and the database (Admin → Queue)."""
    import time

    return enqueue(connection, PING_JOB, job_id=f"health-ping-{time.time_ns()}", result_ttl=300)


def enqueue_email(connection: Redis, notification_id: int) -> Job:
    """Queue the email of an in-app notification (sent by a worker, never inside a transaction)."""
    return enqueue(
        connection,
        EMAIL_JOB,
        notification_id,
        job_id=f"email-{notification_id}",
        job_timeout=60,
        result_ttl=600,
        failure_ttl=7 * 86400,
    )


def enqueue_invitation_email(connection: Redis, invitation_id: int, link: str) -> Job:
    """Queue the email carrying an invitation's link. The link's secret is in the job's
    arguments only while it waits: the job is deleted once it has run (result_ttl 0), and its
    description names the invitation, not the link."""
    return enqueue(
        connection,
        INVITATION_EMAIL_JOB,
        invitation_id,
        link,
        job_id=f"invitation-email-{invitation_id}",
        description=f"{INVITATION_EMAIL_JOB}({invitation_id})",
        job_timeout=60,
        result_ttl=0,
        failure_ttl=3600,
    )


def _media_timeout(frames_extra: int) -> int:
    from webapp import ffmpeg
    from webapp.media.storage import COVER_FRAMES

    return (COVER_FRAMES + frames_extra) * ffmpeg.SECONDS


def enqueue_check(connection: Redis, media) -> Job:
    """Queue the check of a media row (an existing live job for it is reused)."""
    return enqueue(
        connection,
        MEDIA_CHECK_JOB,
        media.id,
        job_id=check_job_id(media),
        job_timeout=_media_timeout(3),
        result_ttl=600,
        failure_ttl=7 * 86400,
    )


def enqueue_conversion(connection: Redis, media, copy) -> Job:
    """Queue the making of a photo's TikTok-ready copy into the copy's row."""
    from webapp import ffmpeg

    return enqueue(
        connection,
        MEDIA_CONVERT_JOB,
        media.id,
        copy.id,
        job_id=f"media-convert-{check_job_id(copy)}",
        job_timeout=3 * ffmpeg.SECONDS,
        result_ttl=600,
        failure_ttl=7 * 86400,
    )


def enqueue_mockups(connection: Redis) -> Job:
    """Queue the mockup build (one at a time: a running build is reused)."""
    return enqueue(
        connection, MOCKUPS_JOB, job_id=MOCKUPS_JOB_ID, job_timeout=900, result_ttl=86400
    )


# --- Admin Console → Queue: the workers, the waiting work, and a round trip --------------------

# A ping nobody picks up within this many seconds means no worker is listening.
PING_PATIENCE = 10
PING_ID = re.compile(r"health-ping-[0-9]+")
UNREADABLE_ANSWER = {
    "users": None,
    "note": "Its result in Redis isn't JSON, so Cadence didn't read it (it never unpickles).",
}


def _ping_answer(job) -> dict:
    """Read a finished ping's result as JSON only: the user count, or a note saying why not."""
    try:
        value = job.return_value()
    except ValueError:  # not UTF-8 / base64 / JSON: a pickle from an old version, or planted
        return UNREADABLE_ANSWER
    if isinstance(value, dict) and type(value.get("users")) is int:
        return {"users": value["users"], "note": ""}
    return {"users": None, "note": f"It answered {json.dumps(value)[:200]}, not a user count."}


def ping_state(job_id: str, connection: Redis) -> dict | None:
    """Return the widget's context for a ping job: waiting, answered, failed or nobody; None
    when there is no such ping."""
    if not PING_ID.fullmatch(job_id):
        return None  # also what rq refuses as an id (it raises on characters it doesn't allow)
    try:
        job = fetch(job_id, connection)
    except NoSuchJobError:
        return None
    except ValueError:  # a job hash RQ itself can't parse (a status or date it doesn't know)
        return {"job_id": job_id, "state": "unreadable", "waited": 0, **UNREADABLE_ANSWER}
    waited = int(time.time() - job.enqueued_at.timestamp()) if job.enqueued_at else 0
    status = job.get_status(refresh=True)
    if status == "finished":
        state = "answered"
    elif status == "failed":
        state = "failed"
    elif status == "queued" and waited >= PING_PATIENCE:
        state = "nobody"
    else:
        state = "waiting"
    found = {"job_id": job.id, "state": state, "waited": waited, "users": None, "note": ""}
    return {**found, **_ping_answer(job)} if state == "answered" else found


def overview(connection: Redis) -> dict:
    """Return the registered workers and how many jobs wait, are scheduled or failed, over
    both queues (uploads wait on their own)."""
    queues = [
        Queue(name, connection=connection, serializer=SERIALIZER)
        for name in (QUEUE_NAME, UPLOAD_QUEUE)
    ]
    return {
        "workers": all_workers(connection),
        "queued": sum(q.count for q in queues),
        "uploads_waiting": queues[1].count,
        "scheduled": sum(ScheduledJobRegistry(queue=q).count for q in queues),
        "failed": sum(FailedJobRegistry(queue=q).count for q in queues),
    }


# --- the workers: jobs on threads, in two lanes (see jobs.worker) ----------------------------


INIT_THREADS = 128  # per process: every post due in the same few seconds waits on its own
UPLOAD_THREADS = 4  # per process: a few uploads each keep the link busy between chunk replies


@functools.cache
def libc():
    """Return glibc (None elsewhere), for tuning the workers' memory."""
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return None


def _trim() -> None:
    """Give the memory a finished job freed back to the system."""
    c = libc()
    if c is not None:
        c.malloc_trim(0)


class ThreadedWorker(SimpleWorker):
    """An RQ worker that runs each job on a thread of its queue's lane, in this process.

    RQ keeps one `execution` per worker; here it is per thread. Job timeouts use RQ's timer
    (signals only reach the main thread). SIGTERM stops taking jobs (within a second) and waits
    for the running ones, as RQ's own warm shutdown does; a second SIGTERM ends the process.
    """

    death_penalty_class = TimerDeathPenalty
    lanes = {QUEUE_NAME: INIT_THREADS, UPLOAD_QUEUE: UPLOAD_THREADS}

    @property
    def execution(self):
        return getattr(self.__dict__.setdefault("_local", threading.local()), "execution", None)

    @execution.setter
    def execution(self, value) -> None:
        self.__dict__.setdefault("_local", threading.local()).execution = value

    def _lanes(self):
        if "_free" not in self.__dict__:
            self._free = {queue.name: self.lanes.get(queue.name, 1) for queue in self.queues}
            self._running = 0
            self._changed = threading.Condition()
        return self._free

    def _shutdown(self):
        # Stop dequeuing at the next turn of the loop; running jobs finish (see work()).
        self._stop_requested = True
        self.set_shutdown_requested_date()
        if self.scheduler:
            self.stop_scheduler()

    def prepare_job_execution(self, job, remove_from_intermediate_queue: bool = False) -> None:
        # With two queues RQ leaves the id in the intermediate list for maintenance; drop it now.
        super().prepare_job_execution(job, True)

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        """Return the next job of a lane with a free thread, or None to stop (burst done)."""
        free = self._lanes()
        while not self._stop_requested:
            self.heartbeat()
            with self._changed:
                open_queues = [queue for queue in self.queues if free[queue.name] > 0]
                if not open_queues:
                    self._changed.wait(1)
                    continue
            if timeout is None:  # burst: take what is there, never block
                result = self._dequeue(open_queues, None)
            else:  # block a second at most, to look at the lanes and the stop flag again
                result = self._dequeue(open_queues, 1)
            if result is not None:
                return result
            if timeout is None:  # burst: done when nothing runs that could queue more
                with self._changed:
                    if not self._running:
                        return None
                    self._changed.wait(0.2)
        return None

    def _dequeue(self, queues, timeout):
        try:
            return Queue.dequeue_any(
                queues,
                timeout,
                connection=self.connection,
                job_class=self.job_class,
                serializer=self.serializer,
                death_penalty_class=self.death_penalty_class,
            )
        except DequeueTimeout:
            return None

    def execute_job(self, job, queue) -> None:
        """Start job on a thread of its queue's lane and return at once."""
        free = self._lanes()
        with self._changed:
            free[queue.name] -= 1
            self._running += 1
        thread = threading.Thread(
            target=self._perform, args=(job, queue), name=f"job-{job.id}", daemon=True
        )
        thread.start()

    def _perform(self, job, queue) -> None:
        try:
            self.prepare_execution(job)
            self.perform_job(job, queue)
        except Exception:  # perform_job records job failures itself; this is RQ's own trouble
            self.log.exception("Worker %s: job %s could not be run", self.name, job.id)
        finally:
            self.execution = None
            with self._changed:
                self._free[queue.name] += 1
                self._running -= 1
                if not self._running:
                    self.set_state(WorkerStatus.IDLE)
                self._changed.notify_all()
            _trim()

    def wait_for_jobs(self) -> None:
        """Block until every job started here has ended."""
        self._lanes()
        with self._changed:
            while self._running:
                self._changed.wait(1)

    def teardown(self) -> None:
        if self._stop_requested:
            self.wait_for_jobs()  # a warm stop: the running jobs end before the worker leaves
        # Quitting on an error (Redis gone), the jobs run on: a new worker takes new ones at
        # once (jobs.worker), instead of after the slowest running job.
        super().teardown()
