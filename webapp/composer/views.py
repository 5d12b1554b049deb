"""Create Post views: the page, the live check (htmx), and the submission (same rules)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from redis.exceptions import RedisError

from webapp import htmx, publishing
from webapp.composer import bp
from webapp.composer.creators import creator_for
from webapp.composer.form import ComposerInput, from_post, parse
from webapp.db import db
from webapp.extensions import get_redis
from webapp.media.storage import cover_frames
from webapp.models import (
    Account,
    AppSettings,
    Media,
    Post,
    PostEvent,
    PostMedia,
    PostTarget,
    TikTokService,
    utcnow,
)
from webapp.tiktok.accounts import client_for
from webapp.tiktok.composer import (
    PROCESSING_NOTICE,
    Decision,
    MediaFacts,
    decide,
    hover_text,
    utf16_len,
)
from webapp.timezones import to_utc, zone_for

log = logging.getLogger(__name__)


def _declaration_parts(decision_text: str, links) -> list[tuple[str, str]]:
    """Split the declaration into (text, url) pieces so templates can link them."""
    parts = [(decision_text, "")]
    for link in links:
        out = []
        for text, url in parts:
            if url or link.text not in text:
                out.append((text, url))
                continue
            before, after = text.split(link.text, 1)
            out += [(before, ""), (link.text, link.url), (after, "")]
        parts = out
    return [p for p in parts if p[0]]


@bp.app_template_filter("keep_key")
def keep_key(state) -> str:
    """Return a short id-safe key for what the server decided about an input (hx-preserve).

    An input wrapped in an element whose id carries this key is kept exactly as the person left
    it while the key stays the same; when the server's decision changes (an option disabled, a
    toggle greyed) the id changes and the input is drawn again from that same check's values,
    which hx-sync guarantees are the latest (any later change would have aborted that check).
    """
    return hashlib.sha256(repr(state).encode()).hexdigest()[:12]


def _media(data: ComposerInput) -> tuple[list[Media], MediaFacts | None, str]:
    if not data.media_ids:
        return [], None, ""
    rows = {
        m.id: m
        for m in Media.select().where(
            Media.id.in_(data.media_ids)
            & (Media.owner == current_user.id)
            & (Media.status != "deleted")
        )
    }
    if len(rows) != len(data.media_ids):
        return [], None, "One of the chosen files isn't yours or no longer exists. Choose again."
    ordered = [rows[i] for i in data.media_ids]
    return ordered, publishing.media_facts(ordered, data.post_type), ""


def compose(data: ComposerInput) -> dict:
    """Decide every selected account's panel and the page's overall state."""
    service = TikTokService.load()
    settings = AppSettings.load()
    accounts = list(
        Account.select()
        .where((Account.owner == current_user.id) & (Account.status != "disconnected"))
        .order_by(Account.display_name)
    )
    mine = {a.id: a for a in accounts}
    chosen_media, facts, media_problem = _media(data)
    errors = []
    if not data.account_ids:
        errors.append("Choose at least one account to post to.")
    if any(i not in mine for i in data.account_ids):
        errors.append("One of the chosen accounts isn't yours or is disconnected. Choose again.")
    if media_problem:
        errors.append(media_problem)
    # Whatever the share type or action (an "Upload as draft" video sends no caption to TikTok,
    # so TikTok's limit doesn't apply): text past what Cadence keeps is refused, never cut.
    errors += data.too_long
    client = client_for(service, current_app.config) if service.is_configured else None
    panels: list[tuple[Account, Decision]] = []
    for account_id in data.account_ids:
        account = mine.get(account_id)
        if account is None:
            continue
        creator, problem = (
            (None, "TikTok isn't set up yet.")
            if client is None
            else creator_for(account, client=client, redis=get_redis())
        )
        decision = decide(
            creator=creator,
            media=facts,
            post_type=data.post_type,
            share_type=service.share_type,
            audited=service.audited,
            choices=data.choices[account_id],
        )
        if creator is None:
            decision.blocked = problem
            decision.errors = [problem]
        panels.append((account, decision))
    reasons = errors + [f"{_name(a)}: {e}" for a, d in panels for e in d.errors]
    # The hover text is TikTok's sentence itself (e.g. the disclosure one), not our list item.
    hover = hover_text(errors + [e for _, d in panels for e in d.errors])
    branded = any(d.branded_content and d.branded_content.checked for _, d in panels)
    sample = next((d for _, d in panels if d.declaration), None)
    declaration = _declaration_parts(sample.declaration, sample.declaration_links) if sample else []
    if branded and sample and not (sample.branded_content and sample.branded_content.checked):
        branded_one = next(d for _, d in panels if d.branded_content and d.branded_content.checked)
        declaration = _declaration_parts(branded_one.declaration, branded_one.declaration_links)
    zone = zone_for(current_user, settings.timezone)
    warnings = _cap_warnings(data, [a for a, _ in panels], zone, service.audited)
    return {
        "warnings": warnings,
        "data": data,
        "accounts": accounts,
        "panels": panels,
        "service": service,
        "media_choices": list(
            Media.select()
            .where((Media.owner == current_user.id) & (Media.status != "deleted"))
            .order_by(Media.created_at.desc())
        ),
        "chosen_media": chosen_media,
        # Cover frames take seconds to extract: the picker loads them on its own (cover()), so
        # no decision ever waits for them. None means "not drawn here".
        "cover_frames": None,
        "reasons": reasons,
        "hover": hover,
        "allowed": bool(panels) and not reasons,
        "declaration": declaration,
        "zone": zone,
        "caption_used": utf16_len(data.caption),
        "caption_limit": 90 if data.post_type == "photo" else 2200,
        "description_used": utf16_len(data.description),
    }


DAILY_POSTS_PER_CREATOR = 15
UNAUDITED_DAILY_USERS = 5
LIVE = publishing.LIVE


def _typed_time(data: ComposerInput, zone) -> dt.datetime | None:
    """Return the typed local schedule time in UTC, or None when it isn't a usable time."""
    try:
        return to_utc(dt.datetime.fromisoformat(data.schedule_at).replace(tzinfo=None), zone)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved past by the zone
        return None


