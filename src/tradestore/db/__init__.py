"""SQLAlchemy and driver plumbing: column types, the statement executor, error translation,
dialect helpers, retry rules, bulk helpers and view DDL. The only layer that knows a driver."""
