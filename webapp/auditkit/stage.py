"""The stage the mockups are shot on: a throwaway Cadence (web + RQ worker) and the TikTok sandbox,
each in its own process on a free port, with a temporary SQLite file and media folder.

Processes, not threads of the caller: `create_app` binds the process-wide database and keyring,
so a second app inside `flask audit-kit build` or inside the RQ job would point the caller's
models at the throwaway database. The stage app is built by `python -m webapp.auditkit.stage`
(migrations, `flask demo seed` against the sandbox, a video longer than one creator's limit) and
served by werkzeug there; its worker is `python -m jobs.worker`, like any instance's.

Redis: the stage needs its own DB (OAuth state, creator_info cache and RQ keys carry row ids that
would collide with the instance's). It uses AUDIT_KIT_REDIS_URL when set, else the instance's
Redis server with the next DB index. That DB must be empty (or hold only an earlier stage's keys)
and is emptied again afterwards.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = "cadence:auditkit:stage"  # present while (or after) a stage used this Redis DB
LOCK = "cadence:auditkit:stage:lock"
LONG_VIDEO = "over-the-limit.mp4"  # lena.quiet accepts 60 s; this one lasts 62 s
# Cheap to encode (the build runs on small machines): small pictures, ultrafast. The seed skips
# a sample whose file already exists, so these replace its larger 720×1280 clip.
VIDEO_ARGS = "-c:v libx264 -preset ultrafast -crf 32 -pix_fmt yuv420p -movflags +faststart"
SAMPLES = {
    "sample-vertical.mp4": f"-f lavfi -i testsrc2=size=360x640:rate=30:duration=5 {VIDEO_ARGS}",
    # One still picture (cheap to encode): only its length matters, it is refused before upload.
    LONG_VIDEO: f"-f lavfi -i smptebars=size=360x640:rate=24:duration=62 {VIDEO_ARGS}",
}
READY = "stage ready"


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the build's process dies (Linux), so none is left behind
    if the build is killed (an RQ job past its timeout is killed without cleanup)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class StageError(Exception):
    """The stage could not be set up; the message is one line for the operator."""


def stage_redis_url(redis_url: str, override: str = "") -> str:
    """Return the Redis URL the stage uses: override, else redis_url's server on the next DB."""
    if override:
        return override
    match = re.fullmatch(r"(rediss?://[^/?#]*)(?:/(\d*))?(\?.*)?", redis_url)
    if not match:
        raise StageError(f"can't read REDIS_URL {redis_url!r}; set AUDIT_KIT_REDIS_URL")
    index = int(match.group(2) or 0)
    other = index + 1 if index < 15 else index - 1
    return f"{match.group(1)}/{other}{match.group(3) or ''}"


def _describe(url: str) -> str:
    """Return url without its password, for progress lines."""
    return re.sub(r"//[^@/]*@", "//", url)


def claim_redis(url: str):
    """Take the stage's Redis DB (empty, or an earlier stage's) and return the client."""
    import redis as redis_lib

    client = redis_lib.Redis.from_url(url)
    try:
        if not client.set(LOCK, os.getpid(), nx=True, ex=900):
            raise StageError(
                f"another mockup build is using Redis {_describe(url)}; wait for it to finish"
            )
        if client.dbsize() > 1 and not client.exists(MARKER):
            client.delete(LOCK)
            raise StageError(
                f"Redis {_describe(url)} holds other data; set AUDIT_KIT_REDIS_URL to an empty "
                "Redis DB for the mockup build"
            )
        client.flushdb()  # an earlier stage's leftovers, or nothing
        client.set(LOCK, os.getpid(), ex=900)
        client.set(MARKER, "1")
    except redis_lib.RedisError as exc:
        raise StageError(f"Redis {_describe(url)} can't be used: {exc}") from None
    return client


