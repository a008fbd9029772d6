"""Find list readers by format name through the ``aegis_sanctions.readers`` entry-point group."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from aegis_scoring_sanctions.readers.base import ListFormatError, ListReader

GROUP = "aegis_sanctions.readers"


def installed_formats() -> list[str]:
    """Format names of every installed reader, sorted."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


@cache
def reader(format_name: str) -> ListReader:
    """The reader for ``format_name``; an unknown, duplicated or broken reader is an error."""
    found = {ep.value: ep for ep in entry_points(group=GROUP) if ep.name == format_name}
    if not found:
        raise ListFormatError(f"no sanctions list reader for format {format_name!r} "
                              f"(entry-point group {GROUP}); installed: {', '.join(installed_formats()) or 'none'}")
    if len(found) > 1:
        raise ListFormatError(f"sanctions list format {format_name!r} is provided by several readers: "
                              f"{', '.join(sorted(found))}")
    ep = next(iter(found.values()))
    try:
        instance = ep.load()()
    except Exception as exc:
        raise ListFormatError(f"sanctions list reader {format_name!r} ({ep.value}) failed to load: "
                              f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(instance, ListReader):
        raise ListFormatError(f"sanctions list reader {format_name!r} ({ep.value}) does not implement "
                              "files(path) and read(path, source, version)")
    return instance
