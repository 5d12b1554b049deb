"""`python -m sandbox --host 127.0.0.1 --port 8765 [--state-file PATH]`."""

from __future__ import annotations

import argparse
import signal
import sys

from werkzeug.serving import run_simple

from sandbox import create_app, media


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="TikTok API sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--state-file", default=None, help="keep state in this JSON file across restarts"
    )
    args = parser.parse_args(argv)
    config = {"STATE_FILE": args.state_file} if args.state_file else {}
    app = create_app(config)
    print(f"TikTok sandbox on http://{args.host}:{args.port}/_sandbox/", flush=True)
    # Stopped with SIGTERM (as the test runner does): leave no spooled video bytes behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    finally:
        if not args.state_file:  # with a state file, unfinished uploads resume after a restart
            media.clear_spool(None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
