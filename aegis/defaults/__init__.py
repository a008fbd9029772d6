"""Embedded default deployments (``aegis run`` without ``-c``)."""
