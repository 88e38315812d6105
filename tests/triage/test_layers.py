"""Layers (issue 13): a domain's service module is a leaf; what crosses domains lives in triage.flows."""

from __future__ import annotations

import ast
from pathlib import Path

import triage

PACKAGE = Path(triage.__file__).resolve().parent
# The audit log every service writes to, like triage.db: infrastructure rather than another domain's work.
SHARED = {"triage.events.service"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, `from a import b` also as `a.b`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def crossings(path: Path) -> list[str]:
    """The imports of a domain's service module that reach another domain's service or a flow."""
    domain = path.parent.name
    bad = []
    for module in sorted(imported_modules(path)):
        parts = module.split(".")
        if parts[0] != "triage" or len(parts) < 2:
            continue
        other_service = (len(parts) >= 3 and parts[2] == "service" and parts[1] != domain
                         and ".".join(parts[:3]) not in SHARED)
        if parts[1] == "flows" or other_service:
            bad.append(module)
    return bad


def test_domain_services_import_no_other_domain_service_and_no_flow() -> None:
    services = sorted(PACKAGE.glob("*/service.py"))
    assert len(services) >= 8, "the domain folders moved: point this test at them"
    found = {f"triage/{p.parent.name}/service.py": crossings(p) for p in services}
    assert {name: bad for name, bad in found.items() if bad} == {}


def test_the_check_sees_a_crossing(tmp_path: Path) -> None:
    service = tmp_path / "feedback" / "service.py"
    service.parent.mkdir()
    service.write_text("from triage.sla.service import refresh_sla\nfrom triage.sla.tables import SlaEvent\n"
                       "from triage.events.service import record\n\n\ndef f():\n    from triage.flows import tickets\n")
    assert crossings(service) == ["triage.flows", "triage.flows.tickets", "triage.sla.service",
                                  "triage.sla.service.refresh_sla"]
