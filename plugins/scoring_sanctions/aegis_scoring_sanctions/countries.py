"""Country names as the lists and queries write them → ISO 3166-1 alpha-2 codes."""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry
from anyascii import anyascii

#: Names the lists use that ISO 3166 does not (short forms, inverted forms, territories, adjectives).
_EXTRA = {
    "russia": "RU", "iran": "IR", "syria": "SY", "burma": "MM", "laos": "LA", "vietnam": "VN",
    "korea north": "KP", "north korea": "KP", "dprk": "KP", "korea south": "KR", "south korea": "KR",
    "ivory coast": "CI", "cote d ivoire": "CI", "palestinian": "PS", "state of palestine": "PS",
    "palestine": "PS", "west bank": "PS", "gaza": "PS", "region crimea": "UA", "crimea": "UA",
    "kosovo": "XK", "congo democratic republic of the": "CD", "democratic republic of the congo": "CD",
    "congo republic of the": "CG", "republic of the congo": "CG", "the gambia": "GM", "gambia the": "GM",
    "bahamas the": "BS", "the bahamas": "BS", "tanzania": "TZ", "turkey": "TR", "turkiye": "TR",
    "czech republic": "CZ", "macedonia": "MK", "brunei": "BN", "taiwan": "TW", "hong kong": "HK",
    "netherlands antilles": "CW", "virgin islands british": "VG", "british virgin islands": "VG",
    "united states": "US", "usa": "US", "united kingdom": "GB", "uk": "GB", "great britain": "GB",
    "former soviet union": "RU", "ussr": "RU", "bolivia": "BO", "venezuela": "VE", "moldova": "MD",
    "micronesia": "FM", "cape verde": "CV", "swaziland": "SZ", "east timor": "TL", "vatican": "VA",
}


def _key(text: str) -> str:
    text = anyascii(text).lower()
    text = re.sub(r"\(([^)]*)\)", r" \1 ", text)  # "Iran (Islamic Republic of)" → "iran islamic republic of"
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        table[country.alpha_2.lower()] = code
        table[country.alpha_3.lower()] = code
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                table[_key(value)] = code
                # "Iran, Islamic Republic of" → also "iran"; "Korea, Republic of" is left to _EXTRA
                head = _key(value.split(",")[0])
                table.setdefault(head, code)
    table.update(_EXTRA)
    return table


@lru_cache(maxsize=4096)
def country_code(name: str | None) -> str | None:
    """The alpha-2 code of a country name, code or adjective the lists use; ``None`` if unknown."""
    if not name or not name.strip():
        return None
    key = _key(name)
    table = _table()
    if key in table:
        return table[key]
    # "Iran (Islamic Republic of)" → "iran islamic republic of": try the words before "islamic republic"
    head = key.split(" ")[0]
    return table.get(head) if len(head) > 3 else None
