"""The layers of SPEC §12: the contract holds, a wrong import breaks it, no import hides in a function."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["common", "catalog", "customers", "orders", "billing", "config"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def copy_project(target: Path) -> Path:
    """Copy the packages and the contract, so a test can break an import without touching the tree."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_layering_contract_holds():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "wrong_import", "broken"),
    [
        ("common/errors.py", "import billing.models", "common is not allowed to import billing"),
        ("orders/models.py", "import billing.models", "orders is not allowed to import billing"),
        ("catalog/models.py", "import customers.models", "catalog is not allowed to import customers"),
    ],
)
def test_an_import_against_the_layers_breaks_the_contract(tmp_path, module, wrong_import, broken):
    project = copy_project(tmp_path)
    with open(project / module, "a") as source:
        source.write(f"\n\ndef reach_up():\n    {wrong_import}\n")

    result = lint_imports(project)

    assert result.returncode != 0
    assert broken in result.stdout


def imports_inside_functions(path: Path) -> list[str]:
    """Return `file:line` of every import written inside a function other than an AppConfig's ready()."""
    found = []

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, in_function=child.name != "ready")
            elif isinstance(child, ast.Import | ast.ImportFrom) and in_function:
                found.append(f"{path.relative_to(ROOT)}:{child.lineno}")
            else:
                visit(child, in_function)

    visit(ast.parse(path.read_text(), filename=str(path)), in_function=False)
    return found


def test_no_import_is_written_inside_a_function():
    """Django's AppConfig.ready() is the one place for it: the app registry is only ready there.

    Only importable modules count: config/gunicorn.conf.py is gunicorn's file, read by the
    master, whose hooks import prometheus_client late on purpose (see there).
    """
    sources = [path for package in PACKAGES for path in (ROOT / package).rglob("*.py") if "." not in path.stem]

    found = [place for path in sources for place in imports_inside_functions(path)]

    assert found == []
