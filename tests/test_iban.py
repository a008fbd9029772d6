"""The compiled IBAN check answers exactly as python-stdnum does."""

from __future__ import annotations

import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum import numdb

from aegis.iban import is_valid_iban
from aegis.model import _IBAN_SHAPE

COUNTRIES = sorted({code for code in (a + b for a in string.ascii_uppercase for b in string.ascii_uppercase)
                    if numdb.get("iban").info(code)[0][1]})
CHARS = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}


def _structure(country: str) -> list[tuple[int, str]]:
    """The registry's BBAN structure as (length, kind) parts, e.g. ``8!n10!n`` → [(8, "n"), (10, "n")]."""
    bban = numdb.get("iban").info(country)[0][1]["bban"]
    return [(int(n), kind) for n, kind in re.findall(r"([1-9][0-9]*)!([nac])", bban)]


@st.composite
def ibans(draw) -> str:
    """IBAN-shaped strings: well-formed for a registry country, or near misses of every kind."""
    country = draw(st.sampled_from([*COUNTRIES, "XX", "ZZ", "US"]))
    if country in COUNTRIES and draw(st.booleans()):
        bban = "".join(draw(st.text(CHARS[kind], min_size=n, max_size=n)) for n, kind in _structure(country))
    else:
        bban = draw(st.text(CHARS["c"], min_size=10, max_size=30))
    digits = stdnum_iban.calc_check_digits(country + "00" + bban) if draw(st.booleans()) else \
        draw(st.text(string.digits, min_size=2, max_size=2))
    number = country + digits + bban
    if draw(st.booleans()) and len(number) > 5:  # one character changed, dropped or added
        i = draw(st.integers(4, len(number) - 1))
        c = draw(st.sampled_from(CHARS["c"]))
        number = draw(st.sampled_from([number[:i] + c + number[i + 1:], number[:i] + number[i + 1:],
                                       number[:i] + c + number[i:]]))
    return number


@settings(max_examples=3000, deadline=None)
@given(ibans())
def test_same_answer_as_stdnum_on_generated_numbers(number):
    if _IBAN_SHAPE.match(number):  # what the model hands to the check
        assert is_valid_iban(number) == stdnum_iban.is_valid(number), number


def test_same_answer_on_known_numbers_and_national_checks():
    known = ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606",
             "BE68539007547034", "BE68539007547035", "ES9121000418450200051332", "ES9121000418450200051333",
             "NO9386011117947", "NO9386011117948", "ME25505000012345678951", "ME25505000012345678952",
             "NL91ABNA0417164300", "CH9300762011623852957", "DE89370400440532013001", "XX89370400440532013000"]
    answers = [is_valid_iban(n) for n in known]
    assert answers == [stdnum_iban.is_valid(n) for n in known]
    assert answers.count(True) >= 7  # the valid ones, national checks included, are accepted
