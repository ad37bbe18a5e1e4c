"""Issue 7, test 5: hostile input to every public repository method and CLI command.

The repository methods are found by introspection (every public method of every repository
the unit of work hands out, and of ``Analytics``), so a method added later is fuzzed without
touching this file. Each argument is drawn from a pool of hostile values (wrong types,
negatives, zero, NaN and infinities, huge and tiny decimals, naive datetimes, empty and
10 kB strings, unicode, SQL injection) mixed with legal ones (the seeded ids, valid amounts,
enum values), so calls get past the first check and reach the deeper ones.

A call may only succeed or raise a ``tradestore.errors`` exception. A refused call is caught
*inside* the unit of work, which then commits: the row counts and checksum of every table
must equal those before the call, so "writes nothing" is checked for the repository itself,
not only for the rollback around it. Legal inputs that are stored must read back verbatim.
"""

from __future__ import annotations

import datetime as dt
import enum
import inspect
import math
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_support import database_state, record_figure

from tradestore import Database
from tradestore.analytics import Analytics
from tradestore.cli import main
from tradestore.domain import enums
from tradestore.errors import TradestoreError
from tradestore.unit_of_work import UnitOfWork

pytestmark = pytest.mark.reliability

BOT = "bot-1"
ORDER_ID = "o-1"
RUN_ID = "run-1"
NOW = dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.UTC)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

INJECTION = [
    "'; DROP TABLE orders; --",
    "1' OR '1'='1",
    'Robert"); DELETE FROM fills; --',
    "%s%s%s",
    "{0}{1}",
    ":bot_id",
    "\x00",
    "NULL",
    "bot-1' --",
]
ENUM_VALUES = sorted(
    {
        member.value
        for obj in vars(enums).values()
        if isinstance(obj, type) and issubclass(obj, enum.Enum)
        for member in obj
        if isinstance(member.value, str)
    }
)
LEGAL = st.sampled_from(
    [BOT, ORDER_ID, RUN_ID, "c-1", "f-1", "AAPL", "buy", "1.5", Decimal("2.25"), 10, NOW]
) | st.sampled_from(ENUM_VALUES)

numbers = st.one_of(
    st.sampled_from(
        [
            0,
            -1,
            10**40,
            -(10**40),
            2**63,
            math.nan,
            math.inf,
            -math.inf,
            0.0,
            -0.0,
            1e308,
            5e-324,
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("Infinity"),
            Decimal("-Infinity"),
            Decimal("-1"),
            Decimal("0"),
            Decimal("1E+400"),
            Decimal("1E-400"),
            Decimal("123456789012345678901234567890.123456789012345678901"),
            Decimal("0.000000000000000000001"),
            Decimal("-sNaN"),
            Decimal("99999999999999999999.999999999999999999"),
            10**400,
            -(10**400),
            10**5000,  # more digits than str() converts
            True,
            False,
        ]
    ),
    st.integers(),
    st.floats(),
    st.decimals(allow_nan=True, allow_infinity=True),
)
texts = st.one_of(
    st.sampled_from(["", " ", "x" * 10_240, "é" * 5_000, "\u202e", "😀", *INJECTION]),
    st.sampled_from(["\udc80", "a\ud800b", "x\x00"]),  # lone surrogates, NUL
    st.text(max_size=40),
    st.text(st.characters(codec=None, categories=["Cs", "Cc"]), min_size=1, max_size=4),
)
EASTERN = dt.timezone(dt.timedelta(hours=-5))
INDIA = dt.timezone(dt.timedelta(hours=5, minutes=30))
times = st.one_of(
    st.datetimes(),  # naive
    st.datetimes(timezones=st.just(dt.UTC)),
    st.dates(),
    st.sampled_from(
        [
            dt.timedelta(0),
            dt.timedelta(days=-1),
            dt.timedelta.max,
            dt.datetime.min,
            "2026-01-05",
            # aware, but outside the years 1..9999 once in UTC
            dt.datetime.max.replace(tzinfo=EASTERN),
            dt.datetime.min.replace(tzinfo=INDIA),
            dt.datetime.max.replace(tzinfo=dt.UTC),
            dt.datetime.min.replace(tzinfo=dt.UTC),
            dt.date.max,
            dt.date.min,
        ]
    ),
    st.datetimes(timezones=st.timezones()),
)


