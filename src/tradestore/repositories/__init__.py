"""Repositories, one module per domain. They validate, write through the session, never commit."""