def _planned_time(data: ComposerInput, zone) -> dt.datetime:
    when = _typed_time(data, zone)
    # The caps look a day either way; a time at the calendar's edge is refused anyway.
    day = dt.timedelta(days=1)
    return when if when and dt.datetime.min + day < when < dt.datetime.max - day else utcnow()


def _cap_warnings(data: ComposerInput, accounts: list[Account], zone, audited: bool) -> list[str]:
    """Warn (without blocking) when TikTok's daily caps are likely to refuse this post."""
    if not accounts:
        return []
    when = _planned_time(data, zone)
    window = (Post.scheduled_at > when - dt.timedelta(hours=24)) & (
        Post.scheduled_at < when + dt.timedelta(hours=24)
    )
    others = (
        PostTarget.select()
        .join(Post)
        .where(window & PostTarget.status.in_(LIVE) & (Post.id != (data.post_id or 0)))
    )
    warnings = []
    for account in accounts:
        count = others.where(PostTarget.account == account.id).count()
        if count + 1 > DAILY_POSTS_PER_CREATOR:
            warnings.append(
                f"{_name(account)} would have {count + 1} posts within 24 hours of this one; "
                f"TikTok allows about {DAILY_POSTS_PER_CREATOR} a day per creator "
                "and may refuse the rest."
            )
    if not audited:
        posting = {t.account_id for t in others.select(PostTarget.account)}
        new = [a for a in accounts if a.id not in posting]
        if new and len(posting) + len(new) > UNAUDITED_DAILY_USERS:
            warnings.append(
                f"Until the audit passes, TikTok lets at most {UNAUDITED_DAILY_USERS} accounts "
                f"post through this app in 24 hours; this would make {len(posting) + len(new)}."
            )
    return warnings


def _name(account: Account) -> str:
    return f"@{account.username}" if account.username else account.display_name


@bp.route("/", methods=["GET"])
def create():
    """Show the composer (nothing chosen: no privacy, interactions off, disclosure off)."""
    data = parse(request.args)
    if not data.account_ids:
        connected = Account.select(Account.id).where(
            (Account.owner == current_user.id) & (Account.status == "connected")
        )
        if connected.count() == 1:
            # One account: choose it already (its settings still start untouched).
            args = request.args.copy()
            args["accounts"] = str(connected.get().id)
            data = parse(args)
    return render_template("composer/create.html", **compose(data))


EDITABLE = publishing.EDITABLE


def editable_post(post_id: int) -> Post:
    """Return the user's draft or scheduled post, or 404."""
    post = Post.get_or_none(
        (Post.id == post_id) & (Post.author == current_user.id) & Post.status.in_(EDITABLE)
    )
    if post is None:
        abort(404)
    return post


@bp.route("/<int:post_id>/edit")
def edit(post_id: int):
    """Reopen a draft, or a scheduled post that hasn't started publishing, in the composer."""
    post = editable_post(post_id)
    zone = zone_for(current_user, AppSettings.load().timezone)
    return render_template("composer/create.html", **compose(parse(from_post(post, zone))))


@bp.route("/check", methods=["POST"])
def check():
    """Re-decide after a change and send back only what the server decides (htmx).

    The answer never carries an input the person can type in or tick with its value: every such
    input is either outside the swapped parts or kept as it is in the page (hx-preserve), so an
    answer that lands late can't undo what was typed meanwhile. A browser without JavaScript
    (the "Update" button) gets the whole page back instead.
    """
    context = compose(parse(request.form))
    if htmx.is_htmx():
        return render_template("composer/_check_all.html", **context)
    chosen = context["chosen_media"]
    if context["data"].post_type == "video" and chosen and chosen[0].kind == "video":
        # No JavaScript, so no picker loading on its own: this plain round trip draws it.
        context["cover_frames"] = cover_frames(chosen[0])
    return render_template("composer/create.html", **context)


