"""Migration scripts run none of the app's code, so an old migration means the same forever.

A migration that called `app.content.text.html_to_text` did, on a database that had not run
it yet, whatever that function did on the day the database was upgraded, not what the
migration was written and tested against. Each migration therefore holds its own frozen copy
of the rules it applies to stored rows, and this test keeps imports of the app from creeping
back. It reads the scripts' source and needs no database.

What a migration may import:

- the standard library, and SQLAlchemy, Alembic, SQLModel and nh3: the libraries migrations
  are written with, which cannot sensibly be copied; a new version of one is an upgrade of
  a dependency, reviewed as such, not a quiet edit of the app's own rules;
- from the app, only `app.db.UTCDateTime`, and only as a column's type in DDL. Autogenerate
  renders it there (script.py.mako imports `app.db` for it), and the DDL it emits is its
  impl's, `DateTime(timezone=True)`. Binding values through it is not allowed: its rule for
  storing them is app code like any other, so a migration binds an aware UTC datetime as
  SQLAlchemy's own `DateTime(timezone=True)`, which stores it the same way.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from app.migrations import PROJECT_ROOT

VERSIONS = PROJECT_ROOT / "migrations" / "versions"
LIBRARIES = frozenset({"alembic", "nh3", "sqlalchemy", "sqlmodel"})
# Where a migration may use each thing it takes from the app.
APP_NAMES_IN_COLUMNS = frozenset({"app.db.UTCDateTime"})
APP_MODULES = frozenset({"app.db"})


def scripts() -> list[Path]:
    return sorted(VERSIONS.glob("*.py"))


def _is_column(node: ast.AST) -> bool:
    """`sa.Column(...)` or `Column(...)`."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr == "Column") or (
        isinstance(func, ast.Name) and func.id == "Column"
    )


def _dotted(node: ast.AST) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None for anything but names and attributes."""
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else [*head, node.attr]
    return None


def _allowed_module(module: str) -> bool:
    top = module.split(".")[0]
    return top in sys.stdlib_module_names or top in LIBRARIES


def problems_in(source: str) -> list[str]:
    """What in a migration's source imports, or uses, more than the module docstring allows."""
    tree = ast.parse(source)
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found: list[str] = []
    bound: dict[str, str] = {}  # a name the script binds -> the app's dotted name it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "app" or alias.name.startswith("app."):
                    if alias.name not in APP_MODULES:
                        found.append(f"line {node.lineno}: import {alias.name}")
                    top = alias.asname or "app"
                    bound[top] = alias.name if alias.asname else "app"
                elif not _allowed_module(alias.name):
                    found.append(f"line {node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level or module == "app" or module.startswith("app."):
                for alias in node.names:
                    name = f"{module}.{alias.name}"
                    if node.level or name not in APP_NAMES_IN_COLUMNS:
                        found.append(f"line {node.lineno}: from {module} import {alias.name}")
                    bound[alias.asname or alias.name] = name
            elif not _allowed_module(module):
                found.append(f"line {node.lineno}: from {module} import ...")
        elif isinstance(node, ast.Call) and _dotted(node.func) in (
            ["importlib", "import_module"],
            ["import_module"],
            ["__import__"],
        ):
            found.append(f"line {node.lineno}: a module imported at run time")
    for node in ast.walk(tree):
        # Only whole chains: `app.db.UTCDateTime`, not its `app.db` and `app` inside it.
        if isinstance(parents.get(node), ast.Attribute):
            continue
        chain = _dotted(node)
        if not chain or chain[0] not in bound:
            continue
        name = ".".join([bound[chain[0]], *chain[1:]])
        line = getattr(node, "lineno", "?")
        if name not in APP_NAMES_IN_COLUMNS:
            found.append(f"line {line}: uses {name}")
            continue
        ancestor = parents.get(node)
        while ancestor is not None and not _is_column(ancestor):
            ancestor = parents.get(ancestor)
        if ancestor is None:
            found.append(f"line {line}: {name} outside a column's definition")
    return found


@pytest.mark.parametrize("script", scripts(), ids=lambda path: path.stem)
def test_migration_runs_none_of_the_apps_code(script: Path) -> None:
    assert problems_in(script.read_text()) == [], (
        "a migration must not call the app: copy what it needs into it, frozen "
        "(see this test's module docstring)"
    )


def test_there_are_scripts_to_check() -> None:
    assert len(scripts()) > 10


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def upgrade():\n    from app.content.text import html_to_text\n", "line 2: from"),
        ("import app.content.names\n", "line 1: import app.content.names"),
        ("from app import content\n", "line 1: from app import content"),
        ("import app.db\nnow = app.db.utcnow()\n", "line 2: uses app.db.utcnow"),
        ("import app.db as db\nnow = db.utcnow()\n", "line 2: uses app.db.utcnow"),
        (
            "import app.db\nimport sqlalchemy as sa\n"
            "p = sa.bindparam('now', type_=app.db.UTCDateTime(timezone=True))\n",
            "line 3: app.db.UTCDateTime outside a column's definition",
        ),
        ("from tests.support import make_settings\n", "line 1: from tests.support"),
        ("import bench\n", "line 1: import bench"),
        ("import importlib\nm = importlib.import_module('app.content')\n", "line 2: a module"),
    ],
)
def test_the_check_finds_the_app_however_it_is_reached(source: str, problem: str) -> None:
    assert any(found.startswith(problem) for found in problems_in(source)), problems_in(source)


def test_the_check_lets_a_column_type_through() -> None:
    source = (
        "import app.db\nimport sqlalchemy as sa\nfrom alembic import op\nimport re\n"
        "op.add_column('t', sa.Column('at', app.db.UTCDateTime(timezone=True)))\n"
    )
    assert problems_in(source) == []
