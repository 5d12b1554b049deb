"""Walk the url map: every route refuses anonymous users, admin routes refuse members,
every state-changing route refuses a request without a valid CSRF token, every workspace route
names the capability it needs, and each role of a workspace (and a member of another one) is
refused exactly what the roles table (webapp.workspaces.roles) keeps from it, changing nothing.

New routes are covered automatically; a deliberately public route must be listed here.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from webapp import create_app

# Endpoints anyone may open without signing in.
# pull.serve hands media to TikTok under a signed, unguessable address (tested in test_publishing).
PUBLIC_ENDPOINTS = {
    "static",
    "auth.login",
    "webhooks.tiktok",
    "pull.serve",
    "public.about",
    "public.privacy",
    "public.terms",
    # An invitation link is opened by someone who may have no login yet; the unguessable
    # single-use secret in the URL is what admits them (tests/test_workspaces.py).
    "invitations.accept",
}
# State-changing routes authenticated by something other than a session (TikTok's HMAC signature).
CSRF_EXEMPT = {"webhooks.tiktok"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _rules(settings_factory=None) -> list[Rule]:
    return [r for r in _app_for_listing().url_map.iter_rules()]


_LISTING_APP = None


def _app_for_listing():
    # The url map doesn't depend on the database or Redis, so one throwaway app lists it.
    global _LISTING_APP
    if _LISTING_APP is None:
        _LISTING_APP = create_app(
            {"APP_ENV": "test", "DATABASE_URL": "sqlite:///:memory:", "SECRET_KEY": "x" * 40}
        )
    return _LISTING_APP


def _url(rule: Rule, ws: str = "x", ids: dict | None = None) -> str:
    """Build rule's address in workspace ws, with ids[arg] (else 1, or "x") for its arguments."""
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg].__class__.__name__
        number = converter in {"IntegerConverter", "NumberConverter"}
        values[arg] = (ids or {}).get(arg, 1 if number else "x")
    if "ws" in values:
        values["ws"] = ws
    return rule.build(values)[1]


ALL_RULES = [r for r in _rules() if r.endpoint != "static"]
PROTECTED = [r for r in ALL_RULES if r.endpoint not in PUBLIC_ENDPOINTS]
ADMIN = [r for r in PROTECTED if r.endpoint.startswith("admin.")]
MUTATING = [
    (r, m)
    for r in ALL_RULES
    if r.endpoint not in CSRF_EXEMPT
    for m in sorted(r.methods & STATE_CHANGING)
]


WORKSPACE_RULES = [r for r in ALL_RULES if "ws" in r.arguments]


def _id(rule: Rule) -> str:
    return f"{rule.endpoint}:{rule.rule}"


def plain_client(app, email: str | None = None) -> FlaskClient:
    """Return a test client that sends each request where it is addressed (the conftest client
    leads short paths into a workspace first), signed in as email when given."""
    from tests.conftest import login

    browser = FlaskClient(app, app.response_class, use_cookies=True)
    if email:
        assert login(browser, email).status_code == 303
    return browser


def test_the_url_map_has_routes_to_check():
    assert len(PROTECTED) >= 10
    assert ADMIN
    assert MUTATING
    assert len(WORKSPACE_RULES) >= 20


