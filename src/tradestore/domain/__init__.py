"""Pure domain rules (money, time, state machines, accounting, P&L, metrics); no SQLAlchemy."""
