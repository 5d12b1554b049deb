"""Composing a post, the part with rules: what the composer shows for a choice of accounts and
media (each account's decision, TikTok's daily caps, the declaration), when a post may go out,
and saving it with every account's consent. The views parse the request, call one of these and
render; nothing here reads the request."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field, replace

from flask import current_app
from redis.exceptions import RedisError

from webapp import publishing
from webapp.composer.creators import creator_for
from webapp.composer.form import ComposerInput, from_post, parse
from webapp.extensions import get_redis
from webapp.models import (
    Account,
    AppSettings,
    Media,
    Post,
    PostEvent,
    PostMedia,
    PostTarget,
    TikTokService,
    User,
    Workspace,
    utcnow,
)
from webapp.tiktok.rules import (
    Decision,
    MediaFacts,
    caption_limit,
    decide,
    hover_text,
    utf16_len,
)
from webapp.tiktok.tokens import client_for
from webapp.timezones import to_utc, zone_for

log = logging.getLogger(__name__)

DAILY_POSTS_PER_CREATOR = 15
UNAUDITED_DAILY_USERS = 5
LIVE = publishing.LIVE
EDITABLE = publishing.EDITABLE


# --- what the composer shows ----------------------------------------------------------------------


def declaration_parts(decision_text: str, links) -> list[tuple[str, str]]:
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


def chosen_media(
    data: ComposerInput, workspace: Workspace
) -> tuple[list[Media], MediaFacts | None, str]:
    """Return the workspace's chosen media in order, what the decision needs to know about
    them, and a problem ('' when none)."""
    if not data.media_ids:
        return [], None, ""
    rows = {
        m.id: m
        for m in Media.select().where(
            Media.id.in_(data.media_ids)
            & (Media.workspace == workspace.id)
            & (Media.status != "deleted")
        )
    }
    if len(rows) != len(data.media_ids):
        return (
            [],
            None,
            "One of the chosen files isn't in this workspace or no longer exists. Choose again.",
        )
    ordered = [rows[i] for i in data.media_ids]
    return ordered, publishing.media_facts(ordered, data.post_type), ""


def postable_accounts(workspace: Workspace) -> list[Account]:
    """Return the accounts one may choose in the workspace's composer."""
    return list(
        Account.select()
        .where((Account.workspace == workspace.id) & (Account.status != "disconnected"))
        .order_by(Account.display_name)
    )


def only_connected_account(workspace: Workspace) -> Account | None:
    """Return the workspace's one connected account (the composer chooses it already), else
    None."""
    connected = list(
        Account.select(Account.id)
        .where((Account.workspace == workspace.id) & (Account.status == "connected"))
        .limit(2)
    )
    return connected[0] if len(connected) == 1 else None


def compose(data: ComposerInput, user: User, workspace: Workspace, *, fresh: bool = False) -> dict:
    """Decide every selected account's panel and the page's overall state (fresh: ask TikTok
    for creator info again instead of the minute's cached answer)."""
    service = TikTokService.load()
    settings = AppSettings.load()
    accounts = postable_accounts(workspace)
    mine = {a.id: a for a in accounts}
    media, facts, media_problem = chosen_media(data, workspace)
    errors = []
    if not data.account_ids:
        errors.append("Choose at least one account to post to.")
    if any(i not in mine for i in data.account_ids):
        errors.append(
            "One of the chosen accounts isn't in this workspace or is disconnected. Choose again."
        )
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
            else creator_for(account, client=client, redis=get_redis(), fresh=fresh)
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
    reasons = errors + [f"{a.handle}: {e}" for a, d in panels for e in d.errors]
    # The hover text is TikTok's sentence itself (e.g. the disclosure one), not our list item.
    hover = hover_text(errors + [e for _, d in panels for e in d.errors])
    branded = any(d.branded_content and d.branded_content.checked for _, d in panels)
    sample = next((d for _, d in panels if d.declaration), None)
    declaration = declaration_parts(sample.declaration, sample.declaration_links) if sample else []
    if branded and sample and not (sample.branded_content and sample.branded_content.checked):
        branded_one = next(d for _, d in panels if d.branded_content and d.branded_content.checked)
        declaration = declaration_parts(branded_one.declaration, branded_one.declaration_links)
    zone = zone_for(user, settings.timezone)
    return {
        "warnings": cap_warnings(data, [a for a, _ in panels], zone, service.audited),
        "data": data,
        "accounts": accounts,
        "panels": panels,
        "service": service,
        "media_choices": list(
            Media.select()
            .where((Media.workspace == workspace.id) & (Media.status != "deleted"))
            .order_by(Media.created_at.desc())
        ),
        "chosen_media": media,
        # Cover frames take seconds to extract: the picker loads them on its own (cover()), so
        # no decision ever waits for them. None means "not drawn here".
        "cover_frames": None,
        "reasons": reasons,
        "hover": hover,
        "allowed": bool(panels) and not reasons,
        "declaration": declaration,
        "zone": zone,
        "caption_used": utf16_len(data.caption),
        "caption_limit": caption_limit(data.post_type),
        "description_used": utf16_len(data.description),
    }