def _nested(depth: int) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for _ in range(depth):
        document = {"a": document}
    return document


#: Documents JSON cannot hold as given: too deep, keys that are not strings (or collide once
#: stringified), NUL and lone surrogates in keys and values.
HOSTILE_JSON = st.sampled_from(
    [
        _nested(200),  # past MAX_JSON_DEPTH; 5,000 deep is in test_unreadable_values
        {1: "int", "1": "str"},
        {True: "t", "true": "x"},
        {None: 1},
        {(1, 2): 1},
        {"a\x00": 1},
        {"a": "\x00"},
        {"\udc80": 1},
        {"a": ["\udc80"]},
        {"n": 10**5000},
        {"f": 1e16},
    ]
)
scalars = st.one_of(st.none(), numbers, texts, times, st.binary(max_size=8), LEGAL)
HOSTILE = st.one_of(
    scalars,
    scalars,
    HOSTILE_JSON,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.one_of(texts, LEGAL), scalars, max_size=3),
    st.lists(
        st.dictionaries(
            st.sampled_from(
                [
                    *ENUM_VALUES,
                    "fill_id",
                    "order_id",
                    "quantity",
                    "price",
                    "filled_at",
                    "episode_number",
                    "reward",
                ]
            ),
            scalars,
            max_size=6,
        ),
        max_size=3,
    ),
    st.builds(object),
)

_MODULES = {
    "bots": "tradestore.repositories.bots",
    "positions": "tradestore.repositories.positions",
    "orders": "tradestore.repositories.orders",
    "snapshots": "tradestore.repositories.snapshots",
    "sessions": "tradestore.repositories.sessions",
    "metrics": "tradestore.repositories.metrics",
    "training": "tradestore.repositories.training",
    "evaluations": "tradestore.repositories.evaluations",
    "ensembles": "tradestore.repositories.ensembles",
}
REPOSITORIES = [
    "bots",
    "positions",
    "orders",
    "snapshots",
    "sessions",
    "metrics",
    "training",
    "evaluations",
    "ensembles",
]


def _methods(cls: type) -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and inspect.isfunction(member)
    )


def _repository_classes() -> dict[str, type]:
    """The class each unit-of-work accessor returns (resolved from its annotation)."""
    import tradestore.unit_of_work as module

    namespace = dict(vars(module))
    for name in REPOSITORIES:
        accessor = inspect.getattr_static(UnitOfWork, name)
        annotation = inspect.signature(accessor.func).return_annotation
        namespace[annotation] = getattr(
            __import__(_MODULES[name], fromlist=[annotation]), annotation
        )
    classes = {
        name: namespace[
            inspect.signature(inspect.getattr_static(UnitOfWork, name).func).return_annotation
        ]
        for name in REPOSITORIES
    }
    classes["analytics"] = Analytics
    return classes


CLASSES = _repository_classes()
TARGETS = [(repo, method) for repo, cls in CLASSES.items() for method in _methods(cls)]
COUNTS = {"calls": 0, "rejected": 0, "accepted": 0}


@pytest.fixture
def seeded(db: Database) -> Database:
    with db.unit_of_work(bot_id=BOT) as uow:
        uow.bots.register(BOT, starting_balance=Decimal(1000))
        uow.orders.submit(
            order_id=ORDER_ID,
            client_order_id="c-1",
            ticker="AAPL",
            side="buy",
            order_type="market",
            quantity=Decimal(10),
            reference_price=Decimal(100),
        )
        uow.orders.record_fill(ORDER_ID, fill_id="f-1", quantity=Decimal(1), price=Decimal(100))
        uow.training.start_run("PPO", "model", run_id=RUN_ID)
    return db


