"""`make audit`: known vulnerabilities in the installed, pinned Python dependencies.

pip-audit checks every distribution in the project's virtualenv against PyPI's per-release data.
Where that data isn't served (some mirrors and proxies serve only the project pages, as on
Cadence's build machines), the release is checked against the project's JSON instead, whose
`vulnerabilities` describe the latest release: a pin that is the latest release is audited that
way, any other is reported as not audited.

A known vulnerability that doesn't apply to Cadence is listed with the reason in
`.ci/audit-allow.txt` (`<id> <reason>`, one per line); any other fails the run (exit 1).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
ALLOW = ROOT / ".ci" / "audit-allow.txt"
PYPI = "https://pypi.org/pypi/{name}/json"
OWN = {"cadence"}


@dataclass
class Audit:
    """What was checked, how, and what was found."""

    by_pip_audit: list[str] = field(default_factory=list)
    by_latest: list[str] = field(default_factory=list)
    not_audited: list[str] = field(default_factory=list)
    found: list[tuple[str, str, str]] = field(default_factory=list)  # (package, id, summary)


def allowed() -> dict[str, str]:
    """Return {vulnerability id: why it doesn't apply} from .ci/audit-allow.txt."""
    if not ALLOW.exists():
        return {}
    result = {}
    for line in ALLOW.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            vuln_id, _, reason = line.partition(" ")
            result[vuln_id] = reason.strip()
    return result


def pinned() -> list[str]:
    """Return `name==version` for every distribution installed beside Cadence."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "freeze",
            "--exclude-editable",
            "--disable-pip-version-check",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line for line in out.splitlines() if "==" in line and not line.startswith("-")]


def pip_audit(requirements: list[str]) -> list[dict]:
    """Run pip-audit over exactly these pins; return its per-dependency JSON records."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as handle:
        handle.write("\n".join(requirements) + "\n")
        handle.flush()
        result = subprocess.run(
            [sys.executable, "-m", "pip_audit", "-r", handle.name, "--no-deps", "--disable-pip"]
            + ["--format", "json", "--progress-spinner", "off"],
            capture_output=True,
            text=True,
            timeout=900,
        )
    try:
        return json.loads(result.stdout)["dependencies"]
    except (json.JSONDecodeError, KeyError):
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"audit: pip-audit failed: {last}") from None


def latest_release(name: str, version: str, session: requests.Session) -> tuple[str, list[dict]]:
    """Return the latest release of name on PyPI and the vulnerabilities PyPI lists for it."""
    response = session.get(PYPI.format(name=name), timeout=30)
    response.raise_for_status()
    data = response.json()
    return data["info"]["version"], data.get("vulnerabilities") or []


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def run() -> Audit:
    """Audit every installed pin."""
    audit = Audit()
    session = requests.Session()
    pins = pinned()
    versions = {_canonical(pin.split("==")[0]): pin.split("==")[1] for pin in pins}
    for record in pip_audit(pins):
        name = record["name"]
        version = record.get("version") or versions.get(_canonical(name), "")
        if name.lower() in OWN:
            continue
        label = f"{name} {version}"
        if "skip_reason" not in record:
            audit.by_pip_audit.append(label)
            for vuln in record.get("vulns", []):
                audit.found.append((label, vuln["id"], vuln.get("description", "")[:100]))
            continue
        try:
            latest, vulns = latest_release(name, version, session)
        except requests.RequestException as exc:
            raise SystemExit(f"audit: can't read PyPI's data for {name}: {exc}") from None
        if latest != version:
            audit.not_audited.append(f"{label} (latest is {latest})")
            continue
        audit.by_latest.append(label)
        for vuln in vulns:
            if not vuln.get("withdrawn"):
                audit.found.append((label, vuln["id"], (vuln.get("summary") or "")[:100]))
    return audit


def main() -> int:
    """Print the audit; exit 1 on a known vulnerability not explained in .ci/audit-allow.txt."""
    audit = run()
    explained = allowed()
    total = len(audit.by_pip_audit) + len(audit.by_latest) + len(audit.not_audited)
    print(f"Dependency audit: {total} installed distributions")
    print(f"  audited by pip-audit (per-release data): {len(audit.by_pip_audit)}")
    print(f"  audited from PyPI's data for the latest release: {len(audit.by_latest)}")
    print(f"  not audited (no per-release data, and not the latest): {len(audit.not_audited)}")
    for label in audit.not_audited:
        print(f"    {label}")
    unexplained = [f for f in audit.found if f[1] not in explained]
    explained_count = len(audit.found) - len(unexplained)
    print(f"  known vulnerabilities: {len(audit.found)} ({explained_count} explained)")
    for label, vuln_id, summary in audit.found:
        why = explained.get(vuln_id)
        print(f"    {label}: {vuln_id} {summary}" + (f" — allowed: {why}" if why else ""))
    if unexplained:
        print(f"audit: {len(unexplained)} known vulnerabilities need an upgrade or an explanation")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
