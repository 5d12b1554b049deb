"""Jobs go through real Redis to a real worker process that reaches the same database."""

from __future__ import annotations

import ast
import base64
import datetime as dt
import html
import json
import os
import pickle
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import redis as redis_lib

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
    job = jobs.fetch("ping-1", r)
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


def test_queue_page_counts_uploads_waiting_on_their_own_queue(admin_client, app):
    r = redis_lib.Redis.from_url(app.config["REDIS_URL"])
    jobs.enqueue(r, ping, job_id="health-ping-1")
    jobs.enqueue(r, ping, job_id="upload-7-0", queue_name=jobs.UPLOAD_QUEUE)
    page = admin_client.get("/admin/queue").get_data(as_text=True)
    assert "Waiting: 2 (uploads: 1)" in page


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


# --- RQ's JSON serializer: a pickle planted in Redis is never loaded (issue 13, item 14) ---------


class _Planted:
    """What an attacker who can write to Redis pickles: loading it creates a file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _planted_pickle(marker) -> bytes:
    payload = pickle.dumps(_Planted(marker))
    # The payload is live: whoever unpickles it creates the marker (checked on a decoy path).
    decoy = f"{marker}.decoy"
    pickle.loads(pickle.dumps(_Planted(decoy))).close()  # noqa: S301 - the decoy, on purpose
    assert os.path.exists(decoy)
    os.remove(decoy)
    return payload


def _plant_job(r, job_id: str, payload: bytes, *, status: str, queued: bool) -> None:
    """Write an RQ job hash by hand, as someone with access to Redis would."""
    now = "2026-01-01T00:00:00.000000Z"
    r.hset(
        f"rq:job:{job_id}",
        mapping={
            "data": zlib.compress(payload),
            "meta": payload,
            "result": payload,  # RQ's older place for a return value
            "origin": jobs.QUEUE_NAME,
            "status": status,
            "created_at": now,
            "enqueued_at": now,
            "description": "planted",
        },
    )
    if queued:
        r.sadd("rq:queues", f"rq:queue:{jobs.QUEUE_NAME}")
        r.rpush(f"rq:queue:{jobs.QUEUE_NAME}", job_id)


def test_rq_pickle_serializer_is_gone_a_planted_job_is_never_unpickled_by_a_worker(
    app, settings, admin, tmp_path
):
    r = app.extensions["redis"]
    marker = tmp_path / "worker-unpickled"
    _plant_job(r, "planted-1", _planted_pickle(marker), status="queued", queued=True)
    jobs.enqueue(r, ping, job_id="ping-after")  # the worker carries on after the planted job
    result = run_worker_burst(settings)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert jobs.fetch("planted-1", r).get_status() == "failed"
    assert jobs.fetch("ping-after", r).return_value() == {"users": 1}


def test_rq_pickle_serializer_is_gone_the_queue_page_never_unpickles_a_result(
    admin_client, app, tmp_path
):
    r = app.extensions["redis"]
    marker = tmp_path / "web-unpickled"
    payload = _planted_pickle(marker)
    _plant_job(r, "health-ping-1", payload, status="finished", queued=False)
    r.xadd(
        "rq:results:health-ping-1",
        {"type": 1, "return_value": base64.b64encode(payload), "worker_name": "w"},
    )
    for url in ("/admin/queue?ping=health-ping-1", "/admin/queue/ping/health-ping-1"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        body = html.unescape(response.get_data(as_text=True))
        assert "The test job's answer can't be shown." in body
        assert "isn't JSON, so Cadence didn't read it" in body
    assert not marker.exists()


def test_rq_pickle_serializer_is_gone_jobs_are_stored_as_json(app, settings, admin):
    r = app.extensions["redis"]
    jobs.enqueue(r, ping, job_id="ping-json")
    assert json.loads(zlib.decompress(r.hget("rq:job:ping-json", "data")))[0] == "jobs.health.ping"
    assert run_worker_burst(settings).returncode == 0
    ((_id, stored),) = r.xrevrange("rq:results:ping-json", count=1)
    assert json.loads(base64.b64decode(stored[b"return_value"])) == {"users": 1}


@pytest.mark.parametrize(
    "argument",
    [dt.datetime(2026, 1, 1), 1.5, True, None, (1, 2), [1], {"id": 1}, b"1", object()],
    # A bare object's repr holds its address, which differs between xdist workers; they must
    # collect the same test ids.
    ids=lambda argument: "object()" if type(argument) is object else repr(argument),
)
def test_rq_pickle_serializer_is_gone_enqueue_refuses_anything_but_ids(app, argument):
    r = app.extensions["redis"]
    with pytest.raises(TypeError, match="job arguments must be ids"):
        jobs.enqueue(r, ping, argument, job_id="not-an-id")
    assert r.exists("rq:job:not-an-id") == 0


def test_enqueue_refuses_keywords_that_would_reach_the_job(app):
    with pytest.raises(TypeError, match="takes no when"):
        jobs.enqueue(app.extensions["redis"], ping, job_id="kw", when=dt.datetime(2026, 1, 1))


def test_rq_pickle_serializer_is_gone_a_pickled_job_under_a_reused_id_is_replaced(
    app, settings, admin, tmp_path
):
    # What Redis holds after an upgrade from the pickle days, or after someone planted it.
    r = app.extensions["redis"]
    marker = tmp_path / "reused-unpickled"
    _plant_job(r, "ping-reused", _planted_pickle(marker), status="failed", queued=False)
    jobs.enqueue(r, ping, job_id="ping-reused")
    assert r.hget("rq:job:ping-reused", "meta") is None
    assert run_worker_burst(settings).returncode == 0
    assert jobs.fetch("ping-reused", r).return_value() == {"users": 1}
    assert not marker.exists()


def test_no_helper_of_jobs_is_shadowed_by_a_submodule():
    # `import jobs.worker` binds jobs.worker to the module, hiding a helper of that name.
    package = Path(jobs.__file__).parent
    helpers = {
        node.name
        for node in ast.parse((package / "__init__.py").read_text()).body
        if isinstance(node, ast.FunctionDef)
    }
    assert helpers & {path.stem for path in package.glob("*.py")} == set()
