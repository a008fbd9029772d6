"""Hook specs, their reference docs and their tests are tied together here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from aegis import hookspecs

REPO = Path(__file__).resolve().parents[1]
HOOKS = hookspecs.hook_names()
HEADING = re.compile(r"^## (aegis_\w+)\(([^)]*)\)\s*$", re.M)


def documented() -> dict[str, list[str]]:
    text = (REPO / "docs" / "plugin-hooks.md").read_text()
    return {m.group(1): [a.strip() for a in m.group(2).split(",") if a.strip()] for m in HEADING.finditer(text)}


def test_every_hook_has_a_spec_docstring():
    missing = [h for h in HOOKS if not (getattr(hookspecs, h).__doc__ or "").strip()]
    assert not missing


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented_with_exact_arguments(hook):
    docs = documented()
    assert hook in docs, f"docs/plugin-hooks.md has no section '## {hook}(...)'"
    expected = list(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert docs[hook] == expected, f"{hook}: documented {docs[hook]}, spec has {expected}"


def test_docs_describe_no_hook_that_does_not_exist():
    assert set(documented()) <= set(HOOKS)


def test_docs_follow_spec_order():
    assert [h for h in documented() if h in HOOKS] == HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    sources = "".join(p.read_text() for p in (REPO / "tests").glob("test_*.py"))
    assert re.search(rf"^def test_hook_{hook}\(", sources, re.M), f"no test_hook_{hook} in tests/"


def test_hookspec_names_follow_convention():
    for hook in HOOKS:
        family = hook.split("_")[1]
        assert hook in hookspecs.LIFECYCLE_HOOKS or family in hookspecs.FAMILIES, hook
