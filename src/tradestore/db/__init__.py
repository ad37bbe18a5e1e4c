"""SQLAlchemy and driver plumbing: the only code that knows SQLAlchemy internals or a driver."""
