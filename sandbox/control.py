"""Operator and test controls under /_sandbox/, switchable faults, avatars and post pages."""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from html import escape

from flask import Blueprint, Flask, abort, jsonify, render_template, request

from sandbox import media
from sandbox.common import fail, state

bp = Blueprint("control", __name__)

FAULT_KINDS = ("error_5xx", "rate_429", "slow", "drop")
_faults_lock = threading.Lock()
_faults: dict = {"rates": {}, "slow_seconds": 2.0, "paths": [], "queue": [], "fired": {}}
# An outage: until this time.monotonic(), every TikTok request (uploads included) is dropped.
_outage = {"until": 0.0}


class DropConnection(Exception):
    """Close the socket without answering."""


def _drop() -> None:
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            # Reset, not a polite close: a client still sending a chunk learns at once, as it
            # would from a real dropped connection (else it waits out its write timeout).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    raise DropConnection


def _matches(path: str, prefixes) -> bool:
    return not prefixes or any(path.startswith(p) for p in prefixes)


def _apply_faults():
    path = request.path
    if path.startswith("/_sandbox") or path.startswith("/@"):
        return None
    if time.monotonic() < _outage["until"]:
        with _faults_lock:
            _faults["fired"]["outage"] = _faults["fired"].get("outage", 0) + 1
        _drop()
    with _faults_lock:
        one_shot = next((f for f in _faults["queue"] if _matches(path, [f.get("path", "")])), None)
        if one_shot is not None:
            _faults["queue"].remove(one_shot)
        rates = dict(_faults["rates"]) if _matches(path, _faults["paths"]) else {}
        slow_seconds = _faults["slow_seconds"]
    if one_shot is not None:
        return _fire(one_shot)
    roll = random.random()
    for kind in FAULT_KINDS:
        rate = float(rates.get(kind, 0))
        if roll < rate:
            return _fire({"kind": kind, "seconds": slow_seconds})
        roll -= rate
    return None


def _fire(fault: dict):
    kind = fault.get("kind", "error_5xx")
    with _faults_lock:
        _faults["fired"][kind] = _faults["fired"].get(kind, 0) + 1
    if kind == "slow":
        time.sleep(float(fault.get("seconds", 2.0)))
        return None
    if kind == "drop":
        _drop()
    if kind == "rate_429":
        return fail("rate_limit_exceeded", "Too many requests (sandbox fault).", 429)
    if kind == "error":
        return fail(
            fault.get("code", "internal_error"),
            fault.get("message", "Sandbox fault."),
            int(fault.get("status", 500)),
        )
    status = int(fault.get("status", 500))
    return fail("internal_error", "Something went wrong on TikTok's side (sandbox fault).", status)


def init_app(app: Flask) -> None:
    """Install the fault injector in front of every TikTok endpoint."""
    app.before_request(_apply_faults)

    @app.errorhandler(DropConnection)
    def _dropped(_exc):
        return "", 500  # the socket is already closed; nothing reaches the client

    @app.errorhandler(404)
    def _not_found(_exc):
        return fail("not_found", "No such endpoint in the TikTok sandbox.", 404)

    @app.errorhandler(405)
    def _not_allowed(_exc):
        return fail("invalid_params", "This endpoint does not accept that method.", 405)


@bp.route("/_sandbox/faults", methods=["GET", "POST"])
def faults():
    """Read or set faults (rates by kind, path prefixes, slow_seconds, a queue of one-shots,
    and outage_seconds: TikTok unreachable for that long from now, every connection dropped)."""
    if request.method == "POST":
        body = request.get_json(force=True, silent=True) or {}
        if "outage_seconds" in body:
            _outage["until"] = time.monotonic() + float(body["outage_seconds"])
        with _faults_lock:
            if "rates" in body:
                bad = set(body["rates"]) - set(FAULT_KINDS)
                if bad:
                    return jsonify({"error": f"unknown fault kinds: {sorted(bad)}"}), 400
                _faults["rates"] = {k: float(v) for k, v in body["rates"].items()}
            if "paths" in body:
                _faults["paths"] = list(body["paths"])
            if "slow_seconds" in body:
                _faults["slow_seconds"] = float(body["slow_seconds"])
            if body.get("clear_queue"):
                _faults["queue"] = []
            _faults["queue"].extend(body.get("queue", []))
    with _faults_lock:
        return jsonify({**_faults, "outage_left": max(0.0, _outage["until"] - time.monotonic())})


@bp.route("/_sandbox/reset", methods=["POST"])
def reset():
    """Forget all tokens, publishes and faults."""
    state().reset()
    media.clear_spool(state().path)
    with _faults_lock:
        _faults.update({"rates": {}, "slow_seconds": 2.0, "paths": [], "queue": [], "fired": {}})
    _outage["until"] = 0.0
    return jsonify({"ok": True})


