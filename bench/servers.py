"""Private Redis and PostgreSQL servers for `make chaos` and the reconnection tests.

Each runs on a free port of 127.0.0.1 and holds nothing but the run's own data, so the run may
flush it, SIGKILL it and start it again without touching anyone else's. PostgreSQL uses the
machine's own binaries (`pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin); initdb
and postgres refuse to run as root, so as root they run as the `postgres` OS user, which owns
the data directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import redis

from bench.common import wait_for

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A throwaway redis-server on a free port: FLUSHALL and SIGKILL hit nothing but this run.

    Nothing is persisted (no RDB, no AOF), so a restart after kill() starts empty, as a Redis
    without persistence (or one whose disk was lost) does.
    """

    def __init__(self):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise SystemExit("chaos: redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        """Start the server on its port (again, after kill()) and wait until it answers."""
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        if not wait_for(answers, 10, step=0.05):
            self.stop()
            raise SystemExit("chaos: the private redis-server did not start")

    def kill(self) -> None:
        """SIGKILL the server: its data is gone, clients get connection errors."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def postgres_bindir() -> Path | None:
    """Return the directory of the machine's PostgreSQL server binaries, or None."""
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(out.stdout.strip())

    def version(path: str) -> tuple:
        part = Path(path).parent.name
        return tuple(int(p) for p in part.split(".") if p.isdigit())

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    for directory in candidates:
        if directory and all((Path(directory) / b).exists() for b in ("initdb", "pg_ctl")):
            return Path(directory)
    return None


class PrivatePostgres:
    """A PostgreSQL server of its own in `datadir` (recreated on start), on a free port.

    `url` is its DATABASE_URL (user postgres, trust auth, database postgres). kill() SIGKILLs
    the postmaster and its backends as a crash would; start() after it runs crash recovery from
    the WAL, so every committed row survives. fsync is off: a process crash loses nothing the
    kernel already holds, only a machine crash would, and the run is faster on a shared disk.
    """

    def __init__(self, datadir: Path | str, bindir: Path | None = None):
        self.bindir = bindir or postgres_bindir()
        if self.bindir is None:
            raise RuntimeError("no PostgreSQL server binaries on this machine")
        self.datadir = Path(datadir)
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.as_postgres = os.geteuid() == 0
        self.log = self.datadir.parent / f"{self.datadir.name}.log"

    # -- running the binaries -------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def _own(self, path: Path) -> None:
        if self.as_postgres:
            shutil.chown(path, "postgres", "postgres")

    def create(self) -> PrivatePostgres:
        """Make a fresh, empty cluster in datadir (whatever was there goes)."""
        if self.datadir.exists():
            self.stop()
            shutil.rmtree(self.datadir)
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        self.datadir.mkdir(mode=0o700)
        self._own(self.datadir)
        self.log.touch()
        self._own(self.log)
        done = self._run(
            "initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {(done.stderr or done.stdout)[-1500:]}")
        return self

    def start(self, timeout: float = 60) -> PrivatePostgres:
        """Start the server (after create() or kill()) and wait until it accepts connections."""
        self._clear_dead_lock()
        options = (
            f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        done = self._run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.log), "-o", options,
            "-w", "-t", str(int(timeout)), "start", timeout=timeout + 10,
        )  # fmt: skip
        if done.returncode != 0:
            tail = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stdout[-500:]} {tail}")
        return self

    def _clear_dead_lock(self) -> None:
        # A killed postmaster can linger as a zombie until PID 1 reaps it; postgres would take
        # the zombie for a live server and refuse to start. Its backends are dead (kill()).
        lock = self.datadir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(lock.read_text().splitlines()[0])
            if not _alive(pid) and not wait_for(
                lambda: not Path(f"/proc/{pid}").exists(), 3, step=0.05
            ):
                lock.unlink()

    def postmaster_pid(self) -> int | None:
        """Return the running postmaster's pid (from postmaster.pid), or None."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.datadir / "postmaster.pid").read_text().splitlines()[0])
            if _alive(pid):
                return pid
        return None

    def kill(self) -> None:
        """SIGKILL the postmaster and then its backends: the server is gone, as in a crash."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        children = _children(pid)
        for victim in [pid, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        wait_for(lambda: all(not _alive(p) for p in [pid, *children]), 10, step=0.05)

    def stop(self) -> None:
        """Stop the server quickly (immediate shutdown) if it runs."""
        if (self.datadir / "postmaster.pid").exists() and self.postmaster_pid() is not None:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")

    def __enter__(self) -> PrivatePostgres:
        return self.create().start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    """Return the pids whose parent is pid (from /proc)."""
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(Path(stat).parent.name))
    return found


def private_postgres_dir(name: str) -> Path:
    """Return instance/<name> when the postgres user can reach it, else a temporary directory.

    (As root, the server runs as `postgres`, which needs to traverse every parent directory.)
    """
    wanted = ROOT / "instance" / name
    if os.geteuid() != 0:
        return wanted
    wanted.parent.mkdir(parents=True, exist_ok=True)
    reach = subprocess.run(
        ["runuser", "-u", "postgres", "--", "test", "-x", str(wanted.parent)], check=False
    )
    if reach.returncode == 0:
        return wanted
    fallback = Path(tempfile.mkdtemp(prefix="cadence-pg-"))
    fallback.chmod(0o755)  # mkdtemp makes it 0700: postgres must reach inside
    return fallback / name
