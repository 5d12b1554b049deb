"""`make demo`: migrate, seed, start web + RQ worker + TikTok sandbox; print the URL and login.

Uses SQLite under instance/ and the local Redis. If nothing answers at REDIS_URL and
`redis-server` is on PATH, a private Redis is started under instance/. When both
TIKTOK_AUTH_BASE_URL and TIKTOK_API_BASE_URL are set, they are used instead of the sandbox.
`--smoke` starts everything, signs in once over HTTP, then stops (used by the test suite).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from webapp.config import SECRET_KEY_FILE, instance_secret_key  # noqa: E402 - after the checkout is importable


def fail(message: str) -> None:
    """Stop with one clear line."""
    print(f"make demo: {message}", file=sys.stderr)
    sys.exit(1)


def port_free(port: int) -> bool:
    """Tell whether nothing listens on 127.0.0.1:port."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def redis_answers(url: str) -> bool:
    """Tell whether Redis answers at url."""
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def persistent_secret(instance: Path) -> str:
    """Return this demo's SECRET_KEY: the instance's generated key, so secrets survive restarts."""
    legacy = instance / "demo-secret-key"  # where earlier demos kept it
    if legacy.is_file() and not (instance / SECRET_KEY_FILE).exists():
        legacy.rename(instance / SECRET_KEY_FILE)
    return instance_secret_key(instance)


def wait_for(url: str, seconds: float, procs: subprocess.Popen) -> bool:
    """Poll url until it answers (any status) or the time is up or honcho died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if procs.poll() is not None:
            return False
        try:
            requests.get(url, timeout=1, allow_redirects=False)
            return True
        except requests.RequestException:
            time.sleep(0.3)
    return False


def smoke_login(base: str, email: str, password: str, expect_api: str) -> None:
    """Sign in over HTTP and check Admin Console → Services points at the expected API."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    reply = session.post(
        f"{base}/login",
        data={"email": email, "password": password, "csrf_token": token},
        timeout=10,
        allow_redirects=True,
    )
    if "Admin Console" not in reply.text:
        fail("smoke check: signing in as the demo admin did not show the menu")
    services = session.get(f"{base}/admin/services", timeout=10).text
    if expect_api not in services:
        fail(f"smoke check: Admin Console → Services does not show {expect_api}")
    print("Smoke check passed: signed in, menu shown, Services points at " + expect_api)


def main(argv: list[str]) -> int:
    """Prepare and run the demo until Ctrl+C (or, with --smoke, until the check is done)."""
    smoke = "--smoke" in argv
    instance = Path(os.environ.get("CADENCE_INSTANCE", ROOT / "instance"))
    instance.mkdir(parents=True, exist_ok=True)
    web_port = int(os.environ.get("PORT", "5000"))
    sandbox_port = int(os.environ.get("SANDBOX_PORT", "8765"))
    base = f"http://127.0.0.1:{web_port}"
    env = dict(os.environ)
    env.update(
        {
            "APP_ENV": "demo",
            "CADENCE_INSTANCE": str(instance),
            "PUBLIC_URL": base,
            "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{instance / 'cadence.sqlite3'}",
            "MEDIA_ROOT": env.get("MEDIA_ROOT") or str(instance / "media"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    procfile: list[str] = []

    redis_url = env.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    private_redis = None
    if not redis_answers(redis_url):
        server = shutil.which("redis-server")
        if not server:
            fail(
                f"no Redis answers at {redis_url} and redis-server is not installed: "
                "install it (e.g. `apt-get install redis-server`) or set REDIS_URL"
            )
        private_port = int(os.environ.get("DEMO_REDIS_PORT", "6399"))
        redis_url = f"redis://127.0.0.1:{private_port}/0"
        if not redis_answers(redis_url):
            print(f"No Redis at the configured URL; starting a private one on port {private_port}.")
            (instance / "redis").mkdir(exist_ok=True)
            private_redis = subprocess.Popen(
                [
                    server,
                    "--port",
                    str(private_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(instance / "redis"),
                ],
                stdout=subprocess.DEVNULL,
                start_new_session=True,
            )
            deadline = time.monotonic() + 10
            while not redis_answers(redis_url):
                if time.monotonic() > deadline or private_redis.poll() is not None:
                    fail(f"the private redis-server on port {private_port} did not start")
                time.sleep(0.1)
    env["REDIS_URL"] = redis_url

    external = env.get("TIKTOK_AUTH_BASE_URL") and env.get("TIKTOK_API_BASE_URL")
    if external:
        auth_base, api_base = env["TIKTOK_AUTH_BASE_URL"], env["TIKTOK_API_BASE_URL"]
        print(f"Using the TikTok-compatible server at {api_base} (from the environment).")
    else:
        if not port_free(sandbox_port):
            fail(f"port {sandbox_port} is taken; stop what uses it or set SANDBOX_PORT")
        auth_base = api_base = f"http://127.0.0.1:{sandbox_port}"
        env["TIKTOK_AUTH_BASE_URL"] = env["TIKTOK_API_BASE_URL"] = auth_base
        sandbox_env = (
            f"SANDBOX_REDIRECT_URIS={base}/accounts/callback "
            f"SANDBOX_WEBHOOK_URL={base}/webhooks/tiktok "
            f"SANDBOX_VERIFIED_URL_PREFIXES={base}/pull/"
        )
        procfile.append(
            f"sandbox: env {sandbox_env} {BIN / 'python'} -m sandbox --host 127.0.0.1 "
            f"--port {sandbox_port} --state-file {instance / 'sandbox-state.json'}"
        )
    if not port_free(web_port):
        fail(f"port {web_port} is taken; stop what uses it or set PORT")

    # Only once everything it needs is there, so a refused start leaves no key behind.
    env["SECRET_KEY"] = env.get("SECRET_KEY") or persistent_secret(instance)
    flask = [str(BIN / "flask"), "--app", "webapp"]
    for step in (
        ["db", "upgrade"],
        ["demo", "seed", "--auth-base-url", auth_base, "--api-base-url", api_base],
    ):
        result = subprocess.run([*flask, *step], env=env, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            fail((result.stderr.strip() or result.stdout.strip()).splitlines()[-1])
        login_line = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    email, password = login_line.removeprefix("Demo admin: ").split(" / ")

    procfile.append(
        f"web: {BIN / 'flask'} --app webapp run --host 127.0.0.1 --port {web_port} --no-reload"
    )
    procfile.append(f"worker: {BIN / 'python'} -m jobs.worker")
    (instance / "Procfile.demo").write_text("\n".join(procfile) + "\n")
    honcho = subprocess.Popen(
        [str(BIN / "honcho"), "-f", str(instance / "Procfile.demo"), "-d", str(ROOT), "start"],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL if smoke else None,
    )

    def stop(*_args) -> None:
        for proc in (honcho, private_redis):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        targets = [f"{base}/login"] + ([] if external else [f"{api_base}/_sandbox/state"])
        for url in targets:
            if not wait_for(url, 60, honcho):
                stop()
                fail(f"{urlsplit(url).netloc} did not come up within 60 s; see the output above")
        print("\n" + "=" * 64)
        print(f"  Cadence is running at   {base}")
        print(f"  Sign in as              {email}")
        print(f"  Password                {password}")
        print(f"  TikTok API              {api_base}" + ("" if external else "  (local sandbox)"))
        print("  Stop with Ctrl+C.")
        print("=" * 64 + "\n", flush=True)
        if smoke:
            smoke_login(base, email, password, api_base)
            return 0
        honcho.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
