"""The phonetic keys of :mod:`~aegis_scoring_sanctions.phonetic`, computed by numba on ASCII bytes.

:func:`variant_key`, :func:`spelling_key` and :func:`skeleton` write the key of
``chars[start:start+length]`` into ``out`` and return its length (0 for no key); ``tmp`` is scratch
of the same size. They give byte for byte the keys of the Python functions of the same names (the
tests compare them on every list token), which stay the definition; the fold and vowel tables are
built from those functions' constants.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from aegis_scoring_sanctions.phonetic import FOLDS, SKELETON_FOLDS, VOWEL_CLASS


def _csr(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=ptr[1:])
    return np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).copy(), ptr


_FOLD_PAT, _FOLD_PAT_PTR = _csr([a for a, _ in FOLDS])
_FOLD_REP, _FOLD_REP_PTR = _csr([b for _, b in FOLDS])
_SKEL_PAT, _SKEL_PAT_PTR = _csr([a for a, _ in SKELETON_FOLDS])
_SKEL_REP, _SKEL_REP_PTR = _csr([b for _, b in SKELETON_FOLDS])
_VOWEL_ONE = np.zeros(256, dtype=np.uint8)  # a one-letter vowel run → its class (0: kept)
_VOWEL_TWO = np.zeros(256 * 256, dtype=np.uint8)  # a two-letter vowel run → its class (0: kept)
for _run, _cls in VOWEL_CLASS.items():
    if len(_run) == 1:
        _VOWEL_ONE[ord(_run)] = ord(_cls)
    elif len(_run) == 2:
        _VOWEL_TWO[ord(_run[0]) * 256 + ord(_run[1])] = ord(_cls)
    else:
        raise ValueError(f"phonetic.VOWEL_CLASS: vowel run {_run!r} is longer than the kernel handles (2)")


@njit(cache=True, nogil=True)
def _is_vowel(c):
    return c == 97 or c == 101 or c == 105 or c == 111 or c == 117 or c == 121  # a e i o u y


@njit(cache=True, nogil=True)
def _is_letters(chars, start, length):
    for i in range(start, start + length):
        if chars[i] < 97 or chars[i] > 122:
            return False
    return True


@njit(cache=True, nogil=True)
def _replace_all(buf, n, pat, pat_ptr, rep, rep_ptr, tmp):
    """Apply each (pattern → replacement) in turn to ``buf[:n]``, like ``str.replace``; new length."""
    for r in range(len(pat_ptr) - 1):
        p0, plen = pat_ptr[r], pat_ptr[r + 1] - pat_ptr[r]
        r0, rlen = rep_ptr[r], rep_ptr[r + 1] - rep_ptr[r]
        m = 0
        i = 0
        while i < n:
            if i + plen <= n:
                match = True
                for k in range(plen):
                    if buf[i + k] != pat[p0 + k]:
                        match = False
                        break
                if match:
                    for k in range(rlen):
                        tmp[m + k] = rep[r0 + k]
                    m += rlen
                    i += plen
                    continue
            tmp[m] = buf[i]
            m += 1
            i += 1
        for k in range(m):
            buf[k] = tmp[k]
        n = m
    return n


@njit(cache=True, nogil=True)
def _collapse_doubles(buf, n):
    """Runs of one letter as one letter, in place; new length."""
    m = 0
    prev = -1
    for i in range(n):
        c = buf[i]
        if c != prev:
            buf[m] = c
            m += 1
        prev = c
    return m


@njit(cache=True, nogil=True)
def variant_key(chars, start, length, out, tmp):
    """:func:`aegis_scoring_sanctions.phonetic.variant_key` on bytes."""
    if length < 4 or not _is_letters(chars, start, length):
        return 0
    for i in range(length):
        tmp[i] = chars[start + i]
    n = _replace_all(tmp, length, _FOLD_PAT, _FOLD_PAT_PTR, _FOLD_REP, _FOLD_REP_PTR, out)
    m = 0
    i = 0
    while i < n:
        if _is_vowel(tmp[i]):
            out[m] = 97  # every vowel run as one "a"
            while i < n and _is_vowel(tmp[i]):
                i += 1
        else:
            out[m] = tmp[i]
            i += 1
        m += 1
    return _collapse_doubles(out, m)


@njit(cache=True, nogil=True)
def spelling_key(chars, start, length, out, tmp):
    """:func:`aegis_scoring_sanctions.phonetic.spelling_key` on bytes."""
    if length < 2 or not _is_letters(chars, start, length):
        return 0
    for i in range(length):
        tmp[i] = chars[start + i]
    n = _replace_all(tmp, length, _FOLD_PAT, _FOLD_PAT_PTR, _FOLD_REP, _FOLD_REP_PTR, out)
    m = 0
    i = 0
    if n > 1 and tmp[0] == 121 and tmp[1] != 121 and _is_vowel(tmp[1]):  # a leading y before a vowel
        out[0] = 121
        m = 1
        i = 1
    while i < n:
        if not _is_vowel(tmp[i]):
            out[m] = tmp[i]
            m += 1
            i += 1
            continue
        j = i
        while j < n and _is_vowel(tmp[j]):
            j += 1
        cls = 0
        if j - i == 1:
            cls = _VOWEL_ONE[tmp[i]]
        elif j - i == 2:
            cls = _VOWEL_TWO[tmp[i] * 256 + tmp[i + 1]]
        if cls:
            out[m] = cls
            m += 1
        else:
            for k in range(i, j):
                out[m] = tmp[k]
                m += 1
        i = j
    return _collapse_doubles(out, m)


@njit(cache=True, nogil=True)
def skeleton(chars, start, length, out, tmp):
    """:func:`aegis_scoring_sanctions.phonetic.skeleton` on bytes."""
    for i in range(length):
        tmp[i] = chars[start + i]
    n = _replace_all(tmp, length, _SKEL_PAT, _SKEL_PAT_PTR, _SKEL_REP, _SKEL_REP_PTR, out)
    m = 0
    for i in range(n):
        c = tmp[i]
        if not (_is_vowel(c) or c == 119 or c == 118):  # nor w, v
            out[m] = c
            m += 1
    return _collapse_doubles(out, m)
