"""Two processes upgrading one empty database at once: one applies, the other waits and finds
nothing to do; neither fails and nothing is applied twice."""

from __future__ import annotations

import multiprocessing as mp

from sqlalchemy import text

from tradestore import Database
from tradestore.migrate import head_revision, known_revisions


def _upgrade(url: str, start: mp.synchronize.Barrier, results: mp.Queue) -> None:  # type: ignore[type-arg]
    try:
        db = Database(url, check_schema=False)
        start.wait(timeout=30)
        db.upgrade()
        db.dispose()
        results.put("ok")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


def test_concurrent_upgrades_do_not_collide(fresh_url: str) -> None:
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(3)
    results: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    workers = [ctx.Process(target=_upgrade, args=(fresh_url, start, results)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    outcomes = [results.get(timeout=5) for _ in workers]
    assert outcomes == ["ok", "ok", "ok"]
    db = Database(fresh_url)
    assert db.current_revision() == head_revision()
    with db.engine.connect() as conn:
        applied = (
            conn.execute(
                text("SELECT migration_id FROM migration_history WHERE status = 'applied'")
            )
            .scalars()
            .all()
        )
    assert sorted(applied) == sorted(known_revisions())
    db.dispose()
