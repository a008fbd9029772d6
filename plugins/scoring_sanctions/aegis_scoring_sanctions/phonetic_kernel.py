"""The phonetic keys of :mod:`~aegis_scoring_sanctions.phonetic`, computed by numba on ASCII bytes.

:func:`sound_key` (Metaphone), :func:`variant_key`, :func:`spelling_key` and :func:`skeleton` write the key of
``chars[start:start+length]`` into ``out`` and return its length (0 for no key); ``tmp`` is scratch
of the same size. They give byte for byte the keys of the Python functions of the same names (the
tests compare them on every list token and on mutated tokens), which stay the definition; the fold
and vowel tables are built from those functions' constants. :func:`sound_key` follows jellyfish's
Metaphone rule by rule (on lower-case ASCII letters, the only tokens that get one).
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
    """Apply each (pattern → replacement) in turn to ``buf[:n]``, like ``str.replace``; new length.

    A pattern is first searched for; the text before its first match is copied as it is, and a pattern
    that does not occur costs only the search.
    """
    for r in range(len(pat_ptr) - 1):
        p0, plen = pat_ptr[r], pat_ptr[r + 1] - pat_ptr[r]
        r0, rlen = rep_ptr[r], rep_ptr[r + 1] - rep_ptr[r]
        first = n
        for i in range(n - plen + 1):
            match = True
            for k in range(plen):
                if buf[i + k] != pat[p0 + k]:
                    match = False
                    break
            if match:
                first = i
                break
        if first == n:
            continue  # no match: buf unchanged
        for k in range(first):
            tmp[k] = buf[k]
        m = first
        i = first
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
def _folded(chars, start, length, shortest, out, tmp):
    """The token copied into ``tmp`` with the spelling folds applied; its new length, or 0 when the
    token is shorter than ``shortest`` or not all letters (then it has no key)."""
    if length < shortest or not _is_letters(chars, start, length):
        return 0
    for i in range(length):
        tmp[i] = chars[start + i]
    return _replace_all(tmp, length, _FOLD_PAT, _FOLD_PAT_PTR, _FOLD_REP, _FOLD_REP_PTR, out)


@njit(cache=True, nogil=True)
def variant_key(chars, start, length, out, tmp):
    """:func:`aegis_scoring_sanctions.phonetic.variant_key` on bytes."""
    n = _folded(chars, start, length, 4, out, tmp)
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
    n = _folded(chars, start, length, 2, out, tmp)
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


@njit(cache=True, nogil=True)
def _is_aeiou(c):
    return c == 97 or c == 101 or c == 105 or c == 111 or c == 117


@njit(cache=True, nogil=True)
def _is_iey(c):
    return c == 105 or c == 101 or c == 121


@njit(cache=True, nogil=True)
def sound_key(chars, start, length, out):
    """:func:`aegis_scoring_sanctions.phonetic.sound_key` (jellyfish's Metaphone) on bytes.

    ``nxt``/``after`` are 0 past the end of the token (where jellyfish's rules see no letter).
    """
    if length < 3 or not _is_letters(chars, start, length):
        return 0
    c0, c1 = chars[start], chars[start + 1]
    if ((c1 == 110 and (c0 == 107 or c0 == 103 or c0 == 112))  # kn gn pn
            or (c0 == 119 and c1 == 114) or (c0 == 97 and c1 == 101)):  # wr ae
        start += 1
        length -= 1
    m = 0
    i = 0
    while i < length:
        c = chars[start + i]
        nxt = chars[start + i + 1] if i < length - 1 else 0
        after = chars[start + i + 2] if i < length - 2 else 0
        prev = chars[start + i - 1] if i > 0 else 0
        if c == nxt and c != 99:  # doubles skipped, except cc
            i += 1
            continue
        if _is_aeiou(c):
            if i == 0:
                out[m] = c - 32
                m += 1
        elif c == 98:  # b, silent in a final "mb"
            if prev != 109 or nxt != 0:
                out[m] = 66
                m += 1
        elif c == 99:  # c
            if (nxt == 105 and after == 97) or nxt == 104:
                out[m] = 88  # X
                m += 1
                i += 1
            elif _is_iey(nxt):
                out[m] = 83  # S
                m += 1
                i += 1
            else:
                out[m] = 75  # K
                m += 1
        elif c == 100:  # d
            if nxt == 103 and _is_iey(after):
                out[m] = 74  # J
                m += 1
                i += 2
            else:
                out[m] = 84  # T
                m += 1
        elif c == 102 or c == 106 or c == 108 or c == 109 or c == 110 or c == 114:  # f j l m n r
            out[m] = c - 32
            m += 1
        elif c == 103:  # g
            if _is_iey(nxt):
                out[m] = 74  # J
                m += 1
            elif nxt == 104 and not _is_aeiou(after):
                i += 1
            elif nxt == 110 and after == 0:  # a final "gn" is silent
                i += 1
            else:
                out[m] = 75  # K
                m += 1
        elif c == 104:  # h
            if i == 0 or _is_aeiou(nxt) or not _is_aeiou(prev):
                out[m] = 72
                m += 1
        elif c == 107:  # k
            if i == 0 or prev != 99:
                out[m] = 75
                m += 1
        elif c == 112:  # p
            if nxt == 104:
                out[m] = 70  # F
                m += 1
                i += 1
            else:
                out[m] = 80
                m += 1
        elif c == 113:  # q
            out[m] = 75
            m += 1
        elif c == 115:  # s
            if nxt == 104:
                out[m] = 88
                m += 1
                i += 1
            elif nxt == 105 and (after == 111 or after == 97):
                out[m] = 88
                m += 1
                i += 2
            else:
                out[m] = 83
                m += 1
        elif c == 116:  # t
            if nxt == 105 and (after == 111 or after == 97):
                out[m] = 88
                m += 1
            elif nxt == 104:
                out[m] = 48  # "0" (th)
                m += 1
                i += 1
            elif nxt != 99 or after != 104:
                out[m] = 84
                m += 1
        elif c == 118:  # v
            out[m] = 70
            m += 1
        elif c == 119:  # w
            if i == 0 and nxt == 104:
                i += 1
                out[m] = 87
                m += 1
            elif _is_aeiou(nxt):
                out[m] = 87
                m += 1
        elif c == 120:  # x
            if i == 0:
                out[m] = 88 if nxt == 104 or (nxt == 105 and (after == 111 or after == 97)) else 83
                m += 1
            else:
                out[m] = 75
                out[m + 1] = 83
                m += 2
        elif c == 121:  # y
            if _is_aeiou(nxt):
                out[m] = 89
                m += 1
        elif c == 122:  # z
            out[m] = 83
            m += 1
        i += 1
    return m
