"""The public API is what the docs name: every documented import path imports.

A bot author copies ``from tradestore.x import Y`` out of the docs, or reads that a function
lives at ``tradestore.ops.prune``; a module moved or a name renamed must either keep that path
working or change the docs in the same commit. This test reads the docs as a user does (import
lines anywhere in them, dotted ``tradestore.…`` names in prose and tables) and imports each
name from its documented path. It also pins the package's top-level surface and keeps
docs/reference/errors.md in step with ``tradestore.errors``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

import tradestore
import tradestore.errors

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
ERRORS_PAGE = ROOT / "docs" / "reference" / "errors.md"

#: ``from tradestore.a import b, c as d`` or ``from tradestore.a import (\n b,\n c,\n)``, on a
#: line of its own (a code block) or in inline code (`` `from tradestore.a import b` ``).
FROM_IMPORT = re.compile(
    r"(?:^[ \t>]*|`)from[ \t]+(tradestore(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n`]*)", re.M
)
#: ``import tradestore.a.b`` (also ``import tradestore.a as x, tradestore.b``).
PLAIN_IMPORT = re.compile(r"(?:^[ \t>]*|`)import[ \t]+(tradestore[^\n`]*)", re.M)
#: A dotted name such as ``tradestore.ops.prune`` written in prose, a table or code; not the
#: file name in ``sqlite:///data/tradestore.db`` (a path, so preceded by ``/``).
DOTTED = re.compile(r"(?<![\w/.\-])tradestore(?:\.\w+)+")

#: What ``import tradestore`` offers a bot author. Adding a name here is a public API decision:
#: document it (the test below checks) and keep it.
TOP_LEVEL = {"Database", "RetryPolicy", "TradestoreError", "errors", "__version__"}


@dataclass(frozen=True)
class Mention:
    """One documented name, where the docs name it."""

    name: str  # the full dotted path, e.g. tradestore.errors.Overfill
    where: str  # docs/guide/getting-started.md:144

    def __str__(self) -> str:
        return f"{self.where}: {self.name}"


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _imported_names(clause: str) -> list[str]:
    """The names of an import clause, without parentheses, comments and ``as`` aliases."""
    clause = re.sub(r"#[^\n]*", "", clause).strip().strip("()")
    names = []
    for part in clause.split(","):
        name = part.split(" as ")[0].strip()
        if name:
            names.append(name)
    return names


def mentions(text: str, label: str) -> list[Mention]:
    """Every tradestore name a page documents, as full dotted paths."""
    found: list[Mention] = []
    for match in FROM_IMPORT.finditer(text):
        where = f"{label}:{_line(text, match.start())}"
        module = match.group(1)
        for name in _imported_names(match.group(2)):
            found.append(Mention(f"{module}.{name}", where))
    for match in PLAIN_IMPORT.finditer(text):
        where = f"{label}:{_line(text, match.start())}"
        found.extend(Mention(name, where) for name in _imported_names(match.group(1)))
    for match in DOTTED.finditer(text):
        found.append(Mention(match.group(0), f"{label}:{_line(text, match.start())}"))
    return found


def documented() -> list[Mention]:
    found: list[Mention] = []
    for page in PAGES:
        found.extend(mentions(page.read_text(), str(page.relative_to(ROOT))))
    return found


def resolve(dotted: str) -> object:
    """The object a dotted path names: its longest importable module prefix, then attributes.

    That is what ``from a.b import c`` does (a submodule ``c`` or an attribute of ``a.b``). A
    module that exists but fails to import (a missing dependency, a cycle) raises, and so does
    an attribute that is not there.
    """
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            obj: object = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and (
                module_name == exc.name or module_name.startswith(exc.name + ".")
            ):
                continue  # no such module: the rest are attributes of a shorter prefix
            raise
        break
    else:  # pragma: no cover - "tradestore" itself always imports
        raise ModuleNotFoundError(dotted)
    for attribute in parts[cut:]:
        obj = getattr(obj, attribute)
    return obj


def test_the_docs_name_the_public_api() -> None:
    """The collector finds what the docs really say: the test below cannot pass on nothing."""
    names = {mention.name for mention in documented()}
    assert len(names) >= 40, sorted(names)
    for expected in (
        "tradestore.Database",  # from tradestore import Database
        "tradestore.errors.ValidationError",  # from tradestore.errors import ValidationError
        "tradestore.errors.InsufficientSpace",  # prose in operations.md
        "tradestore.ops.prune",  # "Python: `tradestore.ops.prune(db, ...)`"
        "tradestore.analytics.training.agent_leaderboard",  # a multi-line import
        "tradestore.errors",  # import tradestore.errors
    ):
        assert expected in names, expected
    # "data/tradestore.db" is a file; tradestore.db (the plumbing package) is a module.
    files = [name for name in names if name.endswith(".db") and name != "tradestore.db"]
    assert not files, f"a file name taken for a module: {files}"


def test_every_documented_name_imports() -> None:
    failures = []
    resolved: dict[str, str | None] = {}
    for mention in documented():
        if mention.name not in resolved:
            try:
                resolve(mention.name)
            except (ImportError, AttributeError) as exc:
                resolved[mention.name] = f"{type(exc).__name__}: {exc}"
            else:
                resolved[mention.name] = None
        problem = resolved[mention.name]
        if problem is not None:
            failures.append(f"{mention} ({problem})")
    failures = list(dict.fromkeys(failures))  # a prose name and its import line: report once
    assert not failures, "documented but not importable:\n" + "\n".join(failures)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (
            "from tradestore.errors import (\n"
            "    Overfill,  # comment\n"
            "    ValidationError as V,\n"
            ")",
            [
                "tradestore.errors",
                "tradestore.errors.Overfill",
                "tradestore.errors.ValidationError",
            ],
        ),
        ("    import tradestore.ops as ops", ["tradestore.ops", "tradestore.ops"]),
        ("`tradestore.ops.prune(db)`. sqlite:///data/tradestore.db", ["tradestore.ops.prune"]),
        (
            "see `from tradestore.retry import NO_RETRY`.",
            ["tradestore.retry", "tradestore.retry.NO_RETRY"],
        ),
    ],
)
def test_the_collector_reads_imports_and_prose(text: str, names: list[str]) -> None:
    assert sorted(mention.name for mention in mentions(text, "page")) == sorted(names)


def test_a_name_that_does_not_exist_is_reported() -> None:
    with pytest.raises(AttributeError):
        resolve("tradestore.errors.NoSuchError")
    with pytest.raises(AttributeError):
        resolve("tradestore.no_such_module")


def test_the_top_level_surface_is_pinned_and_documented() -> None:
    assert set(tradestore.__all__) == TOP_LEVEL
    assert len(tradestore.__all__) == len(set(tradestore.__all__))
    for name in tradestore.__all__:
        assert hasattr(tradestore, name), name
    names = {mention.name for mention in documented()}
    missing = sorted(name for name in tradestore.__all__ if f"tradestore.{name}" not in names)
    assert not missing, f"exported by tradestore but documented nowhere: {missing}"


def error_classes(module: ModuleType = tradestore.errors) -> dict[str, type[BaseException]]:
    """The public exception classes defined in ``tradestore.errors``."""
    return {
        name: obj
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and issubclass(obj, BaseException)
        and obj.__module__ == module.__name__
        and not name.startswith("_")
    }


#: A row of the errors table: | `Name` | `Base`, `Other` | when |
ERROR_ROW = re.compile(r"^\| `(\w+)` \| ([^|]*) \|", re.M)


def documented_errors() -> dict[str, list[str]]:
    rows = {}
    for match in ERROR_ROW.finditer(ERRORS_PAGE.read_text()):
        rows[match.group(1)] = re.findall(r"`(\w+)`", match.group(2))
    return rows


def test_the_errors_page_lists_every_exception_with_its_base() -> None:
    classes = error_classes()
    assert {"TradestoreError", "ValidationError", "TransientDatabaseError"} <= set(classes)
    rows = documented_errors()
    missing = sorted(set(classes) - set(rows))
    assert not missing, f"docs/reference/errors.md has no row for: {missing}"
    unknown = sorted(set(rows) - set(classes))
    assert not unknown, (
        f"docs/reference/errors.md documents classes tradestore.errors lacks: {unknown}"
    )
    wrong = {
        name: (rows[name], [base.__name__ for base in cls.__bases__])
        for name, cls in classes.items()
        if rows[name] != [base.__name__ for base in cls.__bases__]
    }
    assert not wrong, f"docs/reference/errors.md gives the wrong base (documented, actual): {wrong}"


def test_every_exception_derives_from_tradestore_error() -> None:
    outside = sorted(
        name
        for name, cls in error_classes().items()
        if not issubclass(cls, tradestore.errors.TradestoreError)
    )
    assert not outside, outside


def package_classes() -> dict[str, set[str]]:
    """Every public class defined in the package: its name and the modules defining one."""
    defined: dict[str, set[str]] = {}
    for info in pkgutil.walk_packages(tradestore.__path__, "tradestore."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra (async, plots) that is not installed
            continue
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and obj.__module__ == module.__name__ and name[0] != "_":
                defined.setdefault(name, set()).add(module.__name__)
    return defined


def test_every_record_class_name_is_unique_in_the_package() -> None:
    """Before: ``DailyFillRate``, ``OrderFillStats``, ``EquityPoint`` and ``EnsembleMember``
    were each two classes with different fields, one in repositories and one in analytics."""
    defined = package_classes()
    assert "tradestore.analytics.portfolio" in defined["EquityPoint"]  # the walk saw it
    twice = {name: sorted(modules) for name, modules in defined.items() if len(modules) > 1}
    assert not twice, f"class names defined in more than one module: {twice}"


def test_the_library_never_imports_its_own_deprecated_paths() -> None:
    """``tradestore.retry`` and ``tradestore.views`` warn for users' old imports; nothing in
    tradestore may reach them, or ``python -W error`` could not import the package."""

    modules = (
        "tradestore, tradestore.cli, tradestore.ops, tradestore.analytics, tradestore.adapters"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", f"import {modules}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
