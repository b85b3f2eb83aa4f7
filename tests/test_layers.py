"""The code's layers, checked from the real imports.

measures is pure; store and export never reach the screen; widgets show plain values; screens import
nothing from the face (app, cli) at run time. The contracts are in pyproject.toml, read by import-linter;
a second check imports every module of measures, store and export in a fresh interpreter and looks for
Textual in what got loaded, so an import hidden in a function body that runs at import time counts too.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]
CONTRACTS = {
    "measures is pure: no store, export, screens, widgets, face or Textual",
    "store never reaches the screen: no export, screens, widgets, face or Textual",
    "export writes files, not screens: no screens, widgets, face or Textual",
    "widgets show plain values: no store, export, screens or face",
    "screens import nothing from the face at run time",
}


def test_every_layer_contract_is_there_and_kept() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert {c["name"] for c in config["contracts"]} == CONTRACTS
    # No exception may hide an arrow without saying so here.
    assert all("ignore_imports" not in c for c in config["contracts"])
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in run.stdout


def _modules(package: str) -> list[str]:
    base = ROOT / "caseload" / package
    names = []
    for path in sorted(base.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


PROBE = ("import importlib, sys; importlib.import_module(sys.argv[1]); "
         "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich', 'textual_plotext'})))")


def test_no_module_of_measures_store_or_export_loads_textual() -> None:
    modules = [m for package in ("measures", "store", "export") for m in _modules(package)]
    assert len(modules) > 30  # every module, found from the files
    running = [(m, subprocess.Popen([sys.executable, "-c", PROBE, m], cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)) for m in modules]
    loaded = {}
    for module, proc in running:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"{module}: {err}"
        if out.strip():
            loaded[module] = out.strip()
    assert loaded == {}


def test_screens_and_the_face_catch_the_stores_errors_not_the_drivers() -> None:
    """The store turns driver errors into StoreError subclasses in one place (store.db); nothing above it
    catches SQLAlchemy's or a driver's exceptions."""
    import ast

    offenders = []
    for path in sorted((ROOT / "caseload").rglob("*.py")):
        rel = path.relative_to(ROOT / "caseload").as_posix()
        if rel.startswith(("store/", "measures/", "export/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(("sqlalchemy.exc", "psycopg", "sqlite3")):
                offenders.append(f"{rel}:{node.lineno} from {node.module}")
            elif isinstance(node, ast.Name) and node.id in ("SQLAlchemyError", "OperationalError", "DBAPIError"):
                offenders.append(f"{rel}:{node.lineno} {node.id}")
    assert offenders == []
