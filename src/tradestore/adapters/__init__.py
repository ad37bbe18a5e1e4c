"""Translations from other libraries' data structures into repository calls.

An adapter owns no table and runs no SQL of its own: it maps another library's vocabulary
(ccxt's unified order and trade structures) onto the repositories' public methods, so every
rule they enforce (idempotency, the order state machine, exact money) applies unchanged. None
imports the library it adapts: the structures are plain dicts, and tradestore stays usable
without it.
"""
