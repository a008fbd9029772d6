"""Aegis ``jsonl`` audit sink: append-only JSON Lines, idempotent on UETR, with an fsync policy."""
