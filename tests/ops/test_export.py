from __future__ import annotations

import csv
import datetime as dt
import io
import json
import stat
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from ops_scenario import CUTOFF, NOW, RetentionScenario, add_bot
from sqlalchemy import insert, text

from tradestore import Database
from tradestore.errors import ConfigurationError, ValidationError
from tradestore.models import TrainingEpisode
from tradestore.ops.export import export_table


def _csv_rows(db: Database, table: str, **options: object) -> list[dict[str, str]]:
    out = io.StringIO()
    export_table(db, table, out, format="csv", **options)  # type: ignore[arg-type]
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_csv_values_are_exact_and_unambiguous(db: Database, scenario: RetentionScenario) -> None:
    rows = _csv_rows(db, "orders")
    assert len(rows) == 10
    keys = [(row["bot_id"], row["order_id"]) for row in rows]
    assert keys == sorted(keys)  # primary-key order: (bot_id, order_id) since revision 0005
    filled = next(row for row in rows if row["order_id"] == "o-filled-old")
    assert filled["quantity"] == "10"
    assert filled["filled_quantity"] == "10"
    assert filled["status"] == "filled"
    assert filled["limit_price"] == ""  # NULL
    assert dt.datetime.fromisoformat(filled["updated_at"]).utcoffset() == dt.timedelta(0)
    fills = _csv_rows(db, "fills")
    assert {row["price"] for row in fills} == {"150.125"}
    assert {row["quantity"] for row in fills} == {"5", "4", "10"}


def test_jsonl_decimals_round_trip_exactly(db: Database, scenario: RetentionScenario) -> None:
    with db.engine.begin() as conn:  # a NaN reward: JSON has no NaN, it becomes a string
        conn.execute(insert(TrainingEpisode), {"run_id": "run-running", "episode_number": 99})
        # Stored with SQL so this tests the export alone, not Real's NaN binding.
        conn.execute(
            text("UPDATE training_episodes SET episode_reward = 'NaN' WHERE episode_number = 99")
        )
    out = io.StringIO()
    result = export_table(db, "closed_positions", out, format="jsonl")
    lines = out.getvalue().splitlines()
    assert result.rows == len(lines) == 4
    record = json.loads(lines[0], parse_float=Decimal)
    assert record["exit_price"] == Decimal("310.5")
    assert record["realized_pnl"] == Decimal("52.5")
    assert record["realized_pnl_pct"] == Decimal("3.5")
    assert record["metadata"] is None
    episodes = io.StringIO()
    export_table(db, "training_episodes", episodes, format="jsonl")
    parsed = [json.loads(line) for line in episodes.getvalue().splitlines()]
    assert {"NaN"} == {p["episode_reward"] for p in parsed if p["episode_number"] == 99}


def test_parquet_types(db: Database, scenario: RetentionScenario, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    target = tmp_path / "orders.parquet"
    result = export_table(db, "orders", target, format="parquet", batch_size=3)
    assert result.rows == 10
    assert result.path == target
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    table = pq.read_table(target)
    assert table.num_rows == 10
    schema = table.schema
    assert schema.field("quantity").type == pa.decimal128(38, 18)
    assert schema.field("submitted_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("status").type == pa.string()
    assert schema.field("metadata").type == pa.string()
    rows = {row["order_id"]: row for row in table.to_pylist()}
    assert rows["o-filled-old"]["quantity"] == Decimal("10")
    metrics = pq.read_table(_export(db, "performance_metrics", tmp_path))
    assert metrics.schema.field("metric_date").type == pa.date32()
    assert metrics.schema.field("sharpe_ratio").type == pa.float64()


def _export(db: Database, table: str, folder: Path) -> Path:
    target = folder / f"{table}.parquet"
    export_table(db, table, target, format="parquet")
    return target


def test_parquet_needs_pyarrow(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'tradestore\[parquet\]'"):
        export_table(db, "orders", io.BytesIO(), format="parquet")


def test_since_filters_on_the_table_time_column(db: Database, scenario: RetentionScenario) -> None:
    recent = _csv_rows(db, "orders", since=CUTOFF)
    # submitted 5 minutes before their update: the recent one; the one at the cut-off is older
    assert {row["order_id"] for row in recent} == {"o-filled-recent"}
    # a date column compares with the instant's UTC date
    metrics = _csv_rows(db, "performance_metrics", since=CUTOFF)
    assert {row["metric_date"] for row in metrics} == {
        str(CUTOFF.date()),
        str((NOW - dt.timedelta(days=10)).date()),
    }
    closed = _csv_rows(db, "closed_positions", since=CUTOFF, time_column="opened_at")
    assert {row["position_id"] for row in closed} == {"pos-closed-recent"}


def test_since_needs_a_time_column(db: Database) -> None:
    with pytest.raises(ValidationError, match="no time column"):
        export_table(db, "hyperparameters", io.StringIO(), format="csv", since=NOW)
    with pytest.raises(ValidationError, match="naive"):
        export_table(db, "orders", io.StringIO(), format="csv", since=dt.datetime(2025, 1, 1))


def test_unknown_table_and_format(db: Database) -> None:
    with pytest.raises(ValidationError) as info:
        export_table(db, "nope", io.StringIO(), format="csv")
    assert info.value.field == "table"
    with pytest.raises(ValidationError) as info:
        export_table(db, "orders", io.StringIO(), format="xml")
    assert info.value.field == "format"


def test_export_streams_in_batches(db: Database) -> None:
    with db.engine.begin() as conn:
        for n in range(25):
            add_bot(conn, f"b{n:03d}")
    calls: list[int] = []
    out = io.StringIO()
    result = export_table(
        db, "bots", out, format="csv", batch_size=4, progress=lambda _p, d, _t: calls.append(d)
    )
    assert result.rows == 25
    assert calls == [4, 8, 12, 16, 20, 24, 25]
    assert out.getvalue().count("\n") == 26


def test_a_view_can_be_exported(db: Database) -> None:
    with db.engine.begin() as conn:
        add_bot(conn, "alpha")
        conn.execute(text("CREATE VIEW v_ops_export AS SELECT bot_id, name FROM bots"))
    try:
        rows = _csv_rows(db, "v_ops_export")
        assert rows == [{"bot_id": "alpha", "name": "alpha"}]
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("DROP VIEW v_ops_export"))


@pytest.mark.parametrize(
    ("value", "as_csv", "as_json"),
    [
        (None, "", "null"),
        (True, "true", "true"),
        (Decimal("150.250000000000000000"), "150.25", "150.25"),
        (Decimal("1E+2"), "100", "100"),
        (Decimal("-0.000000000000000001"), "-0.000000000000000001", "-0.000000000000000001"),
        (Decimal("0E-18"), "0", "0"),
        (float("nan"), "NaN", '"NaN"'),
        (float("-inf"), "-Infinity", '"-Infinity"'),
        (0.1, "0.1", "0.1"),
        (
            dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "2025-01-02T03:04:05+00:00",
            '"2025-01-02T03:04:05+00:00"',
        ),
        (dt.date(2025, 1, 2), "2025-01-02", '"2025-01-02"'),
        ({"a": [1, 2]}, '{"a":[1,2]}', '{"a": [1, 2]}'),
        ("line\nbreak", "line\nbreak", '"line\\nbreak"'),
    ],
)
def test_value_encoding(value: object, as_csv: str, as_json: str) -> None:
    from tradestore.ops.export import _csv_value, _json_value

    assert _csv_value(value) == as_csv
    assert _json_value(value) == as_json
