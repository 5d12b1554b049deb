"""RQ jobs: plain functions that take ids, open their own DB connection, never build the web app.

Everything is enqueued through `enqueue()`, which gives each job a deterministic id so the
same work is never queued twice. Every queue, job, worker, result and the scheduler read and
write Redis with RQ's JSON serializer (SERIALIZER): RQ's default is pickle, which would let
anyone who can write to Redis run code in the workers and in the web process. This module is
the only place that builds RQ objects; everything else asks it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from redis import Redis
from rq import Queue, Worker
from rq.exceptions import DeserializationError, NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

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


def new_worker(connection: Redis, worker_class: type[Worker] = Worker) -> Worker:
    """Return an RQ worker for Cadence's queues (not named worker: jobs.worker is the module)."""
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
    func: Callable,
    *args: int | str,
    job_id: str,
    at: dt.datetime | None = None,
    queue_name: str = QUEUE_NAME,
    **options,
) -> Job:
    """Queue func(*args) under job_id, now or at a UTC time; an existing live job is reused.

    Job arguments are ids (ints or strs) so they survive JSON unchanged; anything else raises
    TypeError here, before it reaches Redis, and so do options RQ doesn't take.
    """
    for value in args:
        problem = id_only_problem(value)
        if problem:
            raise TypeError(f"{func.__name__}: job arguments must be ids: {problem}")
    unknown = set(options) - RQ_OPTIONS
    if unknown:
        raise TypeError(f"{func.__name__}: enqueue() takes no {', '.join(sorted(unknown))}")
    try:
        existing = fetch(job_id, connection)
    except NoSuchJobError:
        existing = None
    if existing is not None and not readable(existing):
        # A pickle from before the switch to JSON (or planted): RQ would keep its fields under
        # the new job's, so it goes entirely.
        existing.delete()
        existing = None
    if existing is not None and existing.get_status(refresh=True) in {
        "queued",
        "scheduled",
        "started",
        "deferred",
    }:
        return existing
    q = Queue(queue_name, connection=connection, serializer=SERIALIZER)
    if at is not None:
        when = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        return q.enqueue_at(when, func, *args, job_id=job_id, **options)
    return q.enqueue(func, *args, job_id=job_id, **options)
