"""Publishing: the one owner of post state, shared by the web app and the jobs.

- states: the statuses and phases (enums with the database's strings), final states and the
  rules that read them (needs checks, in moderation, overdue, editable);
- codes: TikTok's codes in plain words and whether Retry can succeed (the one table);
- changes: the only functions that change a target's status, phase or run number;
- links: where a published post lives on TikTok, and the status widget's sentences;
- approval: posts that wait for a manager (submit, approve with the approver's consent, send
  back), and the consent record the composer writes too;
- targets: the choices ↔ PostTarget columns ↔ form fields mapping, and a post's media facts.

Job ids and enqueueing belong to webapp.tasks (re-exported here). `from webapp import publishing
as pub; pub.X` reaches every public name; submodules load on first use, so the models can read
`states` without importing the rest.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "states": (
        "Status Phase FINAL_STATUSES CLOSED_STATUSES EDITABLE LIVE RUN_PHASES UNCONFIRMED_AFTER "
        "awaits_public_id in_moderation in_progress overdue needs_checks editable post_status "
        "target_label MISSED_LABEL missed post_label"
    ),
    "codes": (
        "Code CODES CANT_POST_NOW STATUS_ERRORS FAIL_REASONS RETRYABLE_REASONS lookup cant_post "
        "fail_reason init_error upload_refused"
    ),
    "changes": (
        "transaction record record_post notify_users notify_people sync_post change start_run "
        "advance touch "
        "continue_later requeue schedule_status_check stop_checks clear_public_url schedule "
        "unschedule cancel cancel_for_account retry StartedMeanwhile replace_targets "
        "set_needs_attention set_failed fail_with set_unconfirmed apply_status"
    ),
    "links": (
        "PROCESSING_NOTICE PUBLIC_LINK PROFILE_LINK TIKTOK_WEB public_link profile_link "
        "web_base TikTokLink tiktok_link profile_note live_message"
    ),
    "approval": (
        "ApprovalRefused MISSED_REFUSAL needs_approval consent_data record_consent "
        "submit_for_approval approve send_back awaiting"
    ),
    "targets": (
        "AWAITING_NEWS CHOICE_COLUMNS target_fields choices_of form_fields ordered_media "
        "media_facts"
    ),
}
_TASKS = "LEAD publish_job_id status_job_id enqueue_publish"
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names.split()}
_WHERE.update({name: "webapp.tasks" for name in _TASKS.split()})
_WHERE["drop_job"] = "webapp.tasks"

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    path = module if "." in module else f"{__name__}.{module}"
    value = getattr(importlib.import_module(path), "drop" if name == "drop_job" else name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
