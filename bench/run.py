"""`make bench`: time Cadence's hot paths against a reference measured in the same run.

Each row is (what, ops/s, reference, reference ops/s, ratio = ours / reference). A ratio
near 1 means our layer adds little over the bare operation it wraps.
Needs Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379/14, flushed).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from bench.common import latencies, pct, rate  # noqa: E402
from webapp import create_app, crypto  # noqa: E402
from webapp.auth import throttle  # noqa: E402
from webapp.db import connected, migrate  # noqa: E402
from webapp.people import create_user  # noqa: E402
from webapp.workspaces.members import default_for  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def composer_check(tmp: str) -> list[tuple[str, float, float, str, float, float]]:
    """Time the composer's live-validation request (creator info cached) next to a static file."""
    from sandbox.runner import SandboxProcess
    from tests.accounts_flow import back, consent
    from webapp.models import Account, Media, TikTokService

    rows = []
    with SandboxProcess() as sandbox:
        app = create_app(
            {
                "APP_ENV": "test",
                "SECRET_KEY": "c" * 48,
                "REDIS_URL": REDIS_URL,
                "DATABASE_URL": f"sqlite:///{tmp}/composer.sqlite3",
                "MEDIA_ROOT": tmp,
                "PUBLIC_URL": "https://bench.example.com",
                "WTF_CSRF_ENABLED": False,
            }
        )
        migrate()
        with connected():
            user = create_user("composer@example.com", "bench password", role="admin")
            workspace = default_for(user)
            service = TikTokService.load()
            service.client_key, service.audited = "sbx_demo_client_key", True
            service.set_client_secret("sbx_demo_client_secret")
            service.auth_base_url = service.api_base_url = sandbox.url
            service.save()
            video = Media.create(
                workspace=workspace,
                owner=user,
                kind="video",
                original_name="v.mp4",
                stored_name="v.mp4",
                duration_ms=30_000,
                width=720,
                height=1280,
                fps=30,
                problems=[],
            )
        client = app.test_client()
        client.post("/login", data={"email": "composer@example.com", "password": "bench password"})
        reply = client.get(f"/w/{workspace.slug}/accounts/connect/tiktok")
        back(client, consent(reply.headers["Location"]))
        with connected():
            account = Account.get()
        form = {
            "accounts": str(account.id),
            "post_type": "video",
            "media": str(video.id),
            "caption": "Benchmark #cadence",
            f"a{account.id}-privacy": "PUBLIC_TO_EVERYONE",
            f"a{account.id}-disclose": "on",
            f"a{account.id}-your_brand": "on",
        }
        url = f"/w/{workspace.slug}/compose/check?panel={account.id}"
        assert client.post(url, data=form, headers={"HX-Request": "true"}).status_code == 200
        check = latencies(lambda: client.post(url, data=form, headers={"HX-Request": "true"}))
        static = latencies(lambda: client.get("/static/app.css"))
        rows.append(
            (
                "Composer live check (1 panel)",
                pct(check, 0.5),
                pct(check, 0.95),
                "static file via Flask",
                pct(static, 0.5),
                pct(static, 0.95),
            )
        )
    return rows


def main() -> int:
    """Run every benchmark and print the tables."""
    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "APP_ENV": "test",
                "SECRET_KEY": "b" * 48,
                "REDIS_URL": REDIS_URL,
                "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
                "MEDIA_ROOT": tmp,
                "WTF_CSRF_ENABLED": False,
            }
        )
        migrate()
        with connected():
            user = create_user("bench@example.com", "bench password", role="admin")
            dashboard = f"/w/{default_for(user).slug}/"
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.com", "password": "bench password"})
        assert client.get(dashboard).status_code == 200
        rows.append(
            (
                "Dashboard page (signed in)",
                rate(lambda: client.get(dashboard)),
                "static file via Flask",
                rate(lambda: client.get("/static/app.css")),
            )
        )
        rows.append(
            (
                "Admin → Services page",
                rate(lambda: client.get("/admin/services")),
                "static file via Flask",
                rate(lambda: client.get("/static/app.css")),
            )
        )

    ring = crypto.Keyring("k" * 48, ["old" * 16])
    token = ring.encrypt("act.0123456789abcdef0123456789abcdef")
    bare = Fernet(crypto.derive_key("k" * 48))
    bare_token = bare.encrypt(b"act.0123456789abcdef0123456789abcdef")
    rows.append(
        (
            "Keyring.decrypt (stored token)",
            rate(lambda: ring.decrypt(token)),
            "bare Fernet.decrypt",
            rate(lambda: bare.decrypt(bare_token)),
        )
    )
    rows.append(
        (
            "Sign-in throttle check",
            rate(lambda: throttle.seconds_locked(r, "a@b.c", "10.0.0.1", per_minute=5)),
            "one Redis PING",
            rate(r.ping),
        )
    )
    r.flushdb()

    header = f"{'benchmark':<34} {'ops/s':>10}  {'reference':<24} {'ops/s':>10} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for name, ours, ref_name, ref in rows:
        print(f"{name:<34} {ours:>10.0f}  {ref_name:<24} {ref:>10.0f} {ours / ref:>6.2f}")

    with tempfile.TemporaryDirectory() as tmp:
        timed = composer_check(tmp)
    r.flushdb()
    print()
    header = (
        f"{'request (ms, server side)':<34} {'p50':>6} {'p95':>6}  {'reference':<24} "
        f"{'p50':>6} {'p95':>6} {'p95 ratio':>9} {'target':>10}"
    )
    print(header)
    print("-" * len(header))
    for name, p50, p95, ref_name, rp50, rp95 in timed:
        verdict = "ok" if p95 <= 15 else "MISSED"
        print(
            f"{name:<34} {p50:>6.2f} {p95:>6.2f}  {ref_name:<24} {rp50:>6.2f} {rp95:>6.2f} "
            f"{p95 / rp95:>9.1f} {'≤15 ' + verdict:>10}"
        )
    print()
    from bench import scale

    for line in scale.run(REDIS_URL):
        print(line)
    r.flushdb()
    print()
    from bench import workspaces

    for line in workspaces.run(REDIS_URL):
        print(line)
    r.flushdb()
    print()
    print("Publishing (sandbox over HTTP, `python -m jobs.worker` with the default workers)")
    print("-" * 80)
    from bench import publishing

    with tempfile.TemporaryDirectory() as tmp:
        for line in publishing.run(REDIS_URL, tmp):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
