"""Timing helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


def rate(fn: Callable[[], object], seconds: float = 1.5) -> float:
    """Return calls per second of fn, measured for about `seconds` after a warm-up."""
    for _ in range(20):
        fn()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            fn()
        count += 50
    return count / elapsed


def latencies(fn: Callable[[], object], count: int = 400) -> list[float]:
    """Return sorted per-call times in milliseconds after a warm-up."""
    for _ in range(20):
        fn()
    times = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)


def pct(times: list[float], q: float) -> float:
    """Return the q-th percentile of sorted times."""
    return times[min(len(times) - 1, int(len(times) * q))]


def wait_for(predicate: Callable[[], object], timeout: float, step: float = 0.1) -> bool:
    """Poll predicate every `step` seconds until it is true (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False
