"""`make chaos`: publish 500 posts over 100 sandbox accounts while everything goes wrong.

The sandbox answers 5% of TikTok calls with a 5xx, 1% with a 429, slows 5% down and drops 1% of
connections; worker processes are killed with SIGKILL at random moments and replaced; Redis is
flushed (FLUSHALL) once in the middle. Then the restarts: PostgreSQL is SIGKILLed and started
again 10 s later (crash recovery), Redis is SIGKILLed and started again empty, and TikTok (the
sandbox) drops every connection for 30 s while uploads run. At the end every post must be
published exactly once or sit in a final state with its reason: none lost, none duplicated.
The sandbox's record of inits and publishes is the witness, not Cadence's own database.

Everything is real: `python -m jobs.worker` processes, a private redis-server and a private
PostgreSQL server under instance/chaos-pg (bench/servers.py: nobody else's data is flushed or
killed), the sandbox over HTTP. Without PostgreSQL binaries it runs on a SQLite file, with a
banner; --sqlite asks for that, --database URL names another database (not killed). The tally
adds the lateness from each post's due time to the first init the sandbox accepted.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from bench.common import pct as percentile

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.servers import PrivatePostgres, PrivateRedis, postgres_bindir, private_postgres_dir  # noqa: E402

FAULTS = {"error_5xx": 0.05, "rate_429": 0.01, "slow": 0.05, "drop": 0.01}
SLOW_SECONDS = 3.0
# The restarts: PostgreSQL SIGKILLed and started again after PG_DOWN seconds (crash recovery),
# Redis SIGKILLed and started again empty after REDIS_DOWN seconds, and the sandbox (TikTok)
# dropping every connection for OUTAGE seconds while uploads run.
PG_DOWN = 10.0
REDIS_DOWN = 3.0
OUTAGE = 30.0
LATENESS_TARGET = 10.0


class Workers:
    """`python -m jobs.worker --workers 1` processes, each in its own process group, so a
    SIGKILL takes the worker and the job process it forked, as a crash or the OOM killer would.
    """

    def __init__(self, env, count: int, logs: Path):
        self.env, self.logs = env, logs
        self.running: list[subprocess.Popen] = []
        self.started = 0
        for _ in range(count):
            self.start_one()

    def start_one(self) -> None:
        self.started += 1
        log = open(self.logs / f"worker-{self.started:02d}.log", "wb")  # noqa: SIM115
        self.running.append(
            subprocess.Popen(
                [sys.executable, "-m", "jobs.worker", "--workers", "1"],
                env=self.env.worker_env(),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        log.close()

    def kill_one(self, rng: random.Random) -> None:
        victim = rng.choice(self.running)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(10)
        self.running.remove(victim)
        self.start_one()

    def stop(self) -> None:
        for process in self.running:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@dataclass
class Tally:
    """What the run ended with, from Cadence's database and from the sandbox's records."""

    posts: int = 0
    final: collections.Counter = field(default_factory=collections.Counter)
    reasons: collections.Counter = field(default_factory=collections.Counter)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    disagree: list[str] = field(default_factory=list)
    inits_per_post: collections.Counter = field(default_factory=collections.Counter)
    faults: dict = field(default_factory=dict)
    kills: int = 0
    flushed_at: float | None = None
    seconds: float = 0.0
    engine: str = "sqlite"
    # (what, at second, lasted seconds) for every restart and outage, in order
    events: list = field(default_factory=list)
    lateness: list = field(default_factory=list)  # due → first accepted init, one per post
    late_by_post: dict = field(default_factory=dict)  # {caption: lateness}
    started_at: float = 0.0  # epoch seconds of +0 s, to place the events among the due times
    restarts: collections.Counter = field(default_factory=collections.Counter)
    dues: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.disagree)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _schedule(env, count: int, spread: float, lead: float, dues: dict) -> dict[str, int]:
    """Create and schedule `count` posts due over `spread` seconds; return {caption: target id}
    and fill dues with {caption: due time (epoch seconds)}."""
    from webapp import publishing
    from webapp.db import connected
    from webapp.models import PostTarget

    r = redis.Redis.from_url(env.redis_url)
    start = _now() + dt.timedelta(seconds=lead)
    captions = {}
    with connected():
        for i in range(count):
            due = start + dt.timedelta(seconds=spread * i / max(1, count))
            post = env.post(env.accounts[i % len(env.accounts)], due.replace(microsecond=0))
            post.caption = f"chaos post {i:04d}"
            post.save()
            dues[post.caption] = post.scheduled_at.replace(tzinfo=dt.UTC).timestamp()
            publishing.schedule(post, r)
            captions[post.caption] = PostTarget.get(PostTarget.post == post.id).id
    return captions


def _states(ids) -> collections.Counter | None:
    """Count the targets by status; None while the database is down."""
    from webapp.db import UNAVAILABLE, connected
    from webapp.models import PostTarget

    try:
        with connected():
            rows = PostTarget.select(PostTarget.status).where(PostTarget.id.in_(ids))
            return collections.Counter(row.status for row in rows)
    except UNAVAILABLE:
        return None


def _lateness(state: dict, dues: dict[str, float]) -> dict[str, float]:
    """Seconds from each post's due time to the first init TikTok accepted for it."""
    first: dict[str, float] = {}
    for init in state["inits"]:
        title = (init.get("post_info") or {}).get("title") or ""
        if init["result"] == "ok" and title in dues:
            first[title] = min(first.get(title, init["at"]), init["at"])
    return {c: first[c] - dues[c] for c in first}


