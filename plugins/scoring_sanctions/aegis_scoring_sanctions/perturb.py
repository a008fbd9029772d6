"""Perturbed names for measuring recall: how listed names arrive in real payment messages.

Each perturbed name applies one to ``max_ops`` operations, chosen at random (seeded):

* ``typo`` — a letter substituted (keyboard neighbour), inserted or deleted;
* ``transpose`` — two adjacent letters swapped;
* ``reorder`` — tokens reordered (``SURNAME Given``, rotated or shuffled);
* ``diacritics`` — diacritics dropped, or added where a letter commonly carries one;
* ``transliterate`` — a spelling variant (``ou``/``u``, ``ee``/``i``, ``y``/``i``, ``kh``/``h``,
  ``q``/``k``, ``j``/``dj``, ``ph``/``f``, ``al-``/``el-``, ``mohammed``/``muhammad`` ...);
* ``initials`` — a given name reduced to its initial (``M. Ali``);
* ``join_split`` — two tokens joined (``ABDUL RAHMAN`` → ``ABDULRAHMAN``) or a hyphen split;
* ``case`` — case changed (lower, title).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

OPERATIONS = ("typo", "transpose", "reorder", "diacritics", "transliterate", "initials", "join_split", "case")

_KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_KEYBOARD):
    for _c, _ch in enumerate(_row):
        near = [_row[_c - 1] if _c > 0 else "", _row[_c + 1] if _c + 1 < len(_row) else ""]
        for _other in (_r - 1, _r + 1):
            if 0 <= _other < len(_KEYBOARD):
                near += [_KEYBOARD[_other][k] for k in (_c - 1, _c) if 0 <= k < len(_KEYBOARD[_other])]
        _NEIGHBOURS[_ch] = "".join(n for n in near if n)

#: Spelling variants seen between transliterations of the same name (both directions are used).
VARIANTS = [("ou", "u"), ("oo", "u"), ("ee", "i"), ("y", "i"), ("kh", "h"), ("q", "k"), ("j", "dj"),
            ("ph", "f"), ("sh", "ch"), ("dh", "z"), ("w", "ou"), ("ai", "ei"), ("ie", "i"), ("ck", "k"),
            ("mohammed", "muhammad"), ("mohammad", "mohamed"), ("abdul", "abd al"), ("abdel", "abdul"),
            ("hussein", "husain"), ("osama", "usama"), ("yusuf", "youssef"), ("al-", "el-"), ("al-", "al "),
            ("ahmed", "ahmad"), ("omar", "umar"), ("aleksandr", "alexander"), ("evgeniy", "yevgeny"),
            ("ii", "y"), ("iy", "y"), ("ks", "x"), ("tch", "ch"), ("zh", "j"), ("a", "e")]
_ACCENTS = {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "c": "ç", "n": "ñ", "s": "ş"}


def _keep_case(template: str, text: str) -> str:
    return text.upper() if template.isupper() else text


def _tokens(name: str) -> list[str]:
    return name.split()


def _word_positions(name: str, min_len: int = 4) -> list[int]:
    """Start indexes of tokens long enough to perturb."""
    out, pos = [], 0
    for tok in name.split(" "):
        if len(tok) >= min_len and tok.isalpha():
            out.append(pos)
        pos += len(tok) + 1
    return out


def typo(name: str, rng: random.Random) -> str:
    starts = _word_positions(name)
    if not starts:
        return name
    start = rng.choice(starts)
    end = name.find(" ", start)
    end = len(name) if end < 0 else end
    i = rng.randrange(start + 1, end)  # keep the first letter: typos there are rarer
    ch = name[i]
    kind = rng.choice(("sub", "ins", "del"))
    near = _NEIGHBOURS.get(ch.lower(), "e")
    new = _keep_case(ch, rng.choice(near)) if ch.isupper() else rng.choice(near)
    if kind == "sub":
        return name[:i] + new + name[i + 1:]
    if kind == "ins":
        return name[:i] + new + name[i:]
    return name[:i] + name[i + 1:]


def transpose(name: str, rng: random.Random) -> str:
    starts = _word_positions(name)
    if not starts:
        return name
    start = rng.choice(starts)
    end = name.find(" ", start)
    end = len(name) if end < 0 else end
    spots = [i for i in range(start + 1, end - 1) if name[i] != name[i + 1]]
    if not spots:
        return name
    i = rng.choice(spots)
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def reorder(name: str, rng: random.Random) -> str:
    toks = _tokens(name)
    if len(toks) < 2:
        return name
    style = rng.choice(("surname_first", "rotate", "shuffle"))
    if style == "surname_first":
        toks = [toks[-1] + ",", *toks[:-1]]
    elif style == "rotate":
        k = rng.randrange(1, len(toks))
        toks = toks[k:] + toks[:k]
    else:
        rng.shuffle(toks)
    return " ".join(toks)


def diacritics(name: str, rng: random.Random) -> str:
    stripped = "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))
    if stripped != name:
        return stripped
    spots = [i for i, c in enumerate(name) if c.lower() in _ACCENTS]
    if not spots:
        return name
    out = list(name)
    for i in rng.sample(spots, k=min(len(spots), rng.randint(1, 2))):
        accent = _ACCENTS[name[i].lower()]
        out[i] = accent.upper() if name[i].isupper() else accent
    return "".join(out)


def transliterate(name: str, rng: random.Random) -> str:
    lower = name.lower()
    options = [(a, b) for a, b in VARIANTS if a in lower] + [(b, a) for a, b in VARIANTS if b in lower]
    if not options:
        return name
    a, b = rng.choice(options)
    starts = [i for i in range(len(lower)) if lower.startswith(a, i)]
    i = rng.choice(starts)
    piece = name[i:i + len(a)]
    return name[:i] + (b.upper() if piece.isupper() else b) + name[i + len(a):]


def initials(name: str, rng: random.Random) -> str:
    toks = _tokens(name)
    candidates = [i for i, t in enumerate(toks[:-1]) if len(t) > 2 and t.isalpha()]
    if len(toks) < 3 or not candidates:
        return name
    i = rng.choice(candidates)
    toks[i] = toks[i][0] + "."
    return " ".join(toks)


def join_split(name: str, rng: random.Random) -> str:
    if "-" in name:
        return name.replace("-", rng.choice((" ", "")), 1)
    toks = _tokens(name)
    if len(toks) < 3:
        return name
    i = rng.randrange(len(toks) - 1)
    return " ".join([*toks[:i], toks[i] + toks[i + 1], *toks[i + 2:]])


def case(name: str, rng: random.Random) -> str:
    return rng.choice((name.lower(), name.title(), name.upper()))


_OPS: dict[str, Callable[[str, random.Random], str]] = {
    "typo": typo, "transpose": transpose, "reorder": reorder, "diacritics": diacritics,
    "transliterate": transliterate, "initials": initials, "join_split": join_split, "case": case,
}


def perturb(name: str, rng: random.Random, max_ops: int = 2,
            operations: tuple[str, ...] = OPERATIONS) -> tuple[str, tuple[str, ...]]:
    """``name`` with one to ``max_ops`` operations applied that change it; returns it and the operations."""
    applied: list[str] = []
    out = name
    for _ in range(rng.randint(1, max_ops)):
        for _attempt in range(8):
            op = rng.choice(operations)
            changed = _OPS[op](out, rng)
            if changed != out:
                out = changed
                applied.append(op)
                break
    return out, tuple(applied)