# --- time and TikTok's daily caps -----------------------------------------------------------------


def typed_time(data: ComposerInput, zone) -> dt.datetime | None:
    """Return the typed local schedule time in UTC, or None when it isn't a usable time."""
    try:
        return to_utc(dt.datetime.fromisoformat(data.schedule_at).replace(tzinfo=None), zone)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved past by the zone
        return None


def _planned_time(data: ComposerInput, zone) -> dt.datetime:
    when = typed_time(data, zone)
    # The caps look a day either way; a time at the calendar's edge is refused anyway.
    day = dt.timedelta(days=1)
    return when if when and dt.datetime.min + day < when < dt.datetime.max - day else utcnow()


def schedule_time(data: ComposerInput, zone) -> tuple[dt.datetime | None, str]:
    """Return when the post goes out (UTC, now unless scheduled) or None and why not."""
    if data.action != "schedule":
        return utcnow(), ""
    when = typed_time(data, zone)
    if when is None:
        return None, "Choose the date and time to post at."
    if when <= utcnow() + dt.timedelta(minutes=1):
        return None, "Choose a time at least a minute from now."
    if when > utcnow() + dt.timedelta(days=365):
        return None, "Choose a time within the next year."
    return when.replace(second=0), ""


def cap_warnings(data: ComposerInput, accounts: list[Account], zone, audited: bool) -> list[str]:
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
                f"{account.handle} would have {count + 1} posts within 24 hours of this one; "
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


# --- saving ---------------------------------------------------------------------------------------


StartedMeanwhile = publishing.StartedMeanwhile


def from_post_args(post: Post, user: User):
    """Return the form values that reopen post in the composer, in the user's time zone."""
    return from_post(post, zone_for(user, AppSettings.load().timezone))


def editable_post(post_id: int, workspace: Workspace) -> Post | None:
    """Return the workspace's draft or scheduled post, or None."""
    return Post.get_or_none(
        (Post.id == post_id) & (Post.workspace == workspace.id) & Post.status.in_(EDITABLE)
    )


@dataclass
class Submission:
    """What became of a composer submission: the saved post, or the context to show again."""

    context: dict
    post: Post | None = None
    reasons: list[str] = field(default_factory=list)
    started_meanwhile: bool = False
    awaiting: bool = False  # saved for a manager's approval: nothing queued


def submit(
    data: ComposerInput,
    user: User,
    workspace: Workspace,
    existing: Post | None,
    role=None,
) -> Submission:
    """Run the same decision once more; refuse with reasons, or save the post with everyone's
    consent and queue it (a draft is only saved). Where the workspace requires approval, an
    editor's Post now / Schedule is saved awaiting a manager instead (role: the person's role
    in the workspace)."""
    if not data.action:
        data.action = "save_draft"
    context = compose(data, user, workspace)
    if data.action == "save_draft":
        reasons = [r for r in context["reasons"] if "isn't in this workspace" in r]
        if not data.account_ids and not data.media_ids and not data.caption.strip():
            reasons.append("There is nothing to save yet.")
        reasons += data.too_long  # a draft skips TikTok's limits, but text is never cut
        when = None
    else:
        when, problem = schedule_time(data, context["zone"])
        reasons = context["reasons"] + ([problem] if problem else [])
    if reasons:
        context.update(reasons=reasons, allowed=False, refused=True)
        return Submission(context, reasons=reasons)
    redis = get_redis()
    if existing is not None:
        try:
            publishing.unschedule(existing, redis)
        except RedisError:
            log.warning("could not drop the queued jobs of post %s", existing.id)
    awaiting = data.action != "save_draft" and publishing.needs_approval(workspace, role)
    try:
        post = _save(data, context, when, existing, user, workspace, awaiting=awaiting)
    except StartedMeanwhile:
        return Submission(context, post=existing, started_meanwhile=True)
    if awaiting:
        return Submission(context, post=post, awaiting=True)
    if data.action != "save_draft":
        try:
            publishing.schedule(post, redis)
        except RedisError:
            # The database has the post; the reconciler queues it as soon as Redis answers.
            log.warning("post %s saved but not queued yet (Redis unavailable)", post.id)
    return Submission(context, post=post)


