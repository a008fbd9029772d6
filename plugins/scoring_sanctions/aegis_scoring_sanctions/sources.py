"""Where lists come from: ``format:path`` sources, read through the registered readers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aegis_scoring_sanctions.entries import SanctionsList
from aegis_scoring_sanctions.readers.base import ListFormatError
from aegis_scoring_sanctions.readers.registry import reader


@dataclass(frozen=True)
class ListSource:
    """One list to load: its reader's format name, its path, and an optional version override."""

    format: str
    path: Path
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> ListSource:
        """``ofac-csv:/data/ofac`` → ``ListSource("ofac-csv", Path("/data/ofac"))``."""
        fmt, sep, path = text.partition(":")
        if not sep or not fmt or not path:
            raise ListFormatError(f"list source {text!r}: expected FORMAT:PATH, e.g. ofac-csv:/data/ofac")
        return cls(fmt.strip(), Path(path.strip()))

    @property
    def label(self) -> str:
        return f"{self.format}:{self.path}"

    def files(self) -> list[Path]:
        return reader(self.format).files(self.path)

    def load(self) -> SanctionsList:
        return reader(self.format).read(self.path, self.label, self.version)


def load_lists(sources: list[ListSource]) -> list[SanctionsList]:
    """Read every source; two sources that yield the same list name are an error."""
    lists = [s.load() for s in sources]
    names = [lst.list_name for lst in lists]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ListFormatError(f"lists loaded twice: {', '.join(dup)} (sources: "
                              f"{', '.join(s.label for s in sources)})")
    return lists