@pytest.mark.parametrize("rule", PROTECTED, ids=_id)
def test_anonymous_users_are_sent_to_sign_in(client, rule):
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        response = client.open(_url(rule), method=method)
        if method in STATE_CHANGING and response.status_code == 400:
            # CSRF is checked before login; either refusal is fine as long as nothing happens.
            continue
        assert response.status_code == 302, (method, response.status_code)
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("rule", ADMIN, ids=_id)
def test_members_get_403_on_admin_routes(member_client, rule):
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        data = {}
        if method in STATE_CHANGING:
            from tests.conftest import csrf_token

            data = {"csrf_token": csrf_token(member_client, "/")}
        response = member_client.open(_url(rule), method=method, data=data)
        assert response.status_code == 403, (method, response.status_code)
        assert "permission" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("rule", "method"), MUTATING, ids=lambda x: x if isinstance(x, str) else _id(x)
)
def test_state_changing_requests_need_a_csrf_token(app, admin, rule, method):
    from tests.conftest import home
    from webapp.models import Workspace

    # In a workspace the admin can act in, addressed as is (not led anywhere first), so nothing
    # but the missing token can refuse the request.
    browser = plain_client(app, admin.email)
    url = _url(rule, ws=Workspace.get_by_id(home(admin)).slug)
    missing = browser.open(url, method=method, data={"anything": "1"})
    assert missing.status_code == 400
    assert "Reload the page and try again" in missing.get_data(as_text=True)
    wrong = browser.open(url, method=method, data={"csrf_token": "forged"})
    assert wrong.status_code == 400
    wrong_header = browser.open(url, method=method, headers={"X-CSRFToken": "forged"})
    assert wrong_header.status_code == 400


