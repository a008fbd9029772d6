"""The ``consortium`` scoring plugin: peers' verified zero-knowledge risk signals."""
