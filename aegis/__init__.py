"""Aegis: real-time transaction screening for banks.

The kernel: plugin API (:mod:`aegis.hookspecs`), loading, configuration,
the batch pipeline, the decision rule and the ``aegis`` command.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aegis-screening")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

__all__ = ["__version__"]
