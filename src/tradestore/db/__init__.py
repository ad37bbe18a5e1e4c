"""The SQLAlchemy and driver layer: column types, dialect helpers, retry rules, view DDL."""