def _witness(env, tally: Tally, captions: dict[str, int]) -> None:
    """Compare Cadence's final states with what the sandbox says it received and published."""
    from webapp.db import connected
    from webapp.models import PostTarget
    from webapp.models.posts import FINAL_STATUSES

    state = env.sandbox.control("state")
    tally.late_by_post = _lateness(state, tally.dues)
    tally.lateness = sorted(tally.late_by_post.values())
    accepted = collections.Counter()
    for init in state["inits"]:
        if init["result"] == "ok":
            accepted[((init.get("post_info") or {}).get("title") or "")] += 1
    complete = collections.defaultdict(list)
    for publish in state["publishes"]:
        if publish.get("status") == "PUBLISH_COMPLETE":
            complete[(publish.get("post_info") or {}).get("title") or ""].append(publish)
    with connected():
        for caption, target_id in sorted(captions.items()):
            target = PostTarget.get_by_id(target_id)
            tally.inits_per_post[accepted[caption]] += 1
            published = complete.get(caption, [])
            if target.status not in FINAL_STATUSES:
                tally.lost.append(f"{caption}: still {target.status}/{target.phase}")
                continue
            tally.final[target.status] += 1
            if target.status != "published":
                tally.reasons[f"{target.status}: {target.error_message}"] += 1
            if len(published) > 1:
                tally.duplicated.append(f"{caption}: published {len(published)} times")
            if target.status == "published" and (
                len(published) != 1 or published[0]["publish_id"] != target.publish_id
            ):
                tally.disagree.append(f"{caption}: published in Cadence, not at TikTok")
            if target.status in ("failed", "needs_attention", "cancelled") and published:
                tally.disagree.append(f"{caption}: {target.status} in Cadence, live on TikTok")


