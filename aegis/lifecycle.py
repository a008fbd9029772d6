"""Results of the lifecycle hooks: reloads and self-tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReloadReport:
    """What a plugin's reload did: which artefact, old and new version, or why it was refused."""

    plugin: str
    artefact: str
    ok: bool
    old_version: str | None = None
    new_version: str | None = None
    error: str | None = None
    summary: str = ""


@dataclass(frozen=True)
class SelfTestResult:
    """One self-test check of one plugin."""

    plugin: str
    check: str
    ok: bool
    detail: str = ""
