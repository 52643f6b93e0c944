"""House rules that can be checked mechanically."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "evsuper"
QT_MODULES = {"PySide6", "shiboken6", "pyqtgraph", "qasync", "PyQt5", "PyQt6"}


def imported_roots(file: Path) -> set[str]:
    tree = ast.parse(file.read_text(), str(file))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_nothing_outside_hmi_imports_qt() -> None:
    offenders = {
        str(file.relative_to(PACKAGE)): sorted(imported_roots(file) & QT_MODULES)
        for file in PACKAGE.rglob("*.py")
        if "hmi" not in file.relative_to(PACKAGE).parts
    }
    assert {f: m for f, m in offenders.items() if m} == {}


def test_headless_engine_loads_no_qt() -> None:
    code = (
        "import sys, evsuper.cli, evsuper.engine.runtime;"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
