"""Start the sandbox as a separate process, for tests and scripts.

with SandboxProcess(env={"SANDBOX_PROCESSING_SECONDS": "0.2"}) as sandbox:
    requests.get(sandbox.url + "/_sandbox/state")
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SandboxProcess:
    """A sandbox server in a subprocess on 127.0.0.1; `.url` is its base URL."""

    def __init__(
        self,
        env: dict | None = None,
        port: int | None = None,
        state_file=None,
        *,
        latency_ms: float = 0,
        jitter_ms: float = 0,
        uplink_mbps: float = 0,
    ):
        self.env = {k: str(v) for k, v in (env or {}).items()}
        # The network profile (sandbox.network): given, it goes on the command line.
        self.network = {
            "--latency-ms": latency_ms,
            "--jitter-ms": jitter_ms,
            "--uplink-mbps": uplink_mbps,
        }
        self.port = port or free_port()
        self.state_file = state_file
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> SandboxProcess:
        """Start the server and wait until it answers."""
        command = [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.state_file:
            command += ["--state-file", str(self.state_file)]
        for flag, value in self.network.items():
            if value:
                command += [flag, str(value)]
        # The log goes to a file, never a pipe: an unread pipe fills up (64 KB of request
        # lines) and then blocks the server in the middle of a request.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"sandbox exited: {self.log.read().decode()[-2000:]}")
            try:
                requests.get(f"{self.url}/_sandbox/state", timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"sandbox did not answer on {self.url} within {timeout} s")

    def stop(self) -> None:
        """Stop the server (kill it if it doesn't stop in 5 s)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None) is not None:
            self.log.close()
            self.log = None

    def restart(self) -> None:
        """Stop and start again on the same port (state survives only with a state file)."""
        self.stop()
        self.start()

    def control(self, path: str, payload: dict | None = None) -> dict:
        """POST to a /_sandbox/ control endpoint (GET when payload is None) and return its JSON."""
        url = f"{self.url}/_sandbox/{path.lstrip('/')}"
        response = (
            requests.get(url, timeout=10)
            if payload is None
            else requests.post(url, json=payload, timeout=10)
        )
        response.raise_for_status()
        return response.json()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
