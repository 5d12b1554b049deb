"""RQ jobs: plain functions that take ids, open their own DB connection, never build the web app.

The queue itself (RQ objects with the JSON serializer, job ids, enqueueing, dropping) belongs to
webapp.tasks, which enqueues these functions by dotted path so the web app never imports jobs;
its helpers are re-exported here for the job side.
"""

from __future__ import annotations

from webapp.tasks import (
    QUEUE_NAME,
    RQ_OPTIONS,
    SERIALIZER,
    UPLOAD_QUEUE,
    all_workers,
    current_job,
    enqueue,
    fetch,
    id_only_problem,
    new_worker,
    queue,
    readable,
    scheduler,
)

__all__ = [
    "QUEUE_NAME",
    "RQ_OPTIONS",
    "SERIALIZER",
    "UPLOAD_QUEUE",
    "all_workers",
    "current_job",
    "enqueue",
    "fetch",
    "id_only_problem",
    "new_worker",
    "queue",
    "readable",
    "scheduler",
]
