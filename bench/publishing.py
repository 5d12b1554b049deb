"""Publishing benchmarks (part of `make bench`): lateness of scheduled posts, a burst of 500, a
1 GB upload against curl, the top of the hour at network distance (200 posts with 20 MB videos
due at once, TikTok 150 ms away behind a 100 Mbit/s uplink), and the Posts list / Calendar with
10,000 posts.

Everything is real: the sandbox over HTTP, `python -m jobs.worker` processes (the default
WORKERS), Redis, and a SQLite file. Lateness is measured where it matters: the sandbox records
the wall-clock time each init request arrived, which is compared with the post's due time.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import redis

from bench.common import pct, wait_for

ROOT = Path(__file__).resolve().parent.parent
SECRET = "p" * 48
ONE_GB = 1024**3


class Env:
    """A sandbox, an app on a SQLite file, connected accounts, and a small video."""

    def __init__(self, tmp: str, redis_url: str, sandbox, accounts: int, database_url: str = ""):
        from tests.accounts_flow import connect
        from tests.conftest import WorkspaceClient, ffmpeg_clip
        from webapp import create_app
        from webapp.db import connected, migrate
        from webapp.models import Account, Media, TikTokService
        from webapp.people import create_user
        from webapp.workspaces.members import default_for

        self.tmp, self.redis_url, self.sandbox = tmp, redis_url, sandbox
        self.settings = {
            "APP_ENV": "test",
            "SECRET_KEY": SECRET,
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url or f"sqlite:///{tmp}/publishing.sqlite3",
            "MEDIA_ROOT": f"{tmp}/media",
            "PUBLIC_URL": "https://bench.example.com",
            "WTF_CSRF_ENABLED": False,
        }
        self.app = create_app(self.settings)
        migrate()
        # Short addresses (the OAuth flow's /accounts/...) lead into the user's workspace.
        self.client = WorkspaceClient(self.app, self.app.response_class)
        with connected():
            self.user = create_user("pub@example.com", "bench password", role="admin")
            self.workspace = default_for(self.user)
            service = TikTokService.load()
            service.client_key, service.audited = "sbx_demo_client_key", True
            service.set_client_secret("sbx_demo_client_secret")
            service.auth_base_url = service.api_base_url = sandbox.url
            service.save()
        self.client.post("/login", data={"email": "pub@example.com", "password": "bench password"})
        for i in range(1, accounts + 1):
            connect(self.client, creator=f"creator{i:03d}")
        clip = ffmpeg_clip(Path(tmp) / "media" / "clip.mp4", size="360x640")
        with connected():
            self.accounts = list(Account.select().order_by(Account.username))
            self.video = Media.create(
                workspace=self.workspace,
                owner=self.user,
                kind="video",
                original_name="clip.mp4",
                stored_name="clip.mp4",
                content_type="video/mp4",
                size_bytes=clip.stat().st_size,
                duration_ms=1000,
                problems=[],
            )

    def worker_env(self, **extra) -> dict:
        env = {**os.environ, "CADENCE_DOTENV": "", "PYTHONPATH": str(ROOT)}
        for key in ("APP_ENV", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "MEDIA_ROOT"):
            env[key] = self.settings[key]
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def post(self, account, due: dt.datetime, media=None):
        from webapp.models import Post, PostMedia, PostTarget

        post = Post.create(
            workspace=self.workspace,
            author=self.user,
            caption="bench",
            status="scheduled",
            scheduled_at=due,
            consent_at=due,
        )
        PostMedia.create(post=post, media=media or self.video, position=0)
        PostTarget.create(
            post=post, account=account, status="scheduled", privacy_level="PUBLIC_TO_EVERYONE"
        )
        return post

    def init_times(self) -> dict[str, float]:
        """Return {publish_id: when its init arrived} for every accepted init."""
        state = self.sandbox.control("state")
        return {i["publish_id"]: i["at"] for i in state["inits"] if i["result"] == "ok"}

    def refused_429(self) -> int:
        state = self.sandbox.control("state")
        return sum(1 for i in state["inits"] if i["result"] == "rate_limit_exceeded")


def _epoch(naive_utc: dt.datetime) -> float:
    return naive_utc.replace(tzinfo=dt.UTC).timestamp()


def _workers(env: Env, count: int) -> subprocess.Popen:
    worker = subprocess.Popen(
        [sys.executable, "-m", "jobs.worker", "--workers", str(count)],
        env=env.worker_env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(2)  # the workers register and the scheduler takes its lock
    return worker


def _stop(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, 15)
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, 9)
        worker.wait(10)


def single(env: Env, trials: int, workers: int) -> list[str]:
    """(a) One post at a time on an idle system: due time → init request at the sandbox."""
    from webapp import publishing
    from webapp.db import connected
    from webapp.models import PostTarget

    r = redis.Redis.from_url(env.redis_url)
    worker = _workers(env, workers)
    late = []
    try:
        with connected():
            for account in env.accounts[200 : 200 + trials]:
                due = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
                due += dt.timedelta(seconds=3)
                post = env.post(account, due)
                publishing.schedule(post, r)
                target = PostTarget.get(PostTarget.post == post.id)

                def initialized(target_id=target.id):
                    return PostTarget.get_by_id(target_id).publish_id is not None

                if not wait_for(initialized, 30):
                    row = PostTarget.get_by_id(target.id)
                    raise RuntimeError(
                        f"trial {len(late) + 1}: not initialized within 30 s "
                        f"({row.status}/{row.phase}: {row.error_message})"
                    )
                publish_id = PostTarget.get_by_id(target.id).publish_id
                late.append(env.init_times()[publish_id] - _epoch(due))
                time.sleep(0.3)
    finally:
        _stop(worker)
    late.sort()
    p99 = pct(late, 0.99)
    return [
        f"Single post, idle ({trials} trials, {workers} workers)   "
        f"p50 {pct(late, 0.5) * 1000:6.0f} ms"
        f"   p99 {p99 * 1000:6.0f} ms   max {late[-1] * 1000:6.0f} ms   "
        f"target p99 ≤ 1500 ms: {'ok' if p99 <= 1.5 else 'MISSED'}"
    ]


def burst(env: Env, count: int, workers: int, accounts) -> list[str]:
    """(a) `count` posts over 100 accounts, all due at the same second."""
    from webapp import publishing
    from webapp.db import connected
    from webapp.models import PostTarget

    r = redis.Redis.from_url(env.redis_url)
    refused_before = env.refused_429()
    worker = _workers(env, workers)
    try:
        with connected():
            due = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
            due += dt.timedelta(seconds=8)
            posts = [env.post(accounts[i % len(accounts)], due) for i in range(count)]
            for post in posts:
                publishing.schedule(post, r)
            ids = [p.id for p in posts]

            def all_initialized():
                return (
                    PostTarget.select()
                    .where(PostTarget.post.in_(ids) & PostTarget.publish_id.is_null(False))
                    .count()
                    == count
                )

            wait_for(all_initialized, 180, step=0.5)
            rows = list(PostTarget.select(PostTarget.publish_id).where(PostTarget.post.in_(ids)))
    finally:
        _stop(worker)
    times = env.init_times()
    late = sorted(times[t.publish_id] - _epoch(due) for t in rows if t.publish_id)
    refused = env.refused_429() - refused_before
    last = late[-1] if late else float("inf")
    ok = len(late) == count and last <= 30 and refused == 0
    return [
        f"Burst {count} posts / {len(accounts)} accounts, {workers} workers   "
        f"p50 {pct(late, 0.5) * 1000:6.0f} ms   p99 {pct(late, 0.99) * 1000:6.0f} ms   "
        f"max {last * 1000:6.0f} ms   initialized {len(late)}/{count}, 429s {refused}   "
        f"target all ≤ 30 s, 0 × 429: {'ok' if ok else 'MISSED'}"
    ]


def upload(env: Env, size: int = ONE_GB) -> list[str]:
    """(b) The publish job's upload of a 1 GB file vs curl PUTting the same chunks."""
    from tests.conftest import ffmpeg_clip
    from webapp.db import connected
    from webapp.models import Media, PostTarget
    from webapp.tiktok import chunks

    media_root = Path(env.settings["MEDIA_ROOT"])
    big = media_root / "big.mp4"
    ffmpeg_clip(big, size="360x640")
    block = os.urandom(1 << 24)
    with open(big, "r+b") as handle:  # a real MP4 head, then written (not sparse) bytes
        handle.seek(0, os.SEEK_END)
        while handle.tell() < size:
            handle.write(block[: size - handle.tell()])
    with connected():
        media = Media.create(
            workspace=env.workspace,
            owner=env.user,
            kind="video",
            original_name="big.mp4",
            stored_name="big.mp4",
            content_type="video/mp4",
            size_bytes=size,
            duration_ms=1000,
            problems=[],
        )
        post = env.post(env.accounts[0], dt.datetime.now(dt.UTC).replace(tzinfo=None), media)
        target = PostTarget.get(PostTarget.post == post.id)
    code = (
        "import sys, time; from jobs.publishing import publish_target; "
        "t = time.perf_counter(); print(publish_target(int(sys.argv[1]))); "
        "print(time.perf_counter() - t)"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = subprocess.run(
        [sys.executable, "-c", code, str(target.id)],
        env=env.worker_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ours = float(run.stdout.strip().splitlines()[-1])
    with connected():
        target = PostTarget.get_by_id(target.id)
        uploaded = target.uploaded_bytes
    # The reference: curl PUTs the same chunks (pre-cut files) to a fresh upload URL.
    chunk, count = chunks.plan(size, env.app.config["UPLOAD_CHUNK_BYTES"])
    pieces = []
    with open(big, "rb") as source:
        for index in range(count):
            first, last = chunks.bounds(size, chunk, count, index)
            piece = media_root / f"piece{index}"
            source.seek(first)
            with open(piece, "wb") as out:
                left = last - first + 1
                while left:
                    data = source.read(min(left, 1 << 24))
                    out.write(data)
                    left -= len(data)
            pieces.append((piece, first, last))
    from webapp.models import TikTokService
    from webapp.tiktok.tokens import client_for

    with connected():
        account = env.accounts[1]
        from webapp.models import Account

        token = Account.get_by_id(account.id).access_token()
        client = client_for(TikTokService.load(), env.settings)
        reply = client.init_video(
            token,
            source_info={
                "source": "FILE_UPLOAD",
                "video_size": size,
                "chunk_size": chunk,
                "total_chunk_count": count,
            },
            post_info={
                "privacy_level": "SELF_ONLY",
                "title": "curl",
                "disable_comment": True,
                "disable_duet": True,
                "disable_stitch": True,
                "brand_content_toggle": False,
                "brand_organic_toggle": False,
                "is_aigc": False,
            },
        )
    start = time.perf_counter()
    for piece, first, last in pieces:
        # curl streams the chunk from stdin ("-T -" with its length, not chunked): given a file
        # name, it would append that name to an upload URL whose path ends in "/".
        with open(piece, "rb") as stdin:
            done = subprocess.run(
                [
                    "curl",
                    "-sS",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "-X",
                    "PUT",
                    "-H",
                    "Content-Type: video/mp4",
                    "-H",
                    f"Content-Range: bytes {first}-{last}/{size}",
                    "-H",
                    f"Content-Length: {last - first + 1}",
                    "-H",
                    "Transfer-Encoding:",
                    "-T",
                    "-",
                    reply["upload_url"],
                ],
                check=True,
                stdin=stdin,
                capture_output=True,
                text=True,
            )
        if done.stdout not in ("201", "206"):
            raise RuntimeError(f"curl's chunk {first}-{last} got HTTP {done.stdout}")
    reference = time.perf_counter() - start
    for piece, _, _ in pieces:
        piece.unlink()
    big.unlink()
    ratio = reference / ours  # throughput ratio: ours / curl
    rss_mb = max(peak_kb, before) / 1024
    return [
        f"{size / 2**30:.1f} GiB upload ({count} chunks of {chunk:,} B)   "
        f"publish job {size / ours / 1e6:7.0f} MB/s "
        f"({ours:5.1f} s, {uploaded:,} B)   curl {size / reference / 1e6:7.0f} MB/s "
        f"({reference:5.1f} s)   ratio {ratio:4.2f}   target ≥ 0.95: "
        f"{'ok' if ratio >= 0.95 else 'MISSED'}",
        f"Publish job peak RSS                 {rss_mb:7.0f} MB   target < 150 MB: "
        f"{'ok' if rss_mb < 150 else 'MISSED'}",
    ]


def _tree_rss(root: int) -> int:
    """Return the resident bytes of process root and all its descendants (from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew = bool(more)
        tree |= more
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def _distinct_videos(folder: Path, count: int, size: int) -> list[Path]:
    """Write `count` different videos of `size` bytes: a real MP4 head, then written bytes that
    differ per file (cheap: one random block, a distinct stamp at its start)."""
    from tests.conftest import ffmpeg_clip

    head = ffmpeg_clip(folder / "head.mp4", size="360x640").read_bytes()
    block = bytearray(os.urandom(size - len(head)))
    paths = []
    for index in range(count):
        block[:16] = index.to_bytes(16, "big")
        path = folder / f"top{index:03d}.mp4"
        with open(path, "wb") as handle:
            handle.write(head)
            handle.write(block)
        paths.append(path)
    return paths


def top_of_hour(
    tmp: str,
    redis_url: str,
    *,
    posts: int = 200,
    accounts: int = 100,
    size: int = 20_000_000,
    latency_ms: float = 150,
    jitter_ms: float = 20,
    mbps: float = 100,
) -> list[str]:
    """200 posts over 100 accounts due at the same second, each with its own 20 MB video,
    TikTok 150 ms away (plus jitter) and one 100 Mbit/s uplink; the default workers."""
    import threading

    from sandbox.runner import SandboxProcess
    from webapp import publishing
    from webapp.db import connected
    from webapp.models import Media, PostTarget

    redis.Redis.from_url(redis_url).flushdb()
    sandbox_env = {
        "SANDBOX_EXTRA_CREATORS": accounts,
        "SANDBOX_DAILY_DIRECT_POSTS": 100_000,
        "SANDBOX_PROCESSING_SECONDS": 1,
        "SANDBOX_MODERATION_SECONDS": 1,
    }
    with SandboxProcess(
        env=sandbox_env, latency_ms=latency_ms, jitter_ms=jitter_ms, uplink_mbps=mbps
    ) as sandbox:
        env = Env(tmp, redis_url, sandbox, accounts=accounts)
        default = int(env.app.config["WORKERS"])
        media_root = Path(env.settings["MEDIA_ROOT"])
        videos = _distinct_videos(media_root, posts, size)
        r = redis.Redis.from_url(redis_url)
        worker = _workers(env, default)
        peak, sampling = [0], threading.Event()

        def sample():
            while not sampling.wait(0.5):
                peak[0] = max(peak[0], _tree_rss(worker.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            with connected():
                due = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
                due += dt.timedelta(seconds=20)
                ids = []
                for index, path in enumerate(videos):
                    media = Media.create(
                        workspace=env.workspace,
                        owner=env.user,
                        kind="video",
                        original_name=path.name,
                        stored_name=path.name,
                        content_type="video/mp4",
                        size_bytes=size,
                        duration_ms=1000,
                        problems=[],
                    )
                    post = env.post(env.accounts[index % accounts], due, media)
                    publishing.schedule(post, r)
                    ids.append(post.id)

                def uploaded():
                    return (
                        PostTarget.select()
                        .where(
                            PostTarget.post.in_(ids)
                            & PostTarget.publish_id.is_null(False)
                            & (PostTarget.uploaded_bytes == size)
                        )
                        .count()
                        == posts
                    )

                wait_for(uploaded, 60 + 3 * posts * size * 8 / (mbps * 1e6), step=1)
                rows = list(
                    PostTarget.select(PostTarget.publish_id).where(PostTarget.post.in_(ids))
                )
        finally:
            sampling.set()
            sampler.join(2)
            _stop(worker)
        state = sandbox.control("state")
        for path in videos:
            path.unlink()
    inits = {i["publish_id"]: i["at"] for i in state["inits"] if i["result"] == "ok"}
    refused = sum(1 for i in state["inits"] if i["result"] == "rate_limit_exceeded")
    late = sorted(inits[t.publish_id] - _epoch(due) for t in rows if t.publish_id in inits)
    received = [
        p["received_at"] for p in state["publishes"] if p.get("received_at") and p["total"] == size
    ]
    ideal = posts * size * 8 / (mbps * 1e6)
    took = (max(received) - min(inits.values())) if received and inits else float("inf")
    p99 = pct(late, 0.99) if late else float("inf")
    rss_mb = peak[0] / 2**20
    label = (
        f"Top of the hour: {posts} × {size // 10**6} MB / {accounts} accounts, {default} workers"
    )
    return [
        label,
        f"  p99 lateness due → init     {p99 * 1000:7.0f} ms   (p50 {pct(late, 0.5) * 1000:.0f} ms,"
        f" {len(late)}/{posts} initialized)   target ≤ 2000 ms: "
        f"{'ok' if p99 <= 2 and len(late) == posts else 'MISSED'}",
        f"  rate-limit violations (429)  {refused:7d}      target 0: "
        f"{'ok' if refused == 0 else 'MISSED'}",
        f"  uploads done after first init {took:6.0f} s    ({len(received)}/{posts} received;"
        f" bytes ÷ uplink {ideal:.0f} s)   target ≤ {1.15 * ideal:.0f} s: "
        f"{'ok' if len(received) == posts and took <= 1.15 * ideal else 'MISSED'}",
        f"  worker RSS, peak of the tree  {rss_mb:6.0f} MB   target ≤ 600 MB: "
        f"{'ok' if rss_mb <= 600 else 'MISSED'}",
    ]


def pages(env: Env, count: int = 10_000) -> list[str]:
    """(c) Posts list and Calendar p95 with 10,000 posts in the database."""
    from bench.common import latencies
    from webapp.db import connected, db
    from webapp.models import Post, PostTarget

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    statuses = ["scheduled", "published", "failed", "needs_attention", "draft"]
    with connected(), db.atomic():
        rows = [
            {
                "workspace": env.workspace.id,
                "author": env.user.id,
                "caption": f"Post number {i} #bench",
                "status": statuses[i % len(statuses)],
                "scheduled_at": now + dt.timedelta(minutes=53 * (i - count // 2)),
                "created_at": now - dt.timedelta(minutes=i),
                "updated_at": now,
                "post_type": "video",
            }
            for i in range(count)
        ]
        for start in range(0, count, 500):
            Post.insert_many(rows[start : start + 500]).execute()
        ids = [p.id for p in Post.select(Post.id).where(Post.caption.startswith("Post number"))]
        targets = [
            {
                "post": pid,
                "account": env.accounts[pid % 10].id,
                "status": "scheduled",
                "created_at": now,
                "updated_at": now,
            }
            for pid in ids
        ]
        for start in range(0, len(targets), 500):
            PostTarget.insert_many(targets[start : start + 500]).execute()
    c = env.client
    out = []
    base = f"/w/{env.workspace.slug}"  # the workspace's own addresses: no redirect timed
    for name, url in (
        ("Posts list (10,000 posts)", f"{base}/posts/"),
        ("Posts list, Failed filter", f"{base}/posts/?status=failed"),
        ("Calendar month (10,000 posts)", f"{base}/calendar/"),
        ("Calendar week (10,000 posts)", f"{base}/calendar/?view=week"),
    ):
        assert c.get(url).status_code == 200
        times = latencies(lambda url=url: c.get(url), count=200)
        p95 = pct(times, 0.95)
        out.append(
            f"{name:<36} p50 {pct(times, 0.5):6.1f} ms   p95 {p95:6.1f} ms   "
            f"target p95 ≤ 50 ms: {'ok' if p95 <= 50 else 'MISSED'}"
        )
    return out


def run(
    redis_url: str,
    tmp: str,
    *,
    trials: int = 50,
    burst_size: int = 500,
    size: int = ONE_GB,
    top: bool = True,
):
    """Run the publishing benchmarks and return the lines to print."""
    from sandbox.runner import SandboxProcess

    sandbox_env = {
        "SANDBOX_EXTRA_CREATORS": 200 + trials,
        "SANDBOX_DAILY_DIRECT_POSTS": 100_000,
        "SANDBOX_PROCESSING_SECONDS": 1,
        "SANDBOX_MODERATION_SECONDS": 1,
    }
    redis.Redis.from_url(redis_url).flushdb()
    with SandboxProcess(env=sandbox_env) as sandbox:
        env = Env(tmp, redis_url, sandbox, accounts=200 + trials)
        default = int(env.app.config["WORKERS"])
        lines = single(env, trials, default)
        # Each burst gets its own 100 accounts, so TikTok's per-minute limits start fresh.
        lines += burst(env, burst_size, default, env.accounts[:100])
        lines += burst(env, burst_size, default * 2, env.accounts[100:200])
        lines += upload(env, size=size)
    # The sandbox is stopped first: its ticker would otherwise share the two cores.
    lines += pages(env)
    redis.Redis.from_url(redis_url).flushdb()
    if top:
        top_dir = Path(tmp) / "top"
        top_dir.mkdir()
        lines += top_of_hour(str(top_dir), redis_url)
        redis.Redis.from_url(redis_url).flushdb()
    return lines


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(ROOT))
    if "--top-only" in sys.argv:  # only the top of the hour (it takes ~6 min at 100 Mbit/s)
        with tempfile.TemporaryDirectory() as directory:
            url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
            for line in top_of_hour(directory, url):
                print(line)
        sys.exit(0)
    with tempfile.TemporaryDirectory() as directory:
        for line in run(
            os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
            directory,
            trials=int(os.environ.get("BENCH_TRIALS", 50)),
            burst_size=int(os.environ.get("BENCH_BURST", 500)),
            size=int(os.environ.get("BENCH_UPLOAD_BYTES", ONE_GB)),
        ):
            print(line)
