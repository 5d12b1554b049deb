"""Jobs go through real Redis to a real worker process that reaches the same database."""

from __future__ import annotations

import os
import subprocess
import sys

import redis as redis_lib
from rq.job import Job

import jobs
from jobs.health import ping
from tests.conftest import csrf_token


def run_worker_burst(settings: dict) -> subprocess.CompletedProcess:
    """Run `python -m jobs.worker --burst` against the test database and Redis."""
    env = {**os.environ, "CADENCE_DOTENV": ""}
    for key in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"):
        env[key] = settings[key]
    return subprocess.run(
        [sys.executable, "-m", "jobs.worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_enqueue_uses_the_job_id_once(app):
    r = app.extensions["redis"]
    first = jobs.enqueue(r, ping, job_id="same-id")
    second = jobs.enqueue(r, ping, job_id="same-id")
    assert first.id == second.id == "same-id"
    assert jobs.queue(r).count == 1


def test_a_worker_runs_the_job_against_the_database(app, settings, admin):
    r = app.extensions["redis"]
    job = jobs.enqueue(r, ping, job_id="ping-1")
    result = run_worker_burst(settings)
    assert result.returncode == 0, result.stderr
    job = Job.fetch("ping-1", connection=r)
    assert job.get_status() == "finished"
    assert job.return_value() == {"users": 1}


def test_worker_refuses_production_without_a_secret(settings):
    result = run_worker_burst({**settings, "APP_ENV": "production", "SECRET_KEY": ""})
    assert result.returncode == 1
    assert result.stderr.strip().startswith("Cadence worker can't start: SECRET_KEY")


def test_queue_page_round_trip(admin_client, app, settings):
    page = admin_client.get("/admin/queue").get_data(as_text=True)
    assert "No worker is running" in page
    token = csrf_token(admin_client, "/admin/queue")
    started = admin_client.post(
        "/admin/queue/ping", data={"csrf_token": token}, headers={"HX-Request": "true"}
    )
    body = started.get_data(as_text=True)
    assert "Waiting for a worker" in body and 'hx-trigger="load delay:1s"' in body
    job_id = jobs.queue(app.extensions["redis"]).job_ids[0]
    assert run_worker_burst(settings).returncode == 0
    done = admin_client.get(f"/admin/queue/ping/{job_id}").get_data(as_text=True)
    assert "A worker ran the test job and reached the database (1 user)." in done
    assert "hx-trigger" not in done  # the finished widget stops polling


def test_queue_ping_works_as_a_plain_form(admin_client):
    token = csrf_token(admin_client, "/admin/queue")
    response = admin_client.post("/admin/queue/ping", data={"csrf_token": token})
    assert response.status_code == 303
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Waiting for a worker" in page


def test_unknown_ping_is_404(admin_client):
    assert admin_client.get("/admin/queue/ping/health-ping-0").status_code == 404
    assert admin_client.get("/admin/queue/ping/other-job").status_code == 404


def test_a_killed_promoters_lock_lapses_within_seconds(settings):
    from jobs.periodic import Promoter

    connection = redis_lib.Redis.from_url(settings["REDIS_URL"])
    holder, standby = Promoter(connection), Promoter(connection)
    assert holder.step() and not standby.step()
    # The holder is SIGKILLed here: it never steps again. RQ alone would keep its lock a minute.
    assert 0 < connection.ttl(holder.lock_key) <= Promoter.LOCK_SECONDS
    connection.expire(holder.lock_key, 0)  # what those seconds do
    assert standby.step()
