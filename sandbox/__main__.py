"""`python -m sandbox --host 127.0.0.1 --port 8765 [--state-file PATH] [--latency-ms 150
--jitter-ms 20 --uplink-mbps 100]`."""

from __future__ import annotations

import argparse
import signal
import sys

from werkzeug.serving import ThreadedWSGIServer, run_simple

from sandbox import create_app, media


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="TikTok API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--state-file", default=None, help="keep state in this JSON file across restarts"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=None, help="round trip added to each API request"
    )
    parser.add_argument(
        "--jitter-ms", type=float, default=None, help="up to this much more, drawn per request"
    )
    parser.add_argument(
        "--uplink-mbps",
        type=float,
        default=None,
        help="upload bandwidth shared by every upload in flight (Mbit/s)",
    )
    args = parser.parse_args(argv)
    config = {"STATE_FILE": args.state_file} if args.state_file else {}
    for key, value in (
        ("LATENCY_MS", args.latency_ms),
        ("JITTER_MS", args.jitter_ms),
        ("UPLINK_MBPS", args.uplink_mbps),
    ):
        if value is not None:
            config[key] = value
    app = create_app(config)
    print(f"TikTok sandbox on http://{args.host}:{args.port}/_sandbox/", flush=True)
    # Stopped with SIGTERM (as the test runner does): leave no spooled video bytes behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # A thread per connection (threaded=True); a deep accept queue, so a few hundred clients
    # connecting in the same instant (posts due at the top of the hour) are all taken at once.
    ThreadedWSGIServer.request_queue_size = 1024
    try:
        run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    finally:
        if not args.state_file:  # with a state file, unfinished uploads resume after a restart
            media.clear_spool(None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