def run(
    *,
    posts: int = 500,
    accounts: int = 100,
    workers: int = 2,
    kills: int = 10,
    spread: float = 60.0,
    lead: float = 15.0,
    timeout: float = 1200.0,
    database_url: str = "",
    engine: str = "postgresql",
    pg_down: float = PG_DOWN,
    redis_down: float = REDIS_DOWN,
    outage: float = OUTAGE,
    seed: int | None = None,
    say=print,
) -> Tally:
    """Run the chaos scenario and return its tally.

    Without database_url, engine "postgresql" runs a private PostgreSQL server under instance/
    (SQLite, with a banner, when the machine has no PostgreSQL binaries) and kills it mid-run;
    "sqlite" uses a SQLite file. pg_down, redis_down or outage at 0 leave that fault out.
    """
    from bench.publishing import Env
    from sandbox.runner import SandboxProcess
    from webapp.models.posts import FINAL_STATUSES

    seed = random.randrange(1 << 30) if seed is None else seed
    rng = random.Random(seed)
    tally = Tally(posts=posts)
    pg = None
    if not database_url and engine == "postgresql":
        if postgres_bindir() is None:
            say("=" * 78)
            say("chaos: NO PostgreSQL BINARIES on this machine: running on SQLite instead,")
            say("       without the PostgreSQL kill (install postgresql to run the full scenario)")
            say("=" * 78)
        else:
            pg = PrivatePostgres(private_postgres_dir("chaos-pg"))
    private = PrivateRedis()
    sandbox_env = {
        "SANDBOX_EXTRA_CREATORS": accounts,
        "SANDBOX_PROCESSING_SECONDS": 1,
        "SANDBOX_MODERATION_SECONDS": 1,
    }
    try:
        if pg is not None:
            pg.create().start()
            database_url = pg.url
            say(f"chaos: private PostgreSQL ({pg.bindir}) in {pg.datadir} on port {pg.port}")
        tally.engine = "postgresql" if database_url.startswith("postgres") else "sqlite"
        with (
            tempfile.TemporaryDirectory(prefix="cadence-chaos-") as tmp,
            SandboxProcess(env=sandbox_env) as sandbox,
        ):
            say(f"chaos: seed {seed}; connecting {accounts} sandbox accounts ...")
            env = Env(tmp, private.url, sandbox, accounts=accounts, database_url=database_url)
            logs = Path(tmp) / "logs"
            logs.mkdir()
            # The chaos window: posts fall due over `spread` seconds after `lead` (time to schedule
            # them all); the kills, the flush and the restarts land at random moments inside it.
            captions = _schedule(env, posts, spread, lead, tally.dues)
            sandbox.control("faults", {"rates": FAULTS, "slow_seconds": SLOW_SECONDS, "paths": []})
            window = lead + spread + 30
            kill_at = sorted(rng.uniform(3, window) for _ in range(kills))
            flush_at = rng.uniform(lead + spread * 0.3, lead + spread * 0.7)
            # (what, at, for how long); each starts once and ends `lasted` seconds later
            plan = []
            if pg is not None and pg_down > 0:
                plan.append(
                    [
                        "PostgreSQL SIGKILL",
                        rng.uniform(lead + spread * 0.1, lead + spread * 0.3),
                        pg_down,
                    ]
                )
            if outage > 0:
                plan.append(
                    [
                        "sandbox outage",
                        rng.uniform(lead + spread * 0.35, lead + spread * 0.55),
                        outage,
                    ]
                )
            if redis_down > 0:
                plan.append(
                    [
                        "Redis SIGKILL",
                        rng.uniform(lead + spread * 0.75, lead + spread * 0.95),
                        redis_down,
                    ]
                )
            say(
                f"chaos: {posts} posts due over {spread:.0f} s from +{lead:.0f} s on "
                f"{tally.engine}; {workers} workers; {kills} SIGKILLs, one FLUSHALL "
                f"(at +{flush_at:.0f} s)"
                + "".join(f", {what} at +{at:.0f} s for {lasted:g} s" for what, at, lasted in plan)
            )
            started = time.monotonic()
            tally.started_at = time.time()
            pool = Workers(env, workers, logs)
            ids = list(captions.values())
            next_report = 10.0
            pending = sorted(plan, key=lambda p: p[1])
            ongoing: list = []  # [what, began, lasted]
            try:
                while True:
                    elapsed = time.monotonic() - started
                    while kill_at and kill_at[0] <= elapsed:
                        kill_at.pop(0)
                        pool.kill_one(rng)
                        tally.kills += 1
                    if tally.flushed_at is None and elapsed >= flush_at:
                        redis.Redis.from_url(private.url).flushall()
                        tally.flushed_at = elapsed
                        say(f"chaos: +{elapsed:.0f} s FLUSHALL")
                    while pending and pending[0][1] <= elapsed:
                        what, _at, lasted = pending.pop(0)
                        _begin(what, pg, private, sandbox, lasted)
                        ongoing.append([what, elapsed, lasted])
                        say(f"chaos: +{elapsed:.0f} s {what} (for {lasted:g} s)")
                    for item in list(ongoing):
                        what, began, lasted = item
                        if elapsed >= began + lasted:
                            _end(what, pg, private)
                            back = time.monotonic() - started
                            tally.events.append((what, began, back - began))
                            ongoing.remove(item)
                            say(f"chaos: +{back:.0f} s {what}: back after {back - began:.0f} s")
                    states = _states(ids)
                    if states is None:  # the database is down: wait for it
                        time.sleep(0.5)
                        continue
                    settled = sum(n for s, n in states.items() if s in FINAL_STATUSES)
                    if elapsed >= next_report:
                        next_report += 15
                        say(
                            f"chaos: +{elapsed:4.0f} s  settled {settled}/{posts}  "
                            + "  ".join(f"{s} {n}" for s, n in sorted(states.items()))
                            + f"  kills {tally.kills}/{kills}"
                        )
                    if (
                        settled == posts
                        and not kill_at
                        and tally.flushed_at is not None
                        and not pending
                        and not ongoing
                    ):
                        break
                    if elapsed > timeout:
                        say(f"chaos: gave up waiting after {timeout:.0f} s")
                        break
                    time.sleep(0.5)
            finally:
                for what, _began, _lasted in ongoing:  # leave nothing down (Ctrl-C, an error)
                    with contextlib.suppress(Exception):
                        _end(what, pg, private)
                pool.stop()
            tally.seconds = time.monotonic() - started
            tally.faults = sandbox.control("faults").get("fired", {})
            tally.restarts = _restarts(logs)
            _witness(env, tally, captions)
            if not tally.ok:
                _show_worker_errors(logs, say)
    finally:
        private.stop()
        if pg is not None:
            pg.stop()
    return tally


