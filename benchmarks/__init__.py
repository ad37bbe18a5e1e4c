"""Benchmarks: tradestore next to the raw driver doing the same work, in the same run."""
