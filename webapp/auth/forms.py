"""The profile's password change form; each error appears beside its field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import ValidationError

from webapp.models import MIN_PASSWORD_LENGTH
from webapp.validation import password_problem


class PasswordChangeForm(FlaskForm):
    """Change one's own password; the current one is checked by the view (it is throttled)."""

    current_password = PasswordField("Current password")
    new_password = PasswordField("New password")
    confirm_password = PasswordField("New password again")

    def validate_current_password(self, field):
        """Require the current password."""
        if not field.data:
            raise ValidationError("Enter your current password.")

    def validate_new_password(self, field):
        """Apply the same password rules as everywhere else."""
        problem = password_problem(field.data or "", MIN_PASSWORD_LENGTH)
        if problem:
            raise ValidationError(problem)

    def validate_confirm_password(self, field):
        """Catch a typo in the new password."""
        if (field.data or "") != (self.new_password.data or ""):
            raise ValidationError("The two new passwords don't match.")
