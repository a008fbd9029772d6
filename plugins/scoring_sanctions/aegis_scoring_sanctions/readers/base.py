"""The reader contract vendors implement to add a list format (EU, UK, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from aegis.errors import AegisError
from aegis_scoring_sanctions.entries import SanctionsList


class ListFormatError(AegisError):
    """A list file is missing, unreadable or not in the format its reader expects."""


@runtime_checkable
class ListReader(Protocol):
    """Reads one list format. Published under the entry-point group ``aegis_sanctions.readers``.

    The entry-point name is the format name used in configuration (``ofac-csv``, ``un-xml``).
    A reader is a class constructed without arguments.
    """

    format: ClassVar[str]

    def files(self, path: Path) -> list[Path]:
        """The files that make up the list at ``path`` (watched for hot reload), in reading order."""
        ...

    def read(self, path: Path, source: str, version: str | None = None) -> SanctionsList:
        """Read and check the list at ``path``; ``version`` overrides the version found in the files.

        Raise :class:`ListFormatError` naming the file (and line or element) that is wrong.
        """
        ...