def _begin(what: str, pg, private, sandbox, lasted: float) -> None:
    if what == "PostgreSQL SIGKILL":
        pg.kill()
    elif what == "Redis SIGKILL":
        private.kill()
    elif what == "sandbox outage":
        sandbox.control("faults", {"outage_seconds": lasted})


def _end(what: str, pg, private) -> None:
    if what == "PostgreSQL SIGKILL":
        pg.start()  # crash recovery replays the WAL
    elif what == "Redis SIGKILL":
        private.start()  # empty: no persistence
    # the sandbox's outage ends by itself


def _restarts(logs: Path) -> collections.Counter:
    """Count the workers' own recoveries, from their logs."""
    found = collections.Counter()
    for path in logs.glob("worker-*.log"):
        text = path.read_text(errors="replace")
        found["RQ worker restarted in-process"] += text.count("RQ worker stopped (")
        found["child process restarted"] += text.count("starting a new one in")
    found["child process restarted"] -= found["RQ worker restarted in-process"]
    return found


def _show_worker_errors(logs: Path, say) -> None:
    for path in sorted(logs.glob("worker-*.log")):
        lines = path.read_text(errors="replace").splitlines()
        bad = [line for line in lines if "Traceback" in line or "ERROR" in line]
        for line in bad[-5:]:
            say(f"  {path.name}: {line}")


def report(tally: Tally, *, workers: int, accounts: int) -> list[str]:
    """Return the tally as lines for the terminal and the closing note."""
    pct = {k: f"{v * 100:g}%" for k, v in FAULTS.items()}
    fired = tally.faults
    lines = [
        f"Chaos: {tally.posts} posts over {accounts} sandbox accounts on {tally.engine}, "
        f"{workers} workers, {tally.kills} worker SIGKILLs, FLUSHALL at "
        f"+{tally.flushed_at or 0:.0f} s; faults "
        f"{pct['error_5xx']} 5xx, {pct['rate_429']} 429, {pct['slow']} slow "
        f"({SLOW_SECONDS:g} s), {pct['drop']} dropped",
        f"  faults fired by the sandbox: 5xx {fired.get('error_5xx', 0)}, "
        f"429 {fired.get('rate_429', 0)}, slow {fired.get('slow', 0)}, "
        f"dropped {fired.get('drop', 0)}, dropped in the outage {fired.get('outage', 0)}",
    ]
    for what, began, lasted in sorted(tally.events, key=lambda e: e[1]):
        lines.append(f"  {what}: at +{began:.0f} s, back after {lasted:.1f} s")
    if tally.restarts:
        lines.append(
            "  workers recovered by themselves: "
            + ", ".join(f"{k} {v}×" for k, v in sorted(tally.restarts.items()) if v)
        )
    late = tally.lateness
    if late:
        p99 = percentile(late, 0.99)
        lines.append(
            f"  lateness due → first accepted init: p50 {percentile(late, 0.5):.1f} s, "
            f"p99 {p99:.1f} s (target ≤ {LATENESS_TARGET:g} s: "
            f"{'ok' if p99 <= LATENESS_TARGET else 'MISSED'}), max {late[-1]:.1f} s "
            f"over {len(late)} posts"
        )
        lines += _outage_lines(tally)
    lines.append(
        "  final states: " + (", ".join(f"{s} {n}" for s, n in tally.final.most_common()) or "none")
    )
    for reason, count in tally.reasons.most_common():
        lines.append(f"    {count} × {reason}")
    lines += [
        "  accepted inits per post (sandbox): "
        + ", ".join(f"{k} → {v} posts" for k, v in sorted(tally.inits_per_post.items())),
        f"  lost (not in a final state): {len(tally.lost)}",
        f"  published more than once on TikTok: {len(tally.duplicated)}",
        f"  Cadence and the sandbox disagree: {len(tally.disagree)}",
    ]
    for problem in (tally.lost + tally.duplicated + tally.disagree)[:20]:
        lines.append(f"    {problem}")
    lines.append(f"  took {tally.seconds:.0f} s: {'ok' if tally.ok else 'FAILED'}")
    return lines