class Stage:
    """Sandbox, throwaway web app and worker; `.url`, `.sandbox`, `.email`, `.password`."""

    def __init__(
        self,
        *,
        redis_url: str,
        app_name: str = "Cadence",
        progress: Callable[[str], None] = print,
        processing_seconds: float = 3,
    ):
        self.redis_url = redis_url
        self.app_name = app_name
        self.progress = progress
        self.processing_seconds = processing_seconds
        self.procs: list[subprocess.Popen] = []
        self.sandbox = None
        self.redis = None
        self.tmp: Path | None = None

    def __enter__(self) -> Stage:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _env(self, port: int) -> dict:
        tmp = self.tmp
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "CADENCE_DOTENV": "",
            "APP_ENV": "demo",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "OLD_SECRET_KEYS": "",
            "INSTANCE": str(tmp / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp / 'cadence.sqlite3'}",
            "REDIS_URL": self.redis_url,
            "MEDIA_ROOT": str(tmp / "media"),
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "TIKTOK_AUTH_BASE_URL": self.sandbox.url,
            "TIKTOK_API_BASE_URL": self.sandbox.url,
            "MEDIA_CHECKS": "inline",
            "SMTP_URL": "",
            "WORKERS": "1",
            "PROXY_FIX": "0",
            "STAGE_APP_NAME": self.app_name,
        }
        return env

    def start(self) -> None:
        """Start the sandbox, the app and its worker; return when the app answers."""
        import requests

        from sandbox.runner import SandboxProcess, free_port

        self.tmp = Path(tempfile.mkdtemp(prefix="cadence-stage-"))
        self.progress(
            f"stage: Redis {_describe(self.redis_url)} for the throwaway app (emptied afterwards)"
        )
        self.redis = claim_redis(self.redis_url)
        self.sandbox = SandboxProcess(
            env={
                "SANDBOX_PROCESSING_SECONDS": str(self.processing_seconds),
                "SANDBOX_MODERATION_SECONDS": "0.5",
                "SANDBOX_VERIFIED_URL_PREFIXES": "http://127.0.0.1:",
            }
        )
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = self._env(port)
        log = open(self.tmp / "web.log", "wb")  # noqa: SIM115 - closed with the stage
        web = subprocess.Popen(
            [sys.executable, "-m", "webapp.auditkit.stage", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.procs.append(web)
        # The sandbox starts while the app seeds itself (the seed doesn't call it).
        self.sandbox.start()
        self.progress(f"stage: TikTok sandbox on {self.sandbox.url}")
        line = web.stdout.readline().decode().strip()  # the app seeds, then says it is ready
        if not line.startswith(READY):
            log.flush()
            tail = (self.tmp / "web.log").read_text(errors="replace").strip().splitlines()
            raise StageError(f"the throwaway app didn't start: {(tail or ['no output'])[-1]}")
        _, self.email, self.password = line.split("\t")
        worker = subprocess.Popen(
            [sys.executable, "-m", "jobs.worker", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / "worker.log", "wb"),  # noqa: SIM115
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self.procs.append(worker)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/login", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.1)
        self.progress(f"stage: throwaway Cadence on {self.url}, with its own RQ worker")

    def stop(self) -> None:
        """Stop what start() started, empty the stage's Redis DB and delete the files."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # the worker's work-horse too
                    proc.wait(5)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)
            if proc.stdout:
                proc.stdout.close()
        self.procs = []
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
        if self.redis is not None:
            self.redis.flushdb()
            self.redis = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


# --- inside the stage process ------------------------------------------------------------------


def _seed(app) -> tuple[str, str]:
    """Migrate, run `flask demo seed` against the sandbox, add the over-the-limit video."""
    import imageio_ffmpeg

    from webapp import db as dbmod
    from webapp.demo import DEMO_EMAIL, demo_password
    from webapp.media.storage import store
    from webapp.models import AppSettings, TikTokService, User

    dbmod.migrate(app.extensions["database"])
    samples = Path(app.config["MEDIA_ROOT"]) / "samples"
    samples.mkdir(parents=True, exist_ok=True)
    for name, args in SAMPLES.items():
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args.split()]
            + [str(samples / name)],
            check=True,
            timeout=120,
        )
    sandbox = app.config["TIKTOK_AUTH_BASE_URL"]
    result = app.test_cli_runner().invoke(
        args=["demo", "seed", "--auth-base-url", sandbox, "--api-base-url", sandbox]
    )
    if result.exit_code != 0:
        raise SystemExit(f"demo seed failed: {result.output.strip()[-300:]}")
    with dbmod.connected():
        admin = User.by_email(DEMO_EMAIL)
        store(samples / LONG_VIDEO, LONG_VIDEO, admin.id)
        settings = AppSettings.load()
        settings.app_name = os.environ.get("STAGE_APP_NAME") or settings.app_name
        settings.save()
        service = TikTokService.load()
        service.audited = False  # what a reviewer sees: the app is not audited yet
        service.save()
    return DEMO_EMAIL, demo_password(Path(app.instance_path))


def main(argv: list[str]) -> None:
    """Build, seed and serve the stage app on 127.0.0.1:<port> until stopped."""
    from werkzeug.serving import make_server

    from webapp import create_app

    port = int(argv[0])
    app = create_app()
    with app.app_context():
        email, password = _seed(app)
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(f"{READY}\t{email}\t{password}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
