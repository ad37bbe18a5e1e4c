"""Load a helper module of another test directory by its path under tests/.

Test directories are not packages (pytest puts each on ``sys.path`` as it collects it), so a
data set or scenario written for one directory is loaded by path when another needs it; the
module is registered once under its own name, so every user shares one copy.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).parent


def load(relative: str) -> ModuleType:
    """``load("ops/ops_scenario.py")``: the module, imported once per test session."""
    path = TESTS / relative
    name = path.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
