"""Aegis ``sqlite`` audit sink: decision records in a SQLite database (WAL), idempotent on UETR."""
