"""Login Kit for Web: the authorize page, token exchange and refresh, revoke, user info."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, jsonify, render_template, request

from sandbox.common import bearer, cfg, fail, has_scope, log_id, ok, state
from sandbox.webhooks import send_event

bp = Blueprint("oauth", __name__)

KNOWN_SCOPES = [
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.publish",
    "video.upload",
]
FIELD_SCOPES = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "username": "user.info.profile",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}


def _error_page(code: str, message: str):
    return render_template("error.html", code=code, message=message), 400


def _redirect_uri_problem(uri: str) -> str | None:
    registered = [u.strip() for u in str(cfg("REDIRECT_URIS")).split(",") if u.strip()]
    if not uri:
        return "redirect_uri is missing."
    if len(uri) >= 512:
        return "redirect_uri must be shorter than 512 characters."
    parts = urlsplit(uri)
    if parts.query or parts.fragment:
        return "redirect_uri must not carry a query string or fragment."
    if registered:
        return (
            None if uri in registered else "redirect_uri does not match a registered redirect URI."
        )
    local = parts.hostname in {"localhost", "127.0.0.1", "::1"}
    if parts.scheme == "https" or (parts.scheme == "http" and local):
        return None
    return "redirect_uri must use https."


def _redirect(uri: str, params: dict):
    return "", 302, {"Location": f"{uri}?{urlencode(params)}"}


@bp.route("/v2/auth/authorize/", methods=["GET", "POST"])
def authorize():
    """Show the consent page; on POST, send the browser back with a code or an error."""
    source = request.values
    if source.get("client_key") != cfg("CLIENT_KEY"):
        return _error_page("invalid_client", "This app's client_key is not known.")
    redirect_uri = source.get("redirect_uri", "")
    problem = _redirect_uri_problem(redirect_uri)
    if problem:
        return _error_page("invalid_request", problem)
    st = source.get("state", "")
    back = {"state": st} if st else {}
    if source.get("response_type") != "code":
        return _redirect(
            redirect_uri,
            {
                "error": "unsupported_response_type",
                "error_description": "response_type must be code",
                **back,
            },
        )
    requested = [s.strip() for s in source.get("scope", "").split(",") if s.strip()]
    if not requested or any(s not in KNOWN_SCOPES for s in requested):
        return _redirect(
            redirect_uri,
            {"error": "invalid_scope", "error_description": "unknown or missing scope", **back},
        )
    method = source.get("code_challenge_method", "")
    if source.get("code_challenge") and method and method != "S256":
        return _redirect(
            redirect_uri,
            {
                "error": "invalid_request",
                "error_description": "code_challenge_method must be S256",
                **back,
            },
        )
    params = {
        k: source.get(k)
        for k in (
            "client_key",
            "scope",
            "redirect_uri",
            "state",
            "response_type",
            "code_challenge",
            "code_challenge_method",
            "disable_auto_auth",
        )
        if source.get(k) is not None
    }
    if request.method == "GET":
        return render_template(
            "authorize.html",
            app_name=cfg("APP_NAME"),
            params=params,
            creators=list(state().creators.values()),
            scopes=requested,
        )
    if request.form.get("decision") == "cancel":
        return _redirect(
            redirect_uri,
            {"error": "access_denied", "error_description": "The user denied the request.", **back},
        )
    creator = state().creators.get(request.form.get("creator", ""))
    if creator is None:
        return _error_page("invalid_request", "Choose an account to continue as.")
    ticked = set(request.form.getlist("scopes"))
    for item in list(ticked):
        ticked.update(s.strip() for s in item.split(",") if s.strip())
    granted = [s for s in requested if s in ticked or s == "user.info.basic"]
    code = "sbx-code-" + secrets.token_urlsafe(24)
    with state().lock:
        state().codes[code] = {
            "open_id": creator["open_id"],
            "scopes": granted,
            "redirect_uri": redirect_uri,
            "expires_at": time.time() + cfg("AUTH_CODE_TTL"),
            "used": False,
            "code_challenge": source.get("code_challenge", ""),
        }
        state().save()
    return _redirect(redirect_uri, {"code": code, "scopes": ",".join(granted), **back})


def _oauth_error(error: str, description: str, status: int = 400):
    return jsonify({"error": error, "error_description": description, "log_id": log_id()}), status


def _issue_tokens(open_id: str, scopes: list[str]) -> dict:
    st = state()
    access = st.new_token("act")
    refresh = st.new_token("rft")
    now = time.time()
    st.access[access] = {
        "open_id": open_id,
        "scopes": scopes,
        "expires_at": now + cfg("ACCESS_TOKEN_TTL"),
        "revoked": False,
    }
    st.refresh[refresh] = {
        "open_id": open_id,
        "scopes": scopes,
        "expires_at": now + cfg("REFRESH_TOKEN_TTL"),
        "alive": True,
    }
    return {
        "open_id": open_id,
        "scope": ",".join(scopes),
        "access_token": access,
        "expires_in": int(cfg("ACCESS_TOKEN_TTL")),
        "refresh_token": refresh,
        "refresh_expires_in": int(cfg("REFRESH_TOKEN_TTL")),
        "token_type": "Bearer",
    }


def _client_ok(form) -> bool:
    return form.get("client_key") == cfg("CLIENT_KEY") and form.get("client_secret") == cfg(
        "CLIENT_SECRET"
    )


@bp.route("/v2/oauth/token/", methods=["POST"])
def token():
    """Exchange a code, or rotate a refresh token."""
    form = request.form
    grant = form.get("grant_type", "")
    if not form.get("client_key") or not form.get("client_secret") or not grant:
        return _oauth_error(
            "invalid_request", "client_key, client_secret and grant_type are required."
        )
    if not _client_ok(form):
        return _oauth_error("invalid_client", "Client key or secret is invalid.", 401)
    st = state()
    with st.lock:
        if grant == "authorization_code":
            code, redirect_uri = form.get("code", ""), form.get("redirect_uri", "")
            if not code or not redirect_uri:
                return _oauth_error("invalid_request", "code and redirect_uri are required.")
            record = st.codes.get(code)
            if record is None or record["used"] or record["expires_at"] <= time.time():
                st.token_calls.append(
                    {"grant_type": grant, "result": "invalid_grant", "at": time.time()}
                )
                st.save()
                return _oauth_error(
                    "invalid_grant", "Authorization code is expired or already used."
                )
            if record["redirect_uri"] != redirect_uri:
                return _oauth_error(
                    "invalid_grant", "redirect_uri does not match the authorization request."
                )
            if record["code_challenge"]:
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(
                    hashlib.sha256(verifier.encode()).digest()
                ).rstrip(b"=")
                if digest.decode() != record["code_challenge"]:
                    return _oauth_error(
                        "invalid_grant", "code_verifier does not match code_challenge."
                    )
            record["used"] = True
            body = _issue_tokens(record["open_id"], record["scopes"])
        elif grant == "refresh_token":
            old = form.get("refresh_token", "")
            if not old:
                return _oauth_error("invalid_request", "refresh_token is required.")
            record = st.refresh.get(old)
            if record is None or not record["alive"] or record["expires_at"] <= time.time():
                st.token_calls.append(
                    {"grant_type": grant, "result": "invalid_grant", "at": time.time()}
                )
                st.save()
                return _oauth_error("invalid_grant", "Refresh token is invalid or expired.")
            record["alive"] = False  # rotation: the old refresh token dies now
            body = _issue_tokens(record["open_id"], record["scopes"])
        else:
            return _oauth_error("unsupported_grant_type", f"grant_type {grant!r} is not supported.")
        st.token_calls.append(
            {"grant_type": grant, "result": "ok", "open_id": body["open_id"], "at": time.time()}
        )
        st.save()
    return jsonify(body)


def revoke_open_id(open_id: str) -> None:
    """Kill every token of a creator (the authorization is gone)."""
    st = state()
    with st.lock:
        for record in st.access.values():
            if record["open_id"] == open_id:
                record["revoked"] = True
        for record in st.refresh.values():
            if record["open_id"] == open_id:
                record["alive"] = False
        st.save()


@bp.route("/v2/oauth/revoke/", methods=["POST"])
def revoke():
    """Revoke an access token and the authorization behind it."""
    form = request.form
    if not form.get("client_key") or not form.get("client_secret") or not form.get("token"):
        return _oauth_error("invalid_request", "client_key, client_secret and token are required.")
    if not _client_ok(form):
        return _oauth_error("invalid_client", "Client key or secret is invalid.", 401)
    record = state().access.get(form["token"])
    if record is not None:
        revoke_open_id(record["open_id"])
    return jsonify({})


@bp.route("/v2/user/info/", methods=["GET"])
def user_info():
    """Return the requested profile fields, refusing fields whose scope wasn't granted."""
    record, error = bearer()
    if error:
        return error
    if not state().hit(f"user_info:{request.headers['Authorization']}", cfg("RATE_USER_INFO")):
        return fail("rate_limit_exceeded", "Too many requests.", 429)
    fields = [f.strip() for f in request.args.get("fields", "").split(",") if f.strip()]
    if not fields or any(f not in FIELD_SCOPES for f in fields):
        return fail("invalid_params", "fields is missing or names an unknown field.", 400)
    for field in fields:
        if not has_scope(record, FIELD_SCOPES[field]):
            return fail(
                "scope_not_authorized",
                f"The user did not authorize the scope required for field {field}.",
                401,
            )
    creator = state().creator_by_open_id(record["open_id"])
    avatar = f"{request.host_url}_sandbox/avatar/{creator['username']}.svg"
    values = {
        "open_id": creator["open_id"],
        "union_id": creator["union_id"],
        "avatar_url": avatar,
        "avatar_url_100": avatar,
        "avatar_large_url": avatar,
        "display_name": creator["nickname"],
        "username": creator["username"],
        "bio_description": creator["bio"],
        "profile_deep_link": f"{request.host_url}@{creator['username']}",
        "is_verified": creator["is_verified"],
        "follower_count": 1200,
        "following_count": 80,
        "likes_count": 5400,
        "video_count": 42,
    }
    return ok({"user": {f: values[f] for f in fields}})


def deauthorize(open_id: str) -> None:
    """Act as if the creator removed the app in TikTok: tokens die, a webhook says so."""
    revoke_open_id(open_id)
    send_event("authorization.removed", open_id, {"reason": 1})
