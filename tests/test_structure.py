"""The structure issue 16 asks for, checked on the source: one owner of post state (only the
publishing package writes a target's status, phase or run number), webapp never imports jobs,
and no import cycle among the jobs and the publishing package."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE_FIELDS = {"status", "phase", "attempts"}
WRITES = {"update", "create", "insert", "insert_many", "replace", "get_or_create"}
RAW_WRITE = re.compile(r"\b(update|insert\s+into)\s+\"?posttarget\"?", re.IGNORECASE)
OWNER = "webapp/publishing/"


def _spec():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts/import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


import_graph = _spec()


def _keys(node: ast.Call) -> set[str]:
    keys = {k.arg for k in node.keywords if k.arg}
    for arg in node.args:
        if isinstance(arg, ast.Dict):
            keys |= {k.value for k in arg.keys if isinstance(k, ast.Constant)}
        if isinstance(arg, ast.List | ast.Tuple):  # insert_many([{...}, ...])
            for item in arg.elts:
                if isinstance(item, ast.Dict):
                    keys |= {k.value for k in item.keys if isinstance(k, ast.Constant)}
    return {k for k in keys if isinstance(k, str)}


def state_writes(path: str, source: str) -> list[str]:
    """Say where source writes a PostTarget's status, phase or attempts."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        where = f"{path} line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = ast.unparse(node.func.value)
            if owner.endswith("PostTarget") and node.func.attr in WRITES:
                fields = _keys(node) & STATE_FIELDS
                if fields:
                    problems.append(
                        f"{where}: PostTarget.{node.func.attr}({', '.join(sorted(fields))}=…)"
                    )
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AugAssign | ast.AnnAssign)
            else []
        )
        for target in targets:
            for leaf in ast.walk(target):
                if (
                    isinstance(leaf, ast.Attribute)
                    and leaf.attr in STATE_FIELDS
                    and "target" in ast.unparse(leaf.value).lower()
                ):
                    problems.append(f"{where}: {ast.unparse(leaf)} = …")
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and RAW_WRITE.search(node.value)
        ):
            problems.append(f"{where}: raw SQL writing posttarget")
    return problems


def _sources(*folders: str) -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text()
        for folder in folders
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


def test_only_the_publishing_package_writes_target_state():
    problems = [
        problem
        for path, source in _sources("webapp", "jobs").items()
        if not path.startswith((OWNER, "webapp/migrations/"))
        for problem in state_writes(path, source)
    ]
    assert problems == []


def test_the_state_write_check_catches_each_kind_of_write():
    planted = (
        "PostTarget.update(status='cancelled').where(PostTarget.id == 1).execute()\n"
        "PostTarget.create(post=p, account=a, status='scheduled')\n"
        "models.PostTarget.insert({'phase': 'uploading'}).execute()\n"
        "PostTarget.update(attempts=PostTarget.attempts + 1).execute()\n"
        "target.status = 'cancelled'\n"
        "target.save()\n"
        "self.target.phase, x = 'checking', 1\n"
        "t_target.attempts += 1\n"
        "db.execute_sql('UPDATE posttarget SET status = %s', ['failed'])\n"
    )
    assert len(state_writes("webapp/planted.py", planted)) == 8
    allowed = (
        "PostTarget.update(updated_at=now).execute()\n"
        "account.status = 'disconnected'\n"
        "Post.update(status='cancelled').execute()\n"
        "PostTarget.select().where(PostTarget.status == 'scheduled')\n"
    )
    assert state_writes("webapp/fine.py", allowed) == []


def test_webapp_never_imports_jobs():
    problems = [
        f"{path}: {module}"
        for path in (ROOT / "webapp").rglob("*.py")
        for module in import_graph.imports_of(path)
        if module == "jobs" or module.startswith("jobs.")
    ]
    assert problems == []


def test_no_import_cycle_among_jobs_and_the_publishing_package():
    edges = import_graph.graph(import_graph.SCOPE)
    assert "jobs.publishing" in edges and "webapp.publishing.changes" in edges
    assert import_graph.find_cycle(edges) == []
    # The check finds a cycle when there is one.
    assert import_graph.find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_publishing_package_keeps_its_layers():
    """states and codes import nothing of Cadence's (the models and the TikTok layer read them);
    no publishing module imports a view or the jobs."""
    sources = _sources("webapp/publishing")
    for name in ("states", "codes"):
        imported = import_graph.imports_of(ROOT / f"webapp/publishing/{name}.py")
        assert not [m for m in imported if m.startswith(("webapp", "jobs"))], name
    for path in sources:
        imported = import_graph.imports_of(ROOT / path)
        assert not [m for m in imported if m.startswith("jobs") or m.endswith(".views")], path
