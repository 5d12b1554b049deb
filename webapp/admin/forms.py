"""The Admin Console's forms; each error appears beside its field and nothing typed is lost."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from webapp.models import MIN_PASSWORD_LENGTH, SHARE_TYPES, UPLOAD_METHODS, User, normalize_email
from webapp.timezones import all_zones, is_valid_zone
from webapp.validation import email_problem, password_problem, url_problem


def _choices(mapping: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in mapping.items()]


def _url(https_only: bool = False):
    def check(_form, field):
        field.data = (field.data or "").strip()
        if field.data:
            problem = url_problem(field.data, https_only=https_only)
            if problem:
                raise ValidationError(problem)

    return check


def _strip(value):
    # Filters run before validators: a field of only spaces is saved empty, not as spaces
    # (Optional() stops the validators that would otherwise strip it).
    return value.strip() if isinstance(value, str) else value


def _typed(value):
    # Secrets are methods on their rows (never values the form may show), so `obj=` would hand
    # the field a bound method; only what was typed counts.
    return value if isinstance(value, str) else ""


def _email(_form, field):
    field.data = normalize_email(field.data)
    problem = email_problem(field.data)
    if problem:
        raise ValidationError(problem)


class ServicesForm(FlaskForm):
    """TikTok app credentials and delivery settings."""

    client_key = StringField(
        "Client key", validators=[Optional(), Length(max=128)], filters=[_strip]
    )
    client_secret = PasswordField(
        "Client secret", validators=[Optional(), Length(max=256)], filters=[_typed]
    )
    clear_secret = BooleanField("Remove the stored client secret")
    share_type = RadioField("Share Type", choices=_choices(SHARE_TYPES))
    upload_method = RadioField("Upload method", choices=_choices(UPLOAD_METHODS))
    media_url_prefix = StringField("Verified media URL prefix", validators=[_url(https_only=True)])
    audited = BooleanField("TikTok has audited this app", default=False)
    auth_base_url = StringField("Authorization base URL", validators=[_url()])
    api_base_url = StringField("API base URL", validators=[_url()])

    def validate_client_key(self, field):
        """Refuse keys with spaces (a common copy-paste slip)."""
        field.data = (field.data or "").strip()
        if any(c.isspace() for c in field.data):
            raise ValidationError(
                "The client key has no spaces; copy it again from TikTok's developer portal."
            )

    def validate_media_url_prefix(self, field):
        """Require a prefix when TikTok has to pull files from a URL."""
        if self.upload_method.data == "PULL_FROM_URL" and not field.data:
            raise ValidationError("PULL_FROM_URL needs the URL prefix you verified with TikTok.")
        if field.data and not field.data.endswith("/"):
            field.data += "/"
            # Checked again: the slash can take an address at the limit past it.
            problem = url_problem(field.data, https_only=True)
            if problem:
                raise ValidationError(problem)


class SettingsForm(FlaskForm):
    """Installation-wide settings."""

    app_name = StringField(
        "App name", validators=[DataRequired("Give the app a name."), Length(max=80)]
    )
    website_url = StringField("Public website", validators=[_url()])
    privacy_url = StringField("Privacy policy URL", validators=[_url()])
    terms_url = StringField("Terms of service URL", validators=[_url()])
    support_email = StringField("Support email", validators=[Optional()], filters=[_strip])
    timezone = SelectField("Default time zone", choices=[], validate_choice=False)
    public_pages = BooleanField("Show the public pages (/about, /privacy, /terms)")
    service_description = TextAreaField(
        "About page: what this service does", validators=[Length(max=20_000)]
    )
    privacy_text = TextAreaField("Privacy policy text", validators=[Length(max=50_000)])
    terms_text = TextAreaField("Terms of service text", validators=[Length(max=50_000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice(z) for z in all_zones()]

    def validate_support_email(self, field):
        """Check the support address looks like an email."""
        field.data = normalize_email(field.data)
        if field.data:
            problem = email_problem(field.data)
            if problem:
                raise ValidationError(problem)

    def validate_timezone(self, field):
        """Accept only IANA zone names."""
        if not is_valid_zone(field.data or ""):
            raise ValidationError("Choose a time zone from the list.")


class UserCreateForm(FlaskForm):
    """Create a person's login."""

    email = StringField("Email", validators=[_email])
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    role = SelectField("Role", choices=_choices({"member": "Member", "admin": "Admin"}))
    password = PasswordField("Password")
    # "" : a workspace of their own, which they manage; else the id of an existing workspace.
    workspace = SelectField("Workspace", default="", validate_choice=False)
    workspace_role = SelectField(
        "Their role in that workspace",
        choices=_choices({"editor": "Editor", "viewer": "Viewer", "manager": "Manager"}),
        default="editor",
        validate_choice=False,
    )

    def __init__(self, *args, **kwargs):
        """Offer "their own new workspace" and every existing workspace, by name."""
        super().__init__(*args, **kwargs)
        from webapp.models import Workspace

        self.workspace.choices = [SelectChoice("", "Their own new workspace")] + [
            SelectChoice(str(w.id), w.name)
            for w in Workspace.select(Workspace.id, Workspace.name).order_by(Workspace.name)
        ]

    def validate_workspace(self, field):
        """Accept only "their own" or a workspace that exists."""
        field.data = field.data or ""
        if field.data and field.data not in {c.value for c in field.choices}:
            raise ValidationError("Choose one of the workspaces listed, or their own new one.")

    def validate_workspace_role(self, field):
        """Accept only a workspace role (it matters only for an existing workspace)."""
        from webapp.workspaces.roles import parse

        if self.workspace.data and parse(field.data or "") is None:
            raise ValidationError("Choose a role: manager, editor or viewer.")

    def validate_email(self, field):
        """Refuse an email that already has a login."""
        if User.by_email(field.data) is not None:
            raise ValidationError("A user with this email already exists.")

    def validate_password(self, field):
        """Require a long enough password."""
        problem = password_problem(field.data, MIN_PASSWORD_LENGTH)
        if problem:
            raise ValidationError(problem)


class AuditKitForm(FlaskForm):
    """The applicant's inputs for TikTok's Direct Post audit application."""

    full_name = StringField("Your full name", validators=[DataRequired(), Length(max=120)])
    org_name = StringField("Organization name", validators=[DataRequired(), Length(max=160)])
    org_website = StringField(
        "Organization website", validators=[DataRequired(), _url(https_only=False)]
    )
    app_id = StringField("TikTok app ID", validators=[DataRequired(), Length(max=64)])
    org_description = TextAreaField(
        "What your organization does, as it relates to TikTok",
        validators=[DataRequired(), Length(max=4000)],
    )
    customers = IntegerField(
        "Number of customers", validators=[InputRequired(), NumberRange(min=1, max=1_000_000)]
    )
    accounts_per_customer = IntegerField(
        "TikTok accounts per customer",
        validators=[InputRequired(), NumberRange(min=1, max=10_000)],
    )
    videos_per_account_per_day = IntegerField(
        "Videos per account per day", validators=[InputRequired(), NumberRange(min=1, max=15)]
    )
    instance_public = BooleanField("This Cadence instance is open to the public")
    demo_url = StringField("Demo URL", validators=[DataRequired(), _url(https_only=False)])
    demo_email = StringField("Demo email", validators=[DataRequired(), _email])
    demo_password = PasswordField(
        "Demo password",
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
        filters=[_typed],
    )
