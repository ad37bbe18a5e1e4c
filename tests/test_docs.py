"""Generated documentation stays in step with the code."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tradestore.models import Base

ROOT = Path(__file__).resolve().parents[1]


def test_schema_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "schema_reference.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _schema_reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "schema_reference", ROOT / "scripts" / "schema_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_er_diagram_is_the_models() -> None:
    """The diagram in docs/reference/schema.md is regenerated here and compared; and what it
    holds is checked against Base.metadata, so a generator that dropped a table or a foreign
    key could not pass by agreeing with itself."""
    generator = _schema_reference()
    text = (ROOT / "docs" / "reference" / "schema.md").read_text()
    section = text.split(generator.DIAGRAM_BEGIN, 1)[1].split(generator.DIAGRAM_END, 1)[0]
    assert section.strip() == generator.render_diagram().strip(), (
        "the ER diagram is stale: run scripts/schema_reference.py"
    )
    entities = set(re.findall(r"^    (\w+) \{$", section, re.MULTILINE))
    assert entities == set(Base.metadata.tables)
    lines = set(re.findall(r'^    (\w+) \|\|--o[|{] (\w+) : "([^"]+)"$', section, re.MULTILINE))
    expected = {
        (fk.referred_table.name, table.name, ", ".join(c.name for c in fk.columns))
        for table in Base.metadata.tables.values()
        for fk in table.foreign_key_constraints
    }
    assert lines == expected
    for table in Base.metadata.tables.values():
        body = section.split(f"    {table.name} {{\n", 1)[1].split("    }", 1)[0]
        names = [line.split()[1] for line in body.splitlines()]
        assert names == [column.name for column in table.columns], table.name
