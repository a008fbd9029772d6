"""Name normalisation: one function turns a list name or a query into comparable tokens.

Unicode NFKC, transliteration of every script to ASCII with ``anyascii`` (Han and Hangul one
syllable per token, so ``习近平`` meets ``XI Jinping`` through joined-token matching), case folding,
punctuation removed (``CH'OE`` → ``choe``, ``AL-QAIDA`` → ``al qaida``), and honorifics and legal
forms dropped (``Mr``, ``Sheikh``, ``Ltd``, ``GmbH``). Names from scripts that do not write short
vowels (Arabic, Persian, Hebrew) are flagged: their tokens are compared by consonant skeleton.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from anyascii import anyascii

#: Titles and honorifics: not part of a name.
HONORIFICS = frozenset("""
mr mrs ms miss mister madam dr doctor prof professor sir dame lord lady sheikh shaikh sheik shaykh
haji hajji hadji alhaji hajj mullah mulla maulavi mawlawi maulvi moulavi maulana mawlana moulana qari
hon honorable honourable rev reverend imam ayatollah hojatoleslam gen general col colonel maj brig
brigadier lt lieutenant capt captain cmdr commander adm admiral sgt sergeant
""".split())

#: Legal forms of companies: not part of a name.
LEGAL_FORMS = frozenset("""
ltd limited llc lllp llp lp inc incorporated corp corporation co company cia gmbh mbh ag kg ohg ug sa sas
sarl srl spa sl bv nv plc pty pte sdn bhd jsc ojsc cjsc pjsc ooo oao zao pao tov fze fzco fzc fzllc
kft zrt sro doo dd ad ab oy oyj asa aps sae saog saoc wll bsc psc est establishment
""".split())

#: Words a name's tokens are rid of: honorifics and legal forms.
_DROPPED = HONORIFICS | LEGAL_FORMS

#: Particles and articles: kept, but they carry little evidence.
PARTICLES = frozenset("al el ul ud ad ar as an at az ash bin ibn bint ben bon de da di del della la le "
                      "van von der den dos das du y e and of the".split())

#: Characters dropped inside a token (``CH'OE`` → ``choe``), as a ``str.translate`` table.
_JOIN = str.maketrans("", "", ".'`´’‘ʻʼ")
_SPLIT = re.compile(r"[^a-z0-9]+")
#: The same two steps for ASCII text (what transliteration gives), as one ``bytes.translate``: the
#: ASCII characters of ``_JOIN`` deleted, every byte but ``[a-z0-9]`` made a space (split on after).
_ASCII_JOIN = b".'`"
_ASCII_SPACES = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789" else 32 for c in range(256))
#: Arabic letters anyascii renders unhelpfully: ta marbuta and alef maksura are vowels at a word's end.
_ARABIC_MAP = str.maketrans({"ة": "a", "ى": "a", "ء": "", "ٱ": "a", "أ": "a", "إ": "i", "آ": "a"})
#: Arabic-script particles as anyascii writes them (without vowels) → their usual Latin spelling.
_ABJAD_PARTICLES = {"bn": "bin", "bnt": "bint", "abw": "abu", "bw": "abu", "abn": "ibn"}


#: Letters of scripts written without short vowels: Hebrew, Arabic (and Persian), their presentation forms.
_ABJAD = re.compile("[\u0590-\u06FF\u0750-\u077F\uFB1D-\uFDFF\uFE70-\uFEFF]")
#: Han ideographs and Hangul syllables: one syllable each.
_SYLLABIC = re.compile("[\u4E00-\u9FFF\u3400-\u4DBF\uAC00-\uD7AF\uF900-\uFAFF]")


@dataclass(frozen=True, slots=True)
class NormalizedName:
    """A name as tokens, and whether it was written without short vowels (Arabic script)."""

    tokens: tuple[str, ...]
    abjad: bool = False

    @property
    def key(self) -> str:
        """Order-free identity of the name (sorted tokens), e.g. for dispositions."""
        return " ".join(sorted(self.tokens))


class _Transliteration(dict):
    """Code point → ``anyascii`` of that one character, filled as characters are met.

    ``anyascii`` transliterates character by character, so ``text.translate`` with this table gives
    what ``anyascii(text)`` gives, with the loop in C.
    """

    def __missing__(self, code_point: int) -> str:
        value = self[code_point] = anyascii(chr(code_point))
        return value


_TRANSLITERATION = _Transliteration()


class _SpacedTransliteration(dict):
    """Code point → its :data:`_TRANSLITERATION`, set apart by spaces for a Han or Hangul syllable.

    One ``str.translate`` with this table gives what spacing the syllables (``_SYLLABIC``) and then
    transliterating gives.
    """

    def __missing__(self, code_point: int) -> str:
        value = _TRANSLITERATION[code_point]
        if _SYLLABIC.match(chr(code_point)):
            value = f" {value} "
        self[code_point] = value
        return value


_SPACED_TRANSLITERATION = _SpacedTransliteration()


def to_ascii(text: str) -> tuple[str, bool]:
    """NFKC, script-aware transliteration to lower-case ASCII; also says whether the text was abjad."""
    abjad = False
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        if _ABJAD.search(text):
            abjad = True
            text = text.translate(_ARABIC_MAP)
        text = text.translate(_SPACED_TRANSLITERATION)  # Han and Hangul syllables spaced apart
    return text.lower(), abjad


def normalize(text: str) -> NormalizedName:
    """Tokens of a name: transliterated, case-folded, without punctuation, titles or legal forms."""
    ascii_text, abjad = to_ascii(text)
    if ascii_text.isascii():  # always, as transliterated: the bytes path gives the same tokens, faster
        tokens = ascii_text.encode("ascii").translate(_ASCII_SPACES, _ASCII_JOIN).decode("ascii").split()
    else:
        tokens = _SPLIT.split(ascii_text.translate(_JOIN))
    if abjad:
        tokens = [_ABJAD_PARTICLES.get(t, t) for t in tokens]
    kept = [t for t in tokens if t and t not in _DROPPED]
    if not kept:  # a name made only of such words is still a name
        kept = [t for t in tokens if t]
    return NormalizedName(tuple(kept), abjad)
