"""Read pip-audit's report and audit what it could not, then fail on any known vulnerability.

pip-audit asks PyPI for each installed version (``/pypi/NAME/VERSION/json``). Where that
answers nothing (this machine's network reaches the project pages but not the per-version
ones, nor OSV), PyPI's project page still lists the vulnerabilities of the project's *latest*
release. So a distribution installed at its latest version is audited from there; the rest
are named as not audited, so that a green run never hides an audit that did not happen.

Usage: .venv/bin/python audit_deps.py build/pip-audit.json (the audited environment's Python:
a skipped entry carries no version, so it is read from that environment's metadata)
Exit 1 on any known vulnerability, 0 otherwise.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

PYPI = "https://pypi.org/pypi/{name}/json"
TIMEOUT_SECONDS = 20


def latest_release(name: str) -> tuple[str, list[dict[str, Any]]] | None:
    """The project's latest version and its live vulnerabilities, or None when unreachable."""
    url = PYPI.format(name=name)  # a fixed https address: no file: or custom scheme reaches it
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310  # nosec B310
            page = json.load(answer)
    except (urllib.error.URLError, TimeoutError, ValueError, OSError):
        return None
    live = [v for v in page.get("vulnerabilities") or [] if not v.get("withdrawn")]
    return page["info"]["version"], live


def main(report_path: str) -> int:
    report = Path(report_path)
    if not report.exists():
        print("pip-audit: WARNING: pip-audit could not run (see above): NOTHING was audited")
        return 0
    # This project, installed editable, is the code under audit, not a dependency.
    deps = [
        d
        for d in json.loads(report.read_text())["dependencies"]
        if "editable" not in (d.get("skip_reason") or "")
    ]
    vulnerable = [
        f"{d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}"
        for d in deps
        if d.get("vulns")
    ]
    skipped = [d for d in deps if d.get("skip_reason")]
    for dep in skipped:
        if "version" not in dep:
            dep["version"] = metadata.version(dep["name"])
    with ThreadPoolExecutor(max_workers=8) as pool:
        latest = list(pool.map(lambda d: latest_release(d["name"]), skipped))
    by_latest, not_audited = 0, []
    for dep, found in zip(skipped, latest, strict=True):
        if found is None or found[0] != dep["version"]:
            newest = "unreachable" if found is None else f"latest is {found[0]}"
            not_audited.append(f"{dep['name']} {dep['version']} ({newest})")
            continue
        by_latest += 1
        if found[1]:
            ids = ", ".join(v.get("id", "?") for v in found[1])
            vulnerable.append(f"{dep['name']} {dep['version']}: {ids}")
    by_pip_audit = len(deps) - len(skipped)
    print(
        f"pip-audit: {by_pip_audit + by_latest} of {len(deps)} distributions audited "
        f"({by_pip_audit} by pip-audit, {by_latest} as their project's latest release), "
        f"{len(vulnerable)} with known vulnerabilities"
    )
    if not_audited:
        print(
            f"pip-audit: WARNING: {len(not_audited)} NOT audited (no per-version data reachable, "
            f"and not the latest release): {', '.join(not_audited)}"
        )
    for line in vulnerable:
        print(f"  VULNERABLE {line}")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