@st.composite
def calls(draw: st.DrawFn, repo: str, method: str) -> tuple[str, dict[str, Any]]:
    """A bot id and keyword arguments for ``repo.method``."""
    bot = draw(st.one_of(st.just(BOT), st.just(BOT), st.just(BOT), HOSTILE))
    signature = inspect.signature(getattr(CLASSES[repo], method))
    kwargs: dict[str, Any] = {}
    for parameter in list(signature.parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        required = parameter.default is inspect.Parameter.empty
        if required or draw(st.booleans()):
            kwargs[parameter.name] = draw(HOSTILE)
    return bot, kwargs


def _call(db: Database, repo: str, method: str, bot: Any, kwargs: dict[str, Any]) -> bool:
    """True when the call was refused with a tradestore error (nothing written)."""
    refused = False
    try:
        with db.unit_of_work(bot_id=bot) as uow:
            try:
                result = getattr(getattr(uow, repo), method)(**kwargs)
                if isinstance(result, Iterator):
                    list(result)
            except TradestoreError:
                refused = True
    except TradestoreError:
        refused = True  # e.g. a hostile bot_id refused when the repository is built
    return refused


@pytest.mark.parametrize(("repo", "method"), TARGETS, ids=[f"{r}.{m}" for r, m in TARGETS])
def test_hostile_arguments(seeded: Database, repo: str, method: str) -> None:
    state = {"before": database_state(seeded)}

    @SETTINGS
    @given(call=calls(repo, method))
    def check(call: tuple[str, dict[str, Any]]) -> None:
        bot, kwargs = call
        refused = _call(seeded, repo, method, bot, kwargs)
        after = database_state(seeded)
        COUNTS["calls"] += 1
        if refused:
            COUNTS["rejected"] += 1
            assert after == state["before"], f"{repo}.{method}({kwargs!r}) refused but wrote"
        else:
            COUNTS["accepted"] += 1
            state["before"] = after

    check()
    record_figure("hostile_input", "methods", 1)
    record_figure("hostile_input", "calls", COUNTS.pop("calls"))
    record_figure("hostile_input", "refused", COUNTS.pop("rejected"))
    record_figure("hostile_input", "accepted", COUNTS.pop("accepted"))
    COUNTS.update(calls=0, rejected=0, accepted=0)


# --- the command line --------------------------------------------------------------------

cli_texts = st.one_of(
    texts,
    st.sampled_from(
        ["-1", "0", "999999999999999999999d", "1e308", "nan", "inf", "2026-13-45", "0d", "-5d"]
    ),
)
COMMANDS: list[tuple[list[str], list[str]]] = [
    # (command words, options whose values are fuzzed)
    (["prune"], ["--older-than", "--before", "--batch-size"]),
    (["prune", "--dry-run"], ["--older-than", "--before", "--table"]),
    (["export"], ["--since", "--time-column", "--format", "--batch-size"]),
    (["stats"], []),
    (["db", "verify"], []),
    (["db", "current"], []),
    (["db", "status"], ["--limit"]),
    (["db", "upgrade"], []),
    (["db", "downgrade"], []),  # never confirmed: no --yes
    (["backup"], ["--keep-days"]),
    (["restore"], []),  # never confirmed: no --yes
]


@st.composite
def cli_calls(draw: st.DrawFn, db_url: str) -> list[str]:
    words, options = draw(st.sampled_from(COMMANDS))
    args = list(words)
    if words[0] in ("export", "restore") or words[-1] in ("upgrade", "downgrade"):
        args.append(draw(cli_texts))  # the positional argument
    args += ["--url", draw(st.one_of(st.just(db_url), st.just(db_url), cli_texts))]
    for option in options:
        if draw(st.booleans()):
            args += [option, draw(cli_texts)]
    return args


def _argv(text: str) -> str:
    """``text`` as argv can carry it: no NUL, and of the lone surrogates only U+DC80-U+DCFF,
    which decoding argv bytes that are not UTF-8 with ``surrogateescape`` produces."""
    return "".join(
        c
        for c in text
        if c != "\x00" and (not "\ud800" <= c <= "\udfff" or "\udc80" <= c <= "\udcff")
    )


def test_hostile_command_lines(
    seeded: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a hostile --url or path lands in the test's directory
    seeded.dispose()
    before = database_state(seeded)
    runner = CliRunner()
    env = {"TRADESTORE_DATABASE_URL": None, "DATABASE_URL": None}
    tried = 0

    @SETTINGS
    @given(args=cli_calls(db_url))
    def check(args: list[str]) -> None:
        nonlocal before, tried
        args = [_argv(a) for a in args]
        result = runner.invoke(main, args, env=env, input="")  # type: ignore[arg-type]
        tried += 1
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            result.output,
            result.exc_info,
        )
        assert result.exit_code in (0, 1, 2), (args, result.output)
        assert "Traceback" not in result.output
        after = database_state(seeded)
        if result.exit_code != 0:
            assert after == before, f"{args} failed but changed the database"
        before = after

    check()
    record_figure("hostile_cli", "command_lines", tried)


# --- legal hostile text is stored verbatim -------------------------------------------------


def _write_text(uow: UnitOfWork, n: int, value: str) -> None:
    document = {"note": value, value: [value]}
    uow.positions.open(
        "AAPL",
        position_id=f"p-{n}",
        side="long",
        quantity=Decimal(1),
        entry_price=Decimal(10),
        strategy=value,
        metadata=document,
    )
    uow.orders.submit(
        client_order_id=value,
        order_id=f"o-{n}",
        ticker="AAPL",
        side="buy",
        order_type="market",
        quantity=Decimal(1),
        reference_price=Decimal(10),
        strategy=value,
        metadata=document,
    )
    uow.training.start_run(
        "PPO", value, run_id=f"r-{n}", hyperparameters={"note": value}, metadata=document
    )


def test_legal_hostile_text_reads_back_verbatim(seeded: Database) -> None:
    """Unicode, 10 kB strings and SQL-injection text are data: what is accepted comes back
    character for character, in columns, JSON values and JSON keys, on both backends."""
    counter = iter(range(10**6))
    tally = {"accepted": 0, "refused": 0}

    @SETTINGS
    @given(value=texts)
    def check(value: str) -> None:
        n = next(counter)
        before = database_state(seeded)
        try:
            with seeded.unit_of_work(bot_id=BOT) as uow:
                _write_text(uow, n, value)
        except TradestoreError:
            tally["refused"] += 1
            assert database_state(seeded) == before, f"{value!r} refused but wrote"
            return
        tally["accepted"] += 1
        document = {"note": value, value: [value]}
        with seeded.unit_of_work(bot_id=BOT) as uow:
            position = uow.positions.get(f"p-{n}")
            order = uow.orders.get(client_order_id=value)
            run = uow.training.get(f"r-{n}")
            hyperparameters = uow.training.hyperparameters(f"r-{n}")
        assert (position.strategy, position.metadata) == (value, document)
        assert (order.order_id, order.client_order_id) == (f"o-{n}", value)
        assert (order.strategy, order.metadata) == (value, document)
        assert (run.model_name, run.metadata) == (value, document)
        assert hyperparameters is not None
        assert hyperparameters.params == {"note": value}

    check()
    assert tally["accepted"] > 0  # the legal part of the pool did reach the database
    record_figure("hostile_text_verbatim", "accepted", tally["accepted"])
    record_figure("hostile_text_verbatim", "refused", tally["refused"])