# The faults no init can get past: TikTok unreachable, or the database down (a run commits that
# it is about to init before it sends the init).
BLOCKING = {"sandbox outage": "TikTok was unreachable", "PostgreSQL SIGKILL": "PostgreSQL was down"}


def _outage_lines(tally: Tally) -> list[str]:
    """Split the lateness by whether a post fell due while a fault blocked every init: none
    can be accepted before it ends, so a post due at its start is at least that late."""
    windows = [
        (what, tally.started_at + began, tally.started_at + began + lasted)
        for what, began, lasted in tally.events
        if what in BLOCKING
    ]
    if not windows or not tally.late_by_post:
        return []
    lines = []
    outside, floor = [], []
    for what, label in BLOCKING.items():
        late, beyond = [], []
        for caption, lateness in tally.late_by_post.items():
            due = tally.dues[caption]
            end = next((e for w, s, e in windows if w == what and s <= due < e), None)
            if end is not None:
                late.append(lateness)
                beyond.append(due + lateness - end)  # how long after the fault ended
        if late:
            late.sort()
            beyond.sort()
            lines.append(
                f"    {len(late)} posts fell due while {label}: p50 {percentile(late, 0.5):.1f} s, "
                f"max {late[-1]:.1f} s; counted from its end p50 {percentile(beyond, 0.5):.1f} s, "
                f"p99 {percentile(beyond, 0.99):.1f} s"
            )
    for caption, lateness in tally.late_by_post.items():
        due = tally.dues[caption]
        ends = [e for _w, s, e in windows if s <= due < e]
        # A post due d seconds before such a fault ends can't be less than d late.
        floor.append(max(ends) - due if ends else 0.0)
        if not ends:
            outside.append(lateness)
    floor.sort()
    lines.append(
        f"    these faults alone put p99 at ≥ {percentile(floor, 0.99):.1f} s "
        f"({sum(1 for f in floor if f > LATENESS_TARGET)} posts due more than "
        f"{LATENESS_TARGET:g} s before the end of one)"
    )
    if outside:
        outside.sort()
        lines.append(
            f"    {len(outside)} posts fell due outside them: p50 "
            f"{percentile(outside, 0.5):.1f} s, p99 {percentile(outside, 0.99):.1f} s, "
            f"max {outside[-1]:.1f} s"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print the tally; exit 1 when a post was lost or duplicated."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs during the run")
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the posts fall due")
    parser.add_argument(
        "--lead", type=float, default=15.0, help="seconds before the first post is due"
    )
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument(
        "--database",
        default="",
        help="DATABASE_URL (default: a private PostgreSQL server under instance/chaos-pg)",
    )
    parser.add_argument(
        "--sqlite", action="store_true", help="run on a SQLite file instead of PostgreSQL"
    )
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)

    def interrupt(_signum, _frame):
        raise KeyboardInterrupt  # SIGTERM cleans up as Ctrl-C does: servers stopped, workers too

    signal.signal(signal.SIGTERM, interrupt)
    if args.posts < 1 or args.accounts < 1 or args.workers < 1 or args.kills < 0 or args.lead < 0:
        parser.error(
            "--posts, --accounts and --workers must be at least 1, --kills and --lead at least 0"
        )
    try:
        tally = _run(args)
    except KeyboardInterrupt:
        print(
            "chaos: stopped before the end; no tally (private servers and workers stopped)",
            file=sys.stderr,
        )
        return 130
    for line in report(tally, workers=args.workers, accounts=args.accounts):
        print(line)
    return 0 if tally.ok else 1


def _run(args) -> Tally:
    return run(
        posts=args.posts,
        accounts=args.accounts,
        workers=args.workers,
        kills=args.kills,
        spread=args.spread,
        lead=args.lead,
        timeout=args.timeout,
        database_url=args.database,
        engine="sqlite" if args.sqlite else "postgresql",
        seed=args.seed,
    )


if __name__ == "__main__":
    sys.exit(main())
