"""Response headers that every page carries, and input no page may receive."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, render_template, request

from webapp import config as cfg

# Browser features Cadence never uses are switched off for its pages and anything they embed;
# fullscreen and picture-in-picture stay for our own pages: the composer's <video controls>
# offers both.
PERMISSIONS_POLICY = ", ".join(
    [
        *(
            f"{feature}=()"
            for feature in (
                "accelerometer",
                "autoplay",
                "camera",
                "display-capture",
                "geolocation",
                "gyroscope",
                "hid",
                "magnetometer",
                "microphone",
                "midi",
                "payment",
                "publickey-credentials-get",
                "screen-wake-lock",
                "serial",
                "usb",
                "xr-spatial-tracking",
            )
        ),
        "fullscreen=(self)",
        "picture-in-picture=(self)",
    ]
)
# Only sent when browsers reach Cadence over https: a year, subdomains included.
HSTS = "max-age=31536000; includeSubDomains"

NUL_REFUSED = (
    "This form contains a NUL character, which can't be stored. Nothing was saved; "
    "remove it and try again."
)


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def init_app(app: Flask) -> None:
    """Add security headers to every response."""
    # Avatars come from TikTok's CDN (https) or, in the demo, from the sandbox over plain http.
    extra = {_origin(app.config[k]) for k in ("TIKTOK_AUTH_BASE_URL", "TIKTOK_API_BASE_URL")}
    img_src = " ".join(
        ["'self'", "data:", "https:", *sorted(o for o in extra if o.startswith("http:"))]
    )
    policy = (
        f"default-src 'self'; img-src {img_src}; media-src 'self' blob:; "
        "style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
        "base-uri 'self'; object-src 'none'"
    )
    hsts = cfg.behind_tls(app.config)

    @app.before_request
    def _refuse_nul():
        # PostgreSQL can't store NUL in text (SQLite can) and nobody types one: refuse the whole
        # request before a view reads it, so no save fails halfway. Uploads stream untouched.
        sources = [request.args]
        if request.mimetype == "application/x-www-form-urlencoded":
            sources.append(request.form)
        if any("\x00" in v for source in sources for values in source.listvalues() for v in values):
            return render_template("errors/error.html", code=400, message=NUL_REFUSED), 400
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if hsts:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