@bp.route("/_sandbox/state")
def dump_state():
    """Return creators, counts, every init (the witness for exactly-once) and webhook log."""
    st = state()
    with st.lock:
        return jsonify(
            {
                "creators": list(st.creators.values()),
                "access_tokens": len(st.access),
                "live_refresh_tokens": sum(1 for r in st.refresh.values() if r["alive"]),
                "inits": st.inits,
                "token_calls": st.token_calls,
                "publishes": [
                    {k: v for k, v in p.items() if k not in {"upload_token"}}
                    for p in st.publishes.values()
                ],
                "webhooks": st.webhooks,
            }
        )


@bp.route("/_sandbox/creators/<username>", methods=["POST"])
def change_creator(username: str):
    """Change a creator's properties at runtime (privacy, interactions, limits, can't post)."""
    st = state()
    creator = st.creators.get(username)
    if creator is None:
        abort(404)
    body = request.get_json(force=True, silent=True) or {}
    allowed = {
        "private",
        "comment_disabled",
        "duet_disabled",
        "stitch_disabled",
        "max_video_post_duration_sec",
        "cant_post",
        "nickname",
    }
    unknown = set(body) - allowed
    if unknown:
        return jsonify({"error": f"unknown fields: {sorted(unknown)}"}), 400
    with st.lock:
        creator.update(body)
        st.save()
    return jsonify(creator)


@bp.route("/_sandbox/deauthorize/<open_id>", methods=["POST"])
def deauthorize(open_id: str):
    """Act as if the creator removed the app in TikTok's settings."""
    from sandbox.oauth import deauthorize as run

    if state().creator_by_open_id(open_id) is None:
        abort(404)
    run(open_id)
    return jsonify({"ok": True})


@bp.route("/_sandbox/expire-access-token", methods=["POST"])
def expire_access_token():
    """Make the given access token (or every token of an open_id) expire now."""
    body = request.get_json(force=True, silent=True) or {}
    st = state()
    with st.lock:
        hits = [
            r
            for t, r in st.access.items()
            if t == body.get("access_token") or r["open_id"] == body.get("open_id")
        ]
        for record in hits:
            record["expires_at"] = time.time() - 1
        st.save()
    return jsonify({"expired": len(hits)})


@bp.route("/_sandbox/avatar/<username>.svg")
def avatar(username: str):
    """Draw a creator's avatar: their initial on a colour of their own."""
    creator = state().creators.get(username)
    if creator is None:
        abort(404)
    hue = sum(map(ord, username)) % 360
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        f'<circle cx="32" cy="32" r="32" '
        f'fill="hsl({hue},60%,55%)"/><text x="32" y="42" font-size="28" text-anchor="middle" '
        f'font-family="sans-serif" fill="#fff">{escape(creator["nickname"][:1])}</text></svg>'
    )
    return svg, 200, {"Content-Type": "image/svg+xml", "Cache-Control": "max-age=3600"}


@bp.route("/@<username>/video/<post_id>")
def post_page(username: str, post_id: str):
    """Show a published post, as its public TikTok link would."""
    publish = next(
        (
            p
            for p in state().publishes.values()
            if p["username"] == username and str(p.get("public_post_id")) == post_id
        ),
        None,
    )
    if publish is None:
        abort(404)
    return render_template(
        "post.html", publish=publish, creator=state().creators[username], post_id=post_id
    )


VISIBILITY = {
    "PUBLIC_TO_EVERYONE": "Everyone",
    "MUTUAL_FOLLOW_FRIENDS": "Friends (private)",
    "FOLLOWER_OF_CREATOR": "Followers (private)",
    "SELF_ONLY": "Only me (private)",
}


@bp.route("/@<username>")
def profile_page(username: str):
    """Show a creator's profile with every published post, private ones marked, as the owner
    sees it when signed in (where "Open on TikTok" leads for a post with no public link)."""
    st = state()
    with st.lock:
        creator = st.creators.get(username)
        if creator is None:
            abort(404)
        posts = [
            p
            for p in st.publishes.values()
            if p["username"] == username and p["status"] == "PUBLISH_COMPLETE"
        ][::-1]
    return render_template("profile.html", creator=creator, posts=posts, visibility=VISIBILITY)


@bp.route("/_sandbox/")
def dashboard():
    """List creators and recent publishes for a human."""
    st = state()
    with st.lock:
        creators = list(st.creators.values())[:20]
        publishes = list(st.publishes.values())[-20:][::-1]
    return render_template("dashboard.html", creators=creators, publishes=publishes)
