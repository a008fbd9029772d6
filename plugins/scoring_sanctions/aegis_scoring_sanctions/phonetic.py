"""Phonetic keys of name tokens, for candidate blocking and spelling-variant similarity.

* :func:`sound_key` — Metaphone (``jellyfish``): ``mohammed`` and ``muhammad`` share ``MHMT``.
* :func:`variant_key` — transliteration variants folded: ``zh``/``dj``/``j``, ``dh``/``z``, ``kh``/``h``,
  ``q``/``k``, ``ph``/``f``, ``w``/``v`` and every vowel run (``y`` included) as one ``a``:
  ``jibril``/``zhibril``, ``nazirullah``/``nadhirullah``, ``yahia``/``iiahia`` share a key.
* :func:`spelling_key` — the same consonant folds, but vowels kept by sound class (``ee``/``i``/``y``,
  ``oo``/``ou``/``u``): finer, so it is used on short tokens too: ``kim``/``keem``/``qim``,
  ``ri``/``ry``, ``mun``/``moon``, ``jin``/``jeen``/``jyn`` share a key; ``ri``/``ra`` do not.
* :func:`skeleton` — the consonant skeleton, how names written without short vowels (Arabic, Persian)
  compare with their Latin spellings: ``mhmd`` (محمد) and ``muhammad`` share ``mhmd``; ``hsyn`` (حسین)
  and ``hussein`` share ``hsn``.

:mod:`~aegis_scoring_sanctions.phonetic_kernel` computes the same keys (all but Metaphone) on bytes,
inside the token-matching kernel; this module is their definition.
"""

from __future__ import annotations

import re
from functools import lru_cache

import jellyfish

_WEAK = re.compile(r"[aeiouywv]+")
_DOUBLE = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
def sound_key(token: str) -> str:
    """Metaphone key of a Latin token (empty for tokens shorter than 3 letters or with digits)."""
    if len(token) < 3 or not token.isalpha():
        return ""
    return jellyfish.metaphone(token)


#: Consonant folds of transliteration variants, applied in this order (``str.replace`` each).
FOLDS = (("tch", "ch"), ("dzh", "j"), ("zh", "j"), ("dj", "j"), ("kh", "h"), ("gh", "g"), ("ph", "f"),
         ("dh", "z"), ("th", "t"), ("ck", "k"), ("q", "k"), ("w", "v"))
_VOWELS = re.compile(r"[aeiouy]+")


@lru_cache(maxsize=65536)
def variant_key(token: str) -> str:
    """Transliteration-variant key of a Latin token (empty below 4 letters or with digits)."""
    if len(token) < 4 or not token.isalpha():
        return ""
    for a, b in FOLDS:
        token = token.replace(a, b)
    return _DOUBLE.sub(r"\1", _VOWELS.sub("a", token))


_RUNS = re.compile(r"[aeiouy]+|[^aeiouy]+")
#: Vowel runs of the spelling key by sound class (runs not listed are kept as they are).
VOWEL_CLASS = {"i": "i", "y": "i", "ee": "i", "ie": "i", "ii": "i", "iy": "i", "yi": "i", "ey": "i",
               "u": "u", "ou": "u", "oo": "u", "uu": "u", "ue": "u", "o": "o", "oh": "o", "a": "a", "aa": "a",
               "e": "e"}


@lru_cache(maxsize=65536)
def spelling_key(token: str) -> str:
    """Romanisation-variant key: consonants folded, vowel runs by sound class (empty with digits)."""
    if len(token) < 2 or not token.isalpha():
        return ""
    for a, b in FOLDS:
        token = token.replace(a, b)
    head = ""
    if len(token) > 1 and token[0] == "y" and token[1] in "aeiou":  # a leading y before a vowel is a consonant
        head, token = "y", token[1:]
    out = [head]
    for run in _RUNS.findall(token):
        out.append(VOWEL_CLASS.get(run, run) if run[0] in "aeiouy" else run)
    return _DOUBLE.sub(r"\1", "".join(out))


#: Folds of the consonant skeleton, applied in this order.
SKELETON_FOLDS = (("dj", "j"), ("q", "k"), ("ph", "f"))


@lru_cache(maxsize=65536)
def skeleton(token: str) -> str:
    """Consonant skeleton: vowels and the weak letters w, y, v dropped, q → k, dj → j, doubles collapsed."""
    for a, b in SKELETON_FOLDS:
        token = token.replace(a, b)
    return _DOUBLE.sub(r"\1", _WEAK.sub("", token))
