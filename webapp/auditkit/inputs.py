"""The applicant's inputs to the audit kit and the answers as they edited them: what is kept,
and the limits on it (Admin Console → Audit Kit saves through these)."""

from __future__ import annotations

from webapp.auditkit import answers
from webapp.models import AuditKit

FIELDS = (
    "full_name",
    "org_name",
    "org_website",
    "app_id",
    "org_description",
    "customers",
    "accounts_per_customer",
    "videos_per_account_per_day",
    "instance_public",
    "demo_url",
    "demo_email",
)
MAX_ANSWERS = 50_000


def save_inputs(kit: AuditKit, values: dict, demo_password: str) -> None:
    """Keep the inputs; a blank demo password (or only spaces) keeps the saved one."""
    for name in FIELDS:
        setattr(kit, name, values[name])
    if demo_password.strip():
        kit.set_demo_password(demo_password)
    kit.save()


def too_long(text: str) -> str:
    """Return why edited answers can't be kept ('' when they can)."""
    if len(text) <= MAX_ANSWERS:
        return ""
    over = len(text) - MAX_ANSWERS
    return (
        f"The answers are {over:,} character{'s' if over != 1 else ''} over the limit "
        f"of {MAX_ANSWERS:,}; nothing was changed."
    )


def save_answers(kit: AuditKit, text: str | None) -> int:
    """Keep the answers as edited (None: go back to the generated text); return how many
    phrases TikTok's guidelines call not acceptable (see answers.wording_warnings)."""
    kit.answers_edited = text or ""
    kit.save()
    return len(answers.wording_warnings(text)) if text else 0
