"""The code's layout rules that a reader relies on: every route lives in its area's views
module (webapp/<area>/views.py), and no two modules share a name that means different things."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VIEWS = re.compile(r"webapp\.[a-z_]+\.views")


def test_every_route_lives_in_its_areas_views_module(app):
    places = defaultdict(set)
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        module = app.view_functions[rule.endpoint].__module__
        places[module].add(rule.rule)
    stray = {m: sorted(r) for m, r in places.items() if not VIEWS.fullmatch(m)}
    assert not stray, f"routes outside webapp/<area>/views.py: {stray}"


SYNONYMS = [{"db", "database"}]  # two modules for one concept read as one name


def test_module_names_dont_collide():
    """Within webapp/, a module or package name appears once (each area's views, forms and
    __init__ aside; models/<area>.py holds that area's tables, and jobs/<area>.py its jobs)."""
    conventional = {"__init__", "views", "forms"}
    seen = defaultdict(list)
    for path in ROOT.joinpath("webapp").rglob("*"):
        relative = path.relative_to(ROOT)
        if {"migrations", "models", "__pycache__"} & set(relative.parts):
            continue
        if path.is_dir() and path.joinpath("__init__.py").exists():
            seen[path.name].append(f"{relative}/")
        elif path.suffix == ".py" and path.stem not in conventional:
            seen[path.stem].append(str(relative))
    clashes = {name: places for name, places in seen.items() if len(places) > 1}
    assert not clashes, f"modules sharing a name: {clashes}"
    for names in SYNONYMS:
        assert len(names & set(seen)) <= 1, f"one concept, several modules: {sorted(names)}"
