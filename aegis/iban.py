"""IBAN validity as python-stdnum decides it, with its rules compiled once per country.

``stdnum.iban.is_valid`` looks the country up in its registry and builds the national-format
pattern on every call (about 14 µs). The registry holds one entry per country, so the pattern and
the country's extra check (Belgium, Spain, Montenegro, Norway) are taken from stdnum once and
kept; the mod-97 checksum is one integer division. The answers are stdnum's (a differential test
holds them to it); a payment's accounts are checked here when the decoder meets them first.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable

from stdnum import numdb
from stdnum.util import get_cc_module

_REGISTRY = numdb.get("iban")
_PART = re.compile(r"([1-9][0-9]*)!([nac])")
_CLASSES = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}
#: letters to their mod-97 values (A=10 ... Z=35); digits stay as they are
_TO_DIGITS = str.maketrans({c: str(int(c, 36)) for c in string.ascii_uppercase})


@functools.cache
def _country(code: str) -> tuple[re.Pattern[str], Callable[[str], bool] | None] | None:
    """The national format (BBAN pattern) and extra check of a country, ``None`` for no IBAN country."""
    entry = _REGISTRY.info(code)[0][1]
    if not entry:
        return None
    structure = _PART.sub(lambda m: f"{_CLASSES[m.group(2)]}{{{m.group(1)}}}", entry.get("bban", ""))
    module = get_cc_module(code.lower(), "iban")
    return re.compile(structure), (module.is_valid if module is not None else None)


def is_valid_iban(compact: str) -> bool:
    """Whether ``compact`` (an IBAN without spaces, upper case, letters and digits only) is valid:
    checksum, the country's national format, and the country's own check where it has one."""
    rule = _country(compact[:2])
    if rule is None or int((compact[4:] + compact[:4]).translate(_TO_DIGITS)) % 97 != 1:
        return False
    bban, national = rule
    return bban.fullmatch(compact[4:]) is not None and (national is None or national(compact))
