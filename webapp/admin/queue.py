"""Admin Console → Queue: are workers running, how much work waits, and a live round trip."""

from __future__ import annotations

import json
import re
import time

from flask import abort, redirect, render_template, request, url_for
from rq.exceptions import NoSuchJobError
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from webapp import tasks
from webapp.admin import bp
from webapp.extensions import get_redis
from webapp.htmx import wants_partial

# A ping nobody picks up within this many seconds means no worker is listening.
PING_PATIENCE = 10
PING_ID = re.compile(r"health-ping-[0-9]+")
UNREADABLE_ANSWER = {
    "users": None,
    "note": "Its result in Redis isn't JSON, so Cadence didn't read it (it never unpickles).",
}


def _answer(job) -> dict:
    """Read a finished ping's result as JSON only: the user count, or a note saying why not."""
    try:
        value = job.return_value()
    except ValueError:  # not UTF-8 / base64 / JSON: a pickle from an old version, or planted
        return UNREADABLE_ANSWER
    if isinstance(value, dict) and type(value.get("users")) is int:
        return {"users": value["users"], "note": ""}
    return {"users": None, "note": f"It answered {json.dumps(value)[:200]}, not a user count."}


def _ping_state(job_id: str) -> dict:
    """Return the widget's context for a ping job: waiting, answered, failed or nobody."""
    if not PING_ID.fullmatch(job_id):
        abort(404)  # also what rq refuses as an id (it raises on characters it doesn't allow)
    try:
        job = tasks.fetch(job_id, get_redis())
    except NoSuchJobError:
        abort(404)
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
    return {**found, **_answer(job)} if state == "answered" else found


@bp.route("/queue")
def queue():
    """Show workers, queue sizes and failed jobs (and a test job's progress when asked)."""
    r = get_redis()
    q = tasks.queue(r)
    ping_id = request.args.get("ping")
    return render_template(
        "admin/queue.html",
        workers=tasks.all_workers(r),
        queued=q.count,
        scheduled=ScheduledJobRegistry(queue=q).count,
        failed=FailedJobRegistry(queue=q).count,
        ping=_ping_state(ping_id) if ping_id else None,
    )


@bp.route("/queue/ping", methods=["POST"])
def queue_ping():
    """Send a job through the queue; show the widget that waits for its answer."""
    job = tasks.enqueue_ping(get_redis())
    if not wants_partial():
        return redirect(url_for("admin.queue", ping=job.id), code=303)
    return render_template("admin/_ping.html", **_ping_state(job.id))


@bp.route("/queue/ping/<job_id>")
def queue_ping_status(job_id: str):
    """Render the ping widget in its current state."""
    return render_template("admin/_ping.html", **_ping_state(job_id))
