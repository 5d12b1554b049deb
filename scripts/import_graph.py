"""Print the import graph of jobs/ and webapp/publishing/ (plus webapp/tasks.py), read from the
source with ast: every edge between those modules, each module's imports of the rest of webapp,
and whether there is a cycle. `python scripts/import_graph.py`; exit status 1 on a cycle."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Return the modules path imports (at any depth of its code, lazy imports included)."""
    found = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def graph(scope: list[Path]) -> dict[str, set[str]]:
    """Return {module: the modules of scope it imports} for every .py under scope."""
    files = [
        f for folder in scope for f in ([folder] if folder.is_file() else folder.rglob("*.py"))
    ]
    names = {module_name(f): f for f in files}
    return {
        name: {m for m in imports_of(path) if m in names and m != name}
        for name, path in sorted(names.items())
    }


def find_cycle(edges: dict[str, set[str]]) -> list[str]:
    """Return one import cycle as a list of modules ([] when there is none)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return []

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return []


SCOPE = [ROOT / "jobs", ROOT / "webapp" / "publishing", ROOT / "webapp" / "tasks.py"]


def main() -> int:
    edges = graph(SCOPE)
    for name, targets in edges.items():
        path = ROOT / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = ROOT / name.replace(".", "/") / "__init__.py"
        lines = len(path.read_text().splitlines())
        print(f"{name} ({lines} lines) -> {', '.join(sorted(targets)) or '(none in scope)'}")
    webapp_to_jobs = sorted(
        f"{module_name(f)} -> {m}"
        for f in (ROOT / "webapp").rglob("*.py")
        for m in imports_of(f)
        if m == "jobs" or m.startswith("jobs.")
    )
    print("webapp -> jobs imports:", ", ".join(webapp_to_jobs) or "none")
    cycle = find_cycle(edges)
    print("cycle: " + " -> ".join(cycle) if cycle else "no cycle")
    return 1 if cycle or webapp_to_jobs else 0


if __name__ == "__main__":
    sys.exit(main())
