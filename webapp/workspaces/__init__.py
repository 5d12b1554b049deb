"""Workspaces: the list a person switches between, creating one, and the short addresses from
before workspaces (/posts/12, /compose/, ...), which lead into the right workspace.

The rules live in roles.py (who may do what) and members.py (membership and its edges); the
workspace pages (members, invitations, settings) are in views.py with the rest of the routes.
"""

from flask import Blueprint

from webapp.permissions import WORKSPACE_PREFIX, require_login

bp = Blueprint("workspaces", __name__)
require_login(bp)
# Pages of one workspace: its members, invitations and settings.
ws_bp = Blueprint("workspace", __name__, url_prefix=WORKSPACE_PREFIX)
require_login(ws_bp)
# The invitation links, opened by people who may not have a login yet (no sign-in required).
invite_bp = Blueprint("invitations", __name__)

# Importing the view module registers its routes on the blueprints.
from webapp.workspaces import views  # noqa: E402,F401