@bp.route("/cover/<int:media_id>")
def cover(media_id: int):
    """Draw the cover-frame picker of one video; it asks again while its frames aren't ready."""
    media = Media.get_or_none(
        (Media.id == media_id)
        & (Media.owner == current_user.id)
        & (Media.status != "deleted")
        & (Media.kind == "video")
    )
    if media is None:
        abort(404)
    chosen = request.args.get("chosen", type=int)
    # Frames may still be in the making (an upload's check job makes them): ask again shortly.
    pending = media.status == "checking"
    return render_template(
        "composer/_cover_picker.html",
        media=media,
        cover_frames=None if pending else cover_frames(media),
        pending=pending,
        chosen=chosen,
    )


def _schedule_time(data: ComposerInput, zone) -> tuple[dt.datetime | None, str]:
    if data.action != "schedule":
        return utcnow(), ""
    when = _typed_time(data, zone)
    if when is None:
        return None, "Choose the date and time to post at."
    if when <= utcnow() + dt.timedelta(minutes=1):
        return None, "Choose a time at least a minute from now."
    if when > utcnow() + dt.timedelta(days=365):
        return None, "Choose a time within the next year."
    return when.replace(second=0), ""


@bp.route("/", methods=["POST"])
def submit():
    """Run the same decision once more; refuse (422) or record the post and everyone's consent."""
    data = parse(request.form)
    if not data.action:
        data.action = "save_draft"
    existing = editable_post(data.post_id) if data.post_id is not None else None
    context = compose(data)
    if data.action == "save_draft":
        reasons = [r for r in context["reasons"] if "isn't yours" in r]
        if not data.account_ids and not data.media_ids and not data.caption.strip():
            reasons.append("There is nothing to save yet.")
        reasons += data.too_long  # a draft skips TikTok's limits, but text is never cut
        when = None
    else:
        when, problem = _schedule_time(data, context["zone"])
        reasons = context["reasons"] + ([problem] if problem else [])
    if reasons:
        context["reasons"] = reasons
        context["allowed"] = False
        context["refused"] = True
        return render_template("composer/create.html", **context), 422
    if existing is not None:
        try:
            publishing.unschedule(existing, get_redis())
        except RedisError:
            log.warning("could not drop the queued jobs of post %s", existing.id)
    try:
        post = _save(data, context, when, existing)
    except StartedMeanwhile:
        flash("This post started publishing meanwhile, so it can no longer be edited.", "error")
        return redirect(url_for("posts.detail", post_id=existing.id), code=303)
    if data.action != "save_draft":
        try:
            publishing.schedule(post, get_redis())
        except RedisError:
            # The database has the post; the reconciler queues it as soon as Redis answers.
            log.warning("post %s saved but not queued yet (Redis unavailable)", post.id)
    if data.action == "save_draft":
        flash("Draft saved.", "success")
    elif data.action == "schedule":
        local = when.replace(tzinfo=dt.UTC).astimezone(context["zone"])
        flash(f"Scheduled for {local:%Y-%m-%d %H:%M} ({context['zone'].key}).", "success")
    else:
        flash("Sent for publishing. " + PROCESSING_NOTICE, "success")
    if post.status == "draft":
        return redirect(url_for("posts.index", status="drafts"), code=303)
    return redirect(url_for("posts.detail", post_id=post.id), code=303)


StartedMeanwhile = publishing.StartedMeanwhile


def _save(
    data: ComposerInput, context: dict, when: dt.datetime | None, existing: Post | None
) -> Post:
    draft = data.action == "save_draft"
    now = utcnow()
    with db.atomic():
        post = existing or Post(author=current_user.id)
        if existing is not None:
            # An edit replaces what was chosen; the post keeps its id and its timeline.
            # Only targets nobody started may go (replace_targets below raises
            # StartedMeanwhile, rolling all of this back): a run that began meanwhile wins.
            PostMedia.delete().where(PostMedia.post == post.id).execute()
            PostEvent.create(
                post=post, kind="edited", message=f"Edited by {current_user.display_name}"
            )
        post.post_type = data.post_type
        post.caption = data.caption
        post.description = data.description if data.post_type == "photo" else ""
        post.cover_timestamp_ms = data.cover_timestamp_ms
        post.status = "draft" if draft else "scheduled"
        post.scheduled_at = when
        post.consent_at = None if draft else now
        post.save()
        for position, media in enumerate(context["chosen_media"]):
            PostMedia.create(post=post, media=media, position=position)
        mine = {a.id for a in context["accounts"]}
        decided = {a.id: d for a, d in context["panels"]}
        chosen = {i: data.choices[i] for i in data.account_ids if i in mine}
        for target in publishing.replace_targets(post, chosen, post.status):
            account_id = target.account_id
            if not draft:
                decision = decided[account_id]
                PostEvent.create(
                    post=post,
                    target=target,
                    kind="consent",
                    data={
                        "user_id": current_user.id,
                        "user_email": current_user.email,
                        "at": now.isoformat(),
                        "action": data.action,
                        "declaration": decision.declaration,
                        "post_info": decision.post_info,
                        "share_type": decision.share_type,
                    },
                    message=f"{current_user.display_name} confirmed: “{decision.declaration}”",
                )
    return post