def test_a_valid_token_in_the_htmx_header_is_accepted(admin_client):
    from tests.conftest import csrf_token

    token = csrf_token(admin_client, "/")
    response = admin_client.post(
        "/admin/settings",
        data={"app_name": "Via htmx", "timezone": "UTC"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert response.status_code == 303


def test_the_page_gives_htmx_the_token_on_body(admin_client):
    body = admin_client.get("/").get_data(as_text=True)
    assert '<body hx-headers=\'{"X-CSRFToken": "' in body


# --- Workspaces and roles (issue 17) -------------------------------------------------------------
#
# Every route under /w/<ws>/ names the capability it needs (webapp.permissions.requires); the
# server refuses a role without it (403, with the reason) and anyone outside the workspace (404,
# as if it didn't exist), before the view runs, so a refused request changes nothing.


def undeclared_capabilities(rules, view_functions) -> list[str]:
    """Name the workspace routes whose view declares no capability."""
    return sorted(
        _id(r)
        for r in rules
        if "ws" in r.arguments and getattr(view_functions[r.endpoint], "capability", None) is None
    )


def test_every_workspace_route_declares_a_capability():
    from webapp.workspaces.roles import Can

    app = _app_for_listing()
    assert undeclared_capabilities(ALL_RULES, app.view_functions) == [], (
        "put @requires(Can.X) under @bp.route on these"
    )
    with app.test_request_context():
        from webapp.permissions import capability_of

        for rule in WORKSPACE_RULES:
            assert isinstance(capability_of(rule.endpoint), Can), _id(rule)


# State-changing workspace routes open to viewers (Can.VIEW), and why none changes the workspace.
VIEWERS_MAY_SEND = {
    "notifications.mark_read": "marks the person's own notifications read, nothing shared",
}


def test_only_listed_state_changing_routes_are_open_to_viewers():
    # The role walk below follows what each route declares; this keeps the declarations honest:
    # a route that changes something needs more than Can.VIEW unless it is listed with a reason.
    from webapp.workspaces.roles import Can

    views = _app_for_listing().view_functions
    open_writes = {
        r.endpoint
        for r in WORKSPACE_RULES
        if r.methods & STATE_CHANGING and views[r.endpoint].capability == Can.VIEW
    }
    assert open_writes == set(VIEWERS_MAY_SEND)


def test_a_workspace_route_without_a_capability_fails_the_walk():
    from werkzeug.routing import Map

    rule = Rule("/w/<ws>/reports/", endpoint="reports.index")
    Map([rule])  # binding the rule parses its arguments
    assert undeclared_capabilities([rule], {"reports.index": lambda: ""}) == [
        "reports.index:/w/<ws>/reports/"
    ]


# A name found nowhere else, so a page that leaks workspace A shows it.
TEAM_NAME = "Zephyr Teamwalk Agency"


@dataclass
class Team:
    """Workspace A with one person of each role and a few of its things; a member of B only."""

    slug: str
    ids: dict
    browsers: dict  # "manager" | "editor" | "viewer" | "outsider" -> signed-in client


@pytest.fixture
def team(app, db) -> Team:
    """Fill workspace A (an account, a video, a scheduled post, a notification) and sign in its
    manager, editor and viewer, and a member of workspace B, each in their own browser."""
    from tests.conftest import make_user
    from webapp.models import Account, Media, Membership, Notification, Post, PostTarget, utcnow
    from webapp.workspaces.members import create_workspace

    manager = make_user("manager@example.com", name="Mona Manager")
    workspace = create_workspace(TEAM_NAME, manager)
    people = {"manager": manager}
    for role in ("editor", "viewer"):
        people[role] = make_user(f"{role}@example.com", name=f"{role.title()} Person")
        Membership.create(workspace=workspace, user=people[role], role=role)
    people["outsider"] = make_user("outsider@example.com", name="Otto Outsider")  # B: his own
    account = Account.create(
        workspace=workspace, owner=manager, open_id="walk-open-a", username="zephyr.walk"
    )
    media = Media.create(
        workspace=workspace,
        owner=people["editor"],
        kind="video",
        original_name="zephyr.mp4",
        stored_name="walk/zephyr.mp4",
        duration_ms=3000,
    )
    post = Post.create(
        workspace=workspace,
        author=people["editor"],
        caption="Zephyr launch",
        status="scheduled",
        scheduled_at=utcnow() + dt.timedelta(days=300),
        consent_at=utcnow(),
    )
    target = PostTarget.create(
        post=post, account=account, status="scheduled", privacy_level="SELF_ONLY"
    )
    Notification.create(user=manager, workspace=workspace, kind="post_failed", message="Zephyr")
    ids = {
        "account_id": account.id,
        "media_id": media.id,
        "post_id": post.id,
        "target_id": target.id,
        "user_id": people["editor"].id,
        "ms": 1500,
    }
    return Team(workspace.slug, ids, {who: plain_client(app, u.email) for who, u in people.items()})


def _everything() -> dict:
    from webapp.models import MODELS

    return {
        m.__name__: list(m.select().order_by(*m._meta.get_primary_keys()).dicts()) for m in MODELS
    }


def _refusal_for(who: str, capability) -> int | None:
    """Return the status the roles table gives who for capability in workspace A (None: allowed)."""
    from webapp.workspaces.roles import allows

    if who == "outsider":
        return 404
    return None if allows(who, capability) else 403


@pytest.mark.parametrize("rule", WORKSPACE_RULES, ids=_id)
def test_each_role_is_refused_what_the_roles_table_keeps_from_it(app, team, rule):
    from markupsafe import escape

    from tests.conftest import csrf_token
    from webapp.workspaces.roles import REFUSALS, Can

    capability = _app_for_listing().view_functions[rule.endpoint].capability
    url = _url(rule, ws=team.slug, ids=team.ids)
    methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
    tokens = {who: csrf_token(browser, "/") for who, browser in team.browsers.items()}
    # Positive control: a role the table allows isn't refused on a read (so the refusals below
    # are the role's, not the route's).
    for who in ("manager", "editor", "viewer"):
        if "GET" in methods and _refusal_for(who, capability) is None:
            status = team.browsers[who].get(url).status_code
            assert status != 403, (who, url, status)
    before = _everything()
    refused = 0
    for who in ("viewer", "editor", "outsider"):
        expected = _refusal_for(who, capability)
        if expected is None:
            continue
        for method in methods:
            data = {"csrf_token": tokens[who]} if method in STATE_CHANGING else None
            reply = team.browsers[who].open(url, method=method, data=data)
            assert reply.status_code == expected, (who, method, url, reply.status_code)
            body = reply.get_data(as_text=True)
            if who == "outsider":  # nothing of A, not even its name
                assert TEAM_NAME not in body and "zephyr" not in body.lower(), (method, url)
            else:
                assert str(escape(REFUSALS[capability])) in body, (who, method, url)
            refused += 1
    assert _everything() == before, f"{rule.endpoint}: a refused request changed the database"
    # Everyone outside A is refused everything; inside, only Can.VIEW routes are open to all.
    assert refused >= len(methods) * (1 + (capability != Can.VIEW))


# --- What the server fetches, and what the queue carries (issue 13, "Show") --------------------
#
# Read from the source (AST), so a new module, route, form field or job is covered without being
# listed here: a new place that opens a network connection, a new URL-like input nobody has
# classified, or a job that takes more than ids fails below until someone decides about it.

ROOT = Path(__file__).resolve().parent.parent


def _sources(*folders: str) -> dict[str, str]:
    return {
        path.relative_to(ROOT).as_posix(): path.read_text()
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


SERVER_SOURCES = _sources("webapp", "jobs")
QUEUE_SOURCES = _sources("webapp", "jobs", "bench", "scripts")

# Client libraries that open connections to an address they are given.
NETWORK_MODULES = (
    "requests",
    "urllib.request",
    "urllib3",
    "http.client",
    "httpx",
    "aiohttp",
    "socket",
    "smtplib",
    "ftplib",
    "telnetlib",
    "xmlrpc.client",
    "pycurl",
    "websocket",
    "playwright",
)
# Where a fetch of an address someone typed belongs: it refuses private addresses, userinfo and
# backslashes, and connects to the address it checked.
GUARDED_FETCH = {"webapp/netguard.py"}
# Modules that talk only to endpoints fixed by configuration, never to an address a form carries.
# Redis and the database are left out of NETWORK_MODULES: their URLs come only from the
# environment (REDIS_URL, DATABASE_URL), which no form or model field holds.
FETCH_ALLOWLIST = {
    "webapp/tiktok/client.py": "TikTok's API at the configured base URLs, and the upload_url "
    "TikTok's own answer gives",
    "webapp/mail.py": "the SMTP server of SMTP_URL, from the environment",
    "webapp/auditkit/record.py": "`flask audit-kit record` (CLI only) drives Chromium at the "
    "operator's own --base-url",
    "webapp/auditkit/walk.py": "drives the page record.py opened at the operator's --base-url",
    "webapp/auditkit/mockups/script.py": "drives Chromium at the throwaway app and sandbox that "
    "the mockup build itself started on 127.0.0.1 (stage.py)",
    "webapp/auditkit/stage.py": "waits until the throwaway app it started on 127.0.0.1 answers",
}


def _is_network(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in NETWORK_MODULES)


def network_uses(source: str) -> list[str]:
    """Return each import of a network client in source (also importlib / __import__ of one)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and ast.unparse(node.func) in {"__import__", "importlib.import_module", "import_module"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names = [str(node.args[0].value)]
        found += [f"line {node.lineno}: {name}" for name in names if _is_network(name)]
    return found


def fetch_site_problems(sources: dict[str, str]) -> list[str]:
    """Say which modules open network connections without being the guarded fetch or allowed."""
    allowed = GUARDED_FETCH | set(FETCH_ALLOWLIST)
    return [
        f"{path} {use}: fetch through the guarded fetch module, or allow it with a reason"
        for path, source in sources.items()
        if path not in allowed
        for use in network_uses(source)
    ]


def test_server_side_fetches_go_through_the_guarded_fetch_module():
    assert fetch_site_problems(SERVER_SOURCES) == []
    # Every allowance is still needed (a module that stopped fetching leaves the list).
    for path in FETCH_ALLOWLIST:
        assert network_uses(SERVER_SOURCES[path]), path


@pytest.mark.parametrize(
    "source",
    [
        "import requests\nrequests.get(form.image_url.data)",
        "from urllib.request import urlopen",
        "from urllib import request",
        "import http.client as hc",
        "from socket import create_connection",
        "import importlib\nimportlib.import_module('httpx')",
    ],
)
def test_a_new_module_that_fetches_fails_the_walk(source):
    assert fetch_site_problems({"webapp/media/preview.py": source})
    assert not fetch_site_problems({"webapp/media/preview.py": "from urllib.parse import urlsplit"})


# Every input that holds an address (a model field, a form field, a route argument, a raw
# request parameter), and who fetches it. "server" means Cadence itself: the module named fetches it
# through the guarded fetch (webapp/netguard.safe_get). Anything else Cadence never fetches.
SHOWN = "shown to people as a link or image; Cadence never fetches it"
TIKTOK_PULLS = "TikTok fetches addresses under it; Cadence only builds them"
TIKTOK_API = "Cadence calls TikTok there, through webapp/tiktok/client.py"
URL_INPUTS = {
    "AppSettings.website_url": ("server", "webapp/auditkit/readiness.py"),
    "AppSettings.privacy_url": ("server", "webapp/auditkit/readiness.py"),
    "AppSettings.terms_url": ("server", "webapp/auditkit/readiness.py"),
    "SettingsForm.website_url": ("server", "webapp/auditkit/readiness.py"),
    "SettingsForm.privacy_url": ("server", "webapp/auditkit/readiness.py"),
    "SettingsForm.terms_url": ("server", "webapp/auditkit/readiness.py"),
    "TikTokService.media_url_prefix": ("tiktok", TIKTOK_PULLS),
    "ServicesForm.media_url_prefix": ("tiktok", TIKTOK_PULLS),
    "TikTokService.auth_base_url": ("tiktok-api", TIKTOK_API),
    "TikTokService.api_base_url": ("tiktok-api", TIKTOK_API),
    "ServicesForm.auth_base_url": ("tiktok-api", TIKTOK_API),
    "ServicesForm.api_base_url": ("tiktok-api", TIKTOK_API),
    "PostTarget.upload_url_enc": ("tiktok-api", "TikTok's answer to publish init; " + TIKTOK_API),
    "AuditKit.org_website": ("shown", "written into the audit answers; " + SHOWN),
    "AuditKitForm.org_website": ("shown", "written into the audit answers; " + SHOWN),
    "AuditKit.demo_url": ("shown", "written into the audit answers; " + SHOWN),
    "AuditKitForm.demo_url": ("shown", "written into the audit answers; " + SHOWN),
    "Account.avatar_url": ("shown", "TikTok's avatar address; " + SHOWN),
    "PostTarget.public_url": ("shown", "the published post on TikTok; " + SHOWN),
    "Notification.link": ("shown", "an in-app path the notification opens; " + SHOWN),
    "webapp/auth/views.py:next": ("redirect", "a same-site path the browser goes to next"),
}
URL_LIKE = re.compile(r"url|uri|href|src|link|website|site|prefix|endpoint|callback|host|^next$")
REQUEST_OBJECTS = re.compile(r"^(request\.(args|form|values|files|json|cookies|headers)|form)$")


def request_keys(path: str, source: str) -> set[str]:
    """Return `path:name` for each literal parameter name read from the request in source."""
    keys = set()
    for node in ast.walk(ast.parse(source)):
        target, key = None, None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr in {"get", "getlist"}:
                target, key = node.func.value, node.args[0]
        elif isinstance(node, ast.Subscript):
            target, key = node.value, node.slice
        if (
            target is not None
            and REQUEST_OBJECTS.match(ast.unparse(target))
            and isinstance(key, ast.Constant)
            and isinstance(key.value, str)
        ):
            keys.add(f"{path}:{key.value}")
    return keys


def _form_classes() -> list[type]:
    from flask_wtf import FlaskForm

    _app_for_listing()  # imports every blueprint, and with them every form
    found, todo = [], [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return [cls for cls in found if cls.__module__.startswith("webapp.")]


def address_inputs(sources: dict[str, str]) -> set[str]:
    """Return every model field, form field, route argument and request parameter named like
    an address."""
    from wtforms.fields.core import UnboundField

    from webapp.models import MODELS

    names = {f"{m.__name__}.{f.name}" for m in MODELS for f in m._meta.sorted_fields}
    for cls in _form_classes():
        names |= {
            f"{cls.__name__}.{name}"
            for name in dir(cls)
            if isinstance(getattr(cls, name, None), UnboundField)
        }
    names |= {f"{r.endpoint}<{arg}>" for r in ALL_RULES for arg in r.arguments}
    for path, source in sources.items():
        names |= request_keys(path, source)
    return {n for n in names if URL_LIKE.search(re.split(r"[.:<]", n)[-1].rstrip(">"))}


def test_every_address_a_route_form_or_model_takes_is_classified():
    found = address_inputs(SERVER_SOURCES)
    assert found - set(URL_INPUTS) == set(), "classify these in URL_INPUTS (who fetches it?)"
    assert set(URL_INPUTS) - found == set(), "these are gone: drop them from URL_INPUTS"
    for name, (kind, where) in URL_INPUTS.items():
        if kind == "server":
            # The module that fetches it does so through the guard, with no client of its own.
            source = SERVER_SOURCES.get(where, "")
            assert name.split(".")[-1] in source, name
            assert "netguard.safe_get(" in source, name
            assert where not in FETCH_ALLOWLIST and not network_uses(source), name
        else:
            assert kind in {"tiktok", "tiktok-api", "shown", "redirect"} and where, name


def test_a_new_route_with_an_address_parameter_fails_the_walk():
    source = (
        "@bp.route('/preview')\n"
        "def preview():\n"
        "    return requests.get(request.args.get('image_url')).content\n"
    )
    new = request_keys("webapp/media/preview.py", source)
    assert new == {"webapp/media/preview.py:image_url"}
    assert new - set(URL_INPUTS)  # unclassified, so the walk above would fail
    assert URL_LIKE.search("image_url")


# --- The queue carries ids only, as JSON (item 14) ---------------------------------------------

# What may be imported from rq outside webapp/tasks.py (the one module that builds queues,
# workers, the scheduler and fetches jobs, all with the JSON serializer). A registry built with
# `queue=` takes the queue's serializer.
RQ_NAMES_ALLOWED = {
    "rq.exceptions.NoSuchJobError",
    "rq.exceptions.DeserializationError",
    "rq.registry.FailedJobRegistry",
    "rq.registry.ScheduledJobRegistry",
    "rq.exceptions.InvalidJobOperation",  # an exception to catch; builds nothing
    "rq.job.Job",  # a type in annotations; Job.fetch/create are refused below
}
RQ_CONSTRUCTORS = {"Queue", "Worker", "SimpleWorker", "RQScheduler", "Scheduler", "Job"}
RQ_METHODS = {"fetch", "fetch_many", "create", "all"}
ENQUEUE_METHODS = {"enqueue", "enqueue_at", "enqueue_in", "enqueue_call", "enqueue_many"}
ID_TYPES = {"int", "str", "int | None", "str | None"}
JSON_RESULTS = {"str", "int", "dict", "None", "dict[str, int]", "dict[str, str]"}
# Call sites whose job function is a variable: where its values come from.
DYNAMIC_JOB_FUNCTIONS = {"jobs/periodic.py:func": "jobs.periodic.PERIODIC"}


def rq_problems(path: str, source: str) -> list[str]:
    """Say where source builds RQ objects or enqueues outside webapp/tasks.py."""
    if path == "webapp/tasks.py":
        return []
    problems = []
    for node in ast.walk(ast.parse(source)):
        where = f"{path} line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            problems += [
                f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] == "rq"
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rq":
            problems += [
                f"{where}: from {node.module} import {a.name}"
                for a in node.names
                if f"{node.module}.{a.name}" not in RQ_NAMES_ALLOWED
            ]
        elif isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            head, _, attr = func.rpartition(".")
            if func in RQ_CONSTRUCTORS or (head in RQ_CONSTRUCTORS and attr in RQ_METHODS):
                problems.append(f"{where}: {func}() (ask jobs/__init__.py for it)")
            if attr in ENQUEUE_METHODS and head not in {"", "jobs", "tasks"}:  # "": from … import
                problems.append(f"{where}: {func}() (use jobs.enqueue)")
            if func.endswith("Registry") and not any(k.arg == "queue" for k in node.keywords):
                problems.append(f"{where}: {func}() without queue= (it needs the serializer)")
    return problems


def _job_defs(sources: dict[str, str]) -> dict[str, ast.FunctionDef]:
    return {
        node.name: node
        for path, source in sources.items()
        if path.startswith("jobs/")
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef)
    }


def enqueued_functions(sources: dict[str, str]) -> tuple[dict[str, list[str]], list[str]]:
    """Return {job function name: its call sites} for every jobs.enqueue / enqueue call, and the
    call sites whose function this walk can't name."""
    named, unknown = {}, []
    for path, source in sources.items():
        if path == "jobs/__init__.py":
            continue
        tree = ast.parse(source)
        paths = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            and node.value.value.startswith("jobs.")
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and ast.unparse(node.func) in {"enqueue", "jobs.enqueue", "tasks.enqueue"}
                and len(node.args) >= 2
            ):
                continue
            func = node.args[1]
            # A dotted path (webapp enqueues jobs by name), literal or a module constant.
            path_of = paths.get(func.id, "") if isinstance(func, ast.Name) else ""
            if isinstance(func, ast.Constant) and isinstance(func.value, str):
                path_of = func.value
            if path_of:
                name = path_of.rpartition(".")[2]
            else:
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            key = f"{path}:{name}"
            if key in DYNAMIC_JOB_FUNCTIONS:
                continue
            for value in node.args[2:]:
                literal = isinstance(value, ast.Constant) and type(value.value) not in (int, str)
                if literal or isinstance(value, ast.Dict | ast.List | ast.Tuple | ast.Set):
                    unknown.append(f"{path} line {node.lineno}: {ast.unparse(value)} is not an id")
            if name is None:
                unknown.append(f"{path} line {node.lineno}: {ast.unparse(func)}")
            else:
                named.setdefault(name, []).append(f"{path} line {node.lineno}")
    return named, unknown


def job_signature_problems(defs: dict[str, ast.FunctionDef], names) -> list[str]:
    """Say which job functions take anything but ids or return something JSON changes."""
    problems = []
    for name in names:
        node = defs.get(name)
        if node is None:
            problems.append(f"{name}: not a top-level function of a jobs/ module")
            continue
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs:
            problems.append(f"{name}: *args, **kwargs and keyword-only parameters can't be checked")
        for arg in args.posonlyargs + args.args:
            kind = ast.unparse(arg.annotation) if arg.annotation else "(none)"
            if kind not in ID_TYPES:
                problems.append(f"{name}({arg.arg}: {kind}): job arguments are ids (int or str)")
        result = ast.unparse(node.returns) if node.returns else "(none)"
        if result not in JSON_RESULTS:
            problems.append(f"{name} -> {result}: results are stored as JSON")
    return problems


def test_every_rq_object_comes_from_the_one_module_with_the_json_serializer():
    problems = [p for path, src in QUEUE_SOURCES.items() for p in rq_problems(path, src)]
    assert problems == []


def test_every_job_takes_ids_and_returns_json():
    import jobs.periodic

    named, unknown = enqueued_functions(QUEUE_SOURCES)
    assert unknown == []
    assert {"publish_target", "check_status", "handle_event", "ping"} <= set(named)
    periodic = [func.__name__ for _name, _every, func in jobs.periodic.PERIODIC]
    assert job_signature_problems(_job_defs(QUEUE_SOURCES), [*named, *periodic]) == []


def test_a_new_job_with_a_non_json_argument_fails_the_walk():
    sources = {
        "jobs/reports.py": (
            "def weekly(since: dt.datetime, owner: User) -> Report:\n    ...\n"
            "def daily(user_id: int) -> dict:\n    ...\n"
        ),
        "webapp/reports.py": (
            "import jobs\nfrom rq import Queue\n"
            "def go(r, user):\n"
            "    jobs.enqueue(r, weekly, utcnow(), user, job_id='w')\n"
            "    jobs.enqueue(r, daily, {'id': user.id}, 1.5, job_id='d')\n"
            "    Queue('cadence', connection=r).enqueue(daily, user.id)\n"
        ),
    }
    named, unknown = enqueued_functions(sources)
    assert len(unknown) == 2  # the dict and the float
    assert len(job_signature_problems(_job_defs(sources), named)) == 3  # since, owner, -> Report
    assert len(rq_problems("webapp/reports.py", sources["webapp/reports.py"])) == 3