def _save(
    data: ComposerInput,
    context: dict,
    when: dt.datetime | None,
    existing: Post | None,
    user: User,
    workspace: Workspace,
    *,
    awaiting: bool = False,
) -> Post:
    draft = data.action == "save_draft"
    was_awaiting = existing is not None and existing.status == publishing.Status.AWAITING_APPROVAL
    now = utcnow()
    # publishing's transaction: the approval request's emails leave once this commits.
    with publishing.transaction():
        post = existing or Post(author=user.id, workspace=workspace.id)
        if existing is not None:
            # An edit replaces what was chosen; the post keeps its id and its timeline.
            # Only targets nobody started may go (replace_targets below raises
            # StartedMeanwhile, rolling all of this back): a run that began meanwhile wins.
            PostMedia.delete().where(PostMedia.post == post.id).execute()
            PostEvent.create(post=post, kind="edited", message=f"Edited by {user.display_name}")
        post.post_type = data.post_type
        post.caption = data.caption
        post.description = data.description if data.post_type == "photo" else ""
        post.cover_timestamp_ms = data.cover_timestamp_ms
        post.status = "draft" if draft else "scheduled"
        post.scheduled_at = when
        post.consent_at = None if draft else now
        # Any edit needs approving again where approval applies (submit_for_approval below);
        # an earlier approval never vouches for what changed since. A manager who posts a
        # submitted post from the composer approves it by doing so.
        approves = was_awaiting and not draft and not awaiting
        post.approved_by = user.id if approves else None
        post.approved_at = now if approves else None
        if not draft:
            post.review_note = ""
        if awaiting:
            # Nobody consented to sending yet: the approver's click will be the consent. A post
            # asked for "now" has no time; it goes when approved.
            post.status = publishing.Status.AWAITING_APPROVAL
            post.scheduled_at = when if data.action == "schedule" else None
            post.consent_at = None
        post.save()
        for position, media in enumerate(context["chosen_media"]):
            PostMedia.create(post=post, media=media, position=position)
        mine = {a.id for a in context["accounts"]}
        decided = {a.id: d for a, d in context["panels"]}
        chosen = {i: data.choices[i] for i in data.account_ids if i in mine}
        for target in publishing.replace_targets(post, chosen, post.status):
            if not draft and not awaiting:
                publishing.record_consent(
                    post, target, user, data.action, decided[target.account_id], now
                )
        if awaiting:
            publishing.submit_for_approval(post, user)
    return post


# --- approval ---------------------------------------------------------------------------------


def review(post: Post, user: User, workspace: Workspace) -> dict:
    """Return the composer's context for a post awaiting approval, decided afresh (creator info
    fetched again) from the choices its author saved: the panel exactly as they saw it."""
    return compose(parse(from_post_args(post, user)), user, workspace, fresh=True)


def seen_token(post: Post) -> str:
    """Return a digest of everything the review page shows of post (its composer form, its
    time), so an approval can tell the post is still the one the approver saw."""
    form = from_post(post, dt.UTC)
    shown = sorted((key, value) for key in form for value in form.getlist(key))
    shown.append(("scheduled_at", str(post.scheduled_at)))
    return hashlib.sha256(repr(shown).encode()).hexdigest()[:32]


def approve(
    post: Post, approver: User, workspace: Workspace, new_time: str, seen: str | None = None
) -> Submission:
    """Run the composer's decision once more for post; refuse with reasons (TikTok's rules, a
    passed time without a new one, a bad new time, an edit since the approver looked), or
    approve it with the approver's consent and queue it (new_time: the local time typed, '' to
    keep the one asked for; seen: seen_token() of the page the approver saw)."""
    context = review(post, approver, workspace)
    reasons = list(context["reasons"])
    if seen is not None and seen != seen_token(post):
        reasons.append(
            "The author changed this post after you opened it: look at it again, then approve."
        )
    when = None
    if new_time.strip():
        typed = replace(context["data"], schedule_at=new_time.strip(), action="schedule")
        when, problem = schedule_time(typed, context["zone"])
        if problem:
            reasons.append(problem)
    elif post.missed:
        reasons.append(publishing.MISSED_REFUSAL)
    if not reasons:
        decisions = {account.id: decision for account, decision in context["panels"]}
        try:
            post = publishing.approve(post, approver, decisions, new_time=when, redis=get_redis())
        except publishing.ApprovalRefused as refused:
            reasons.append(str(refused))
    if reasons:
        context.update(reasons=reasons, allowed=False, refused=True)
        return Submission(context, post=post, reasons=reasons)
    return Submission(context, post=post)
