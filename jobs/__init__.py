"""RQ jobs: plain functions that take ids, open their own DB connection, never build the web app.

Everything is enqueued through `enqueue()`, which gives each job a deterministic id so the
same work is never queued twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

QUEUE_NAME = "cadence"


def queue(connection: Redis) -> Queue:
    """Return Cadence's queue on connection."""
    return Queue(QUEUE_NAME, connection=connection)


def enqueue(
    connection: Redis,
    func: Callable,
    *args,
    job_id: str,
    at: dt.datetime | None = None,
    **kwargs,
) -> Job:
    """Queue func(*args) under job_id, now or at a UTC time; an existing live job is reused."""
    try:
        existing = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        existing = None
    if existing is not None and existing.get_status(refresh=True) in {
        "queued",
        "scheduled",
        "started",
        "deferred",
    }:
        return existing
    q = queue(connection)
    if at is not None:
        when = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
        return q.enqueue_at(when, func, *args, job_id=job_id, **kwargs)
    return q.enqueue(func, *args, job_id=job_id, **kwargs)
