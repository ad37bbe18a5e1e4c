"""Plain ``alembic`` from a bot's own project, with tradestore installed from a wheel.

The wheel is built from this checkout and installed into a new virtual environment; every
command then runs in a directory outside the checkout, with the checkout off ``sys.path``, so
nothing can come from ``migrations/`` or ``src/``. The environment gets the wheel alone
(``--no-deps``) and reads tradestore's dependencies from the test interpreter's
site-packages through a path entry: the test needs no network, and that path entry does not
run the site-packages' ``.pth`` hooks, so the editable install of the checkout stays out.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tradestore.migrate import VERSION_TABLE, head_revision

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Installed:
    python: Path
    tradestore: Path

    def run(
        self, *args: str | Path, cwd: Path, url: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "DATABASE_URL", "VIRTUAL_ENV", "PYTHONHOME")
        }
        env["TRADESTORE_DATABASE_URL"] = url
        result = subprocess.run(
            [str(arg) for arg in args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    def alembic(
        self, *args: str | Path, cwd: Path, url: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self.run(self.python, "-m", "alembic", *args, cwd=cwd, url=url, check=check)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    pytest.importorskip("hatchling", reason="building the wheel offline needs hatchling")
    base = tmp_path_factory.mktemp("wheel")
    wheels = base / "wheels"
    subprocess.run(
        [
            sys.executable,
            *("-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"),
            *("-w", str(wheels), str(ROOT)),
        ],
        check=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    (wheel,) = wheels.glob("tradestore-*.whl")
    venv = base / "venv"
    base_python = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([base_python, "-m", "venv", "--without-pip", venv], check=True, timeout=60)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            *("-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps"),
            *("--no-index", str(wheel)),
        ],
        check=True,
        timeout=120,
    )
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return Installed(python=python, tradestore=venv / "bin" / "tradestore")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A bot's project directory, outside the checkout."""
    path = tmp_path / "bot"
    path.mkdir()
    assert ROOT not in path.resolve().parents
    return path


def _at_head(installed: Installed, project: Path, url: str) -> None:
    status = installed.run(installed.tradestore, "db", "status", cwd=project, url=url)
    assert f"{head_revision()} (at head)" in status.stdout
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    finally:
        engine.dispose()
    assert versions == [(head_revision(),)]


def test_the_wheel_is_what_runs(installed: Installed, project: Path) -> None:
    where = installed.run(
        installed.python,
        "-c",
        "import tradestore, tradestore.migrate as m; print(tradestore.__file__); "
        "print(m.script_location())",
        cwd=project,
        url="sqlite://",
    ).stdout.split()
    venv = installed.python.parents[1]
    assert all(Path(path).is_relative_to(venv) for path in where), where


def test_alembic_with_the_shipped_config(
    installed: Installed, project: Path, fresh_url: str
) -> None:
    config = installed.run(
        installed.tradestore, "db", "alembic-config", cwd=project, url=fresh_url
    ).stdout.strip()
    assert Path(config).is_relative_to(installed.python.parents[1])
    upgraded = installed.alembic("-c", config, "upgrade", "head", cwd=project, url=fresh_url)
    assert "Running upgrade  -> 0001" in upgraded.stderr
    _at_head(installed, project, fresh_url)
    checked = installed.alembic("-c", config, "check", cwd=project, url=fresh_url)
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


APP_ENV = """\
import os

from alembic import context
from sqlalchemy import create_engine

engine = create_engine(os.environ["TRADESTORE_DATABASE_URL"])
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
"""

APP_REVISION = """\
from alembic import op
import sqlalchemy as sa

revision = "app1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("app_things", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("app_things")
"""


def _application(project: Path) -> None:
    """The bot's own Alembic environment, and tradestore's section beside it in its ini."""
    versions = project / "app_migrations" / "versions"
    versions.mkdir(parents=True)
    (project / "app_migrations" / "env.py").write_text(APP_ENV)
    (versions / "app1_things.py").write_text(APP_REVISION)
    (project / "alembic.ini").write_text(
        textwrap.dedent(
            """\
            [alembic]
            script_location = %(here)s/app_migrations
            path_separator = os

            [tradestore]
            script_location = tradestore:_migrations
            """
        )
    )


def test_beside_the_application_s_own_environment(
    installed: Installed, project: Path, fresh_url: str
) -> None:
    _application(project)
    installed.alembic("upgrade", "head", cwd=project, url=fresh_url)
    installed.alembic("-n", "tradestore", "upgrade", "head", cwd=project, url=fresh_url)
    _at_head(installed, project, fresh_url)
    app = installed.alembic("current", cwd=project, url=fresh_url)
    assert "app1 (head)" in app.stdout
    engine = create_engine(fresh_url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
                ("app1",)
            ]
    finally:
        engine.dispose()
    assert {"app_things", "alembic_version", VERSION_TABLE, "orders"} <= tables
    # Each environment downgrades only its own revisions.
    installed.alembic("-n", "tradestore", "downgrade", "base", cwd=project, url=fresh_url)
    engine = create_engine(fresh_url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert {"app_things", "alembic_version"} <= tables
    assert "orders" not in tables


def test_a_url_in_the_ini_is_refused(installed: Installed, project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "from_the_ini.db"
    (project / "alembic.ini").write_text(
        "[tradestore]\nscript_location = tradestore:_migrations\n"
        f"sqlalchemy.url = sqlite:///{elsewhere}\n"
    )
    environment = tmp_path / "from_the_environment.db"
    result = installed.alembic(
        "-n",
        "tradestore",
        "upgrade",
        "head",
        cwd=project,
        url=f"sqlite:///{environment}",
        check=False,
    )
    assert result.returncode != 0
    assert "never reads its database URL from an ini file" in result.stderr
    assert not elsewhere.exists()
    assert not environment.exists()
