"""The public pages' texts and links (pages in webapp/public/views.py): they start from
templates filled in with the installation's name, which the operator edits in Admin Console."""

from __future__ import annotations

from flask import url_for
from markupsafe import Markup, escape

from webapp.models import AppSettings

PAGES = {"about": "About", "privacy": "Privacy policy", "terms": "Terms of service"}


def default_texts(settings: AppSettings) -> dict[str, str]:
    """Return the starting texts, filled in with the installation's name and contact."""
    name = settings.app_name or "Cadence"
    contact = settings.support_email or "the address on our website"
    return {
        "about": (
            f"{name} is social media management software offered to brands, creators and "
            "the clients of agencies. Customers create, schedule, publish and manage their "
            "TikTok content in one place: they write a post, add a video or photos, plan it on "
            "a calendar and publish it now or at the minute they choose.\n\n"
            "Customers connect their TikTok accounts through TikTok's own authorization page, "
            "choose for every post who can see it and which interactions are allowed, disclose "
            "commercial content when it applies, and see the status TikTok reports."
        ),
        "privacy": (
            f"This policy explains what {name} keeps when you connect a TikTok account.\n\n"
            "From TikTok we store your account's open ID, display name, username and avatar "
            "address, the access and refresh tokens TikTok issues (encrypted), and for each "
            "post the publish ID, status and public post ID TikTok returns. We keep the videos "
            "and photos you upload until you delete them.\n\n"
            "We use this only to publish the posts you compose and to show their status. We do "
            "not sell it or share it with anyone other than TikTok.\n\n"
            "Disconnecting the account in Accounts deletes its tokens and revokes our access at "
            f"TikTok. To have everything deleted, write to {contact}."
        ),
        "terms": (
            f"By using {name} you agree to these terms and to TikTok's Terms of Service.\n\n"
            "You may only connect TikTok accounts you are allowed to post for, and only post "
            "content you have the rights to. You remain responsible for what you publish.\n\n"
            "The service is provided as is; posts are sent to TikTok as you confirm them, and "
            "TikTok decides whether and when they appear.\n\n"
            f"Questions: {contact}."
        ),
    }


def text_of(settings: AppSettings, page: str) -> str:
    """Return a page's text: the operator's, or the starting template."""
    own = {
        "about": settings.service_description,
        "privacy": settings.privacy_text,
        "terms": settings.terms_text,
    }[page]
    return own.strip() or default_texts(settings)[page]


def paragraphs(text: str) -> Markup:
    """Render plain text as escaped paragraphs (blank lines separate them)."""
    parts = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return Markup("".join(f"<p>{escape(p)}</p>" for p in parts))  # noqa: S704 - escaped


def links() -> list[tuple[str, str]]:
    """Return (label, url) of the public pages when they are enabled, for every public page."""
    try:
        if not AppSettings.load().public_pages:
            return []
    except Exception:  # noqa: BLE001 - an error page must render even without a database
        return []
    return [(label, url_for(f"public.{page}")) for page, label in PAGES.items()]
