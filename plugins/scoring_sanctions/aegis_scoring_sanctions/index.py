"""The in-memory blocking index over every name and alias of the loaded lists.

Built once per list version and never changed (a reload builds a new one and swaps it). It holds

* a vocabulary of normalised name tokens with an evidence weight each (inverse document frequency,
  less for particles such as ``al`` or ``bin``),
* every listed name as token ids (CSR arrays) with its entry, kind and weak flag,
* postings: token id → names containing it (CSR arrays), and
* blocking keys → token ids: one-deletion neighbourhoods (typos, transpositions), Metaphone keys
  (spelling variants) and consonant skeletons (names written without short vowels).

Candidate generation therefore looks up a handful of keys per query token: never all pairs.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from aegis_scoring_sanctions.entries import AIRCRAFT, KINDS, VESSEL, ListEntry, SanctionsList
from aegis_scoring_sanctions.normalize import PARTICLES, normalize
from aegis_scoring_sanctions.phonetic import skeleton, sound_key, spelling_key, variant_key

#: Evidence weight of a particle relative to its inverse document frequency.
PARTICLE_FACTOR = 0.3
#: Tokens at least this long get a one-deletion neighbourhood in the index.
MIN_DELETE_LEN = 3
#: Phonetic keys shorter than this say too little to block on.
MIN_KEY_LEN = 3
#: Consonant skeletons (of Arabic-script queries) this short still block: ``bn``, ``sm`` (usama).
MIN_SKELETON_LEN = 2
#: Names and queries are cut to this many tokens (the scoring kernel aligns them with 64-bit masks).
MAX_TOKENS = 40

KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}
NON_PERSON_CODES = (KIND_CODES[VESSEL], KIND_CODES[AIRCRAFT])


def deletions(token: str) -> list[str]:
    """The strings one deletion away from ``token``."""
    return [token[:i] + token[i + 1:] for i in range(len(token))]


@dataclass
class NameIndex:
    """Arrays and blocking maps over the names of ``entries``; see the module docstring."""

    entries: list[ListEntry]
    versions: dict[str, str]  # list name → version
    vocab: dict[str, int]
    tokens: list[str]
    token_weight: np.ndarray  # float64 per token id
    token_first: np.ndarray  # int32: first character code per token id
    token_len: np.ndarray  # int32: length per token id
    name_entry: np.ndarray  # int32 per name id → entry index
    name_alias: np.ndarray  # int32 per name id → index into entry.names
    name_weak: np.ndarray  # bool per name id
    name_kind: np.ndarray  # int8 per name id (KIND_CODES)
    name_ptr: np.ndarray  # int64, names' token ids are name_tok[name_ptr[n]:name_ptr[n+1]]
    name_tok: np.ndarray  # int32
    post_ptr: np.ndarray  # int64, names holding token t are post_name[post_ptr[t]:post_ptr[t+1]]
    post_name: np.ndarray  # int32
    deletes: dict[str, tuple[int, ...]]
    sounds: dict[str, tuple[int, ...]]
    variants: dict[str, tuple[int, ...]]
    spellings: dict[str, tuple[int, ...]]
    skeletons: dict[str, tuple[int, ...]]
    unknown_weight: float
    build_seconds: float = 0.0
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def n_names(self) -> int:
        return len(self.name_entry)

    def name_text(self, name_id: int) -> str:
        entry = self.entries[int(self.name_entry[name_id])]
        return entry.names[int(self.name_alias[name_id])].text

    def entry_of(self, name_id: int) -> ListEntry:
        return self.entries[int(self.name_entry[name_id])]

    def weight(self, token: str) -> float:
        """Evidence weight of a query token: its list weight, or that of a token no list holds."""
        tid = self.vocab.get(token)
        return float(self.token_weight[tid]) if tid is not None else self.unknown_weight

    @property
    def version(self) -> str:
        """The combined version string of every loaded list (``;``-separated, in load order)."""
        return ";".join(self.versions.values())

    def memory_bytes(self) -> int:
        """Approximate bytes held by the arrays and blocking maps (not the entries themselves)."""
        arrays = sum(a.nbytes for a in (self.token_weight, self.token_first, self.token_len, self.name_entry,
                                        self.name_alias, self.name_weak, self.name_kind, self.name_ptr,
                                        self.name_tok, self.post_ptr, self.post_name))
        per_key = 120  # a small str key, a tuple and a dict slot
        maps = sum(len(m) * per_key + sum(8 * len(v) for v in m.values())
                   for m in (self.deletes, self.sounds, self.skeletons, self.variants, self.spellings))
        return arrays + maps + len(self.vocab) * 110

    @classmethod
    def build(cls, lists: list[SanctionsList]) -> NameIndex:
        """Normalise every name of every entry of ``lists`` and build the arrays and maps."""
        start = time.perf_counter()
        entries: list[ListEntry] = [e for lst in lists for e in lst.entries]
        vocab: dict[str, int] = {}
        tokens: list[str] = []
        name_entry: list[int] = []
        name_alias: list[int] = []
        name_weak: list[bool] = []
        name_kind: list[int] = []
        name_ptr: list[int] = [0]
        name_tok: list[int] = []
        for e_idx, entry in enumerate(entries):
            seen: set[tuple[str, ...]] = set()
            kind = KIND_CODES[entry.kind]
            for a_idx, listed in enumerate(entry.names):
                toks = normalize(listed.text).tokens[:MAX_TOKENS]
                if not toks or toks in seen:
                    continue
                seen.add(toks)
                for tok in toks:
                    tid = vocab.get(tok)
                    if tid is None:
                        tid = vocab[tok] = len(tokens)
                        tokens.append(tok)
                    name_tok.append(tid)
                name_ptr.append(len(name_tok))
                name_entry.append(e_idx)
                name_alias.append(a_idx)
                name_weak.append(listed.weak)
                name_kind.append(kind)
        n_names = len(name_entry)
        tok_arr = np.asarray(name_tok, dtype=np.int32)
        ptr_arr = np.asarray(name_ptr, dtype=np.int64)
        # Postings (each name once per token) and document frequencies.
        owners = np.repeat(np.arange(n_names, dtype=np.int32), np.diff(ptr_arr))
        pairs = np.unique(np.stack([tok_arr.astype(np.int64), owners.astype(np.int64)], axis=1), axis=0) \
            if n_names else np.zeros((0, 2), dtype=np.int64)
        df = np.bincount(pairs[:, 0], minlength=len(tokens)).astype(np.int64)
        post_ptr = np.zeros(len(tokens) + 1, dtype=np.int64)
        np.cumsum(df, out=post_ptr[1:])
        post_name = pairs[:, 1].astype(np.int32)
        idf = np.log((n_names + 1) / (df + 1)) + 1.0
        particle = np.array([t in PARTICLES or len(t) == 1 for t in tokens], dtype=bool)
        weight = np.where(particle, idf * PARTICLE_FACTOR, idf)
        first = np.array([ord(t[0]) for t in tokens], dtype=np.int32)
        length = np.array([len(t) for t in tokens], dtype=np.int32)
        deletes: dict[str, list[int]] = defaultdict(list)
        sounds: dict[str, list[int]] = defaultdict(list)
        skeletons: dict[str, list[int]] = defaultdict(list)
        variants: dict[str, list[int]] = defaultdict(list)
        spellings: dict[str, list[int]] = defaultdict(list)
        for tid, tok in enumerate(tokens):
            if len(tok) >= MIN_DELETE_LEN:
                deletes[tok].append(tid)
                for d in set(deletions(tok)):
                    deletes[d].append(tid)
            if key := sound_key(tok):
                sounds[key].append(tid)
            if len(key := variant_key(tok)) >= MIN_KEY_LEN:
                variants[key].append(tid)
            if key := spelling_key(tok):
                spellings[key].append(tid)
            if len(key := skeleton(tok)) >= MIN_SKELETON_LEN:
                skeletons[key].append(tid)
        index = cls(
            entries=entries, versions={lst.list_name: lst.version for lst in lists}, vocab=vocab, tokens=tokens,
            token_weight=weight, token_first=first, token_len=length,
            name_entry=np.asarray(name_entry, dtype=np.int32), name_alias=np.asarray(name_alias, dtype=np.int32),
            name_weak=np.asarray(name_weak, dtype=bool), name_kind=np.asarray(name_kind, dtype=np.int8),
            name_ptr=ptr_arr, name_tok=tok_arr, post_ptr=post_ptr, post_name=post_name,
            deletes={k: tuple(v) for k, v in deletes.items()}, sounds={k: tuple(v) for k, v in sounds.items()},
            skeletons={k: tuple(v) for k, v in skeletons.items()},
            variants={k: tuple(v) for k, v in variants.items()},
            spellings={k: tuple(v) for k, v in spellings.items()},
            unknown_weight=math.log(n_names + 1) + 1.0,
        )
        index.build_seconds = time.perf_counter() - start
        index.stats = {"entries": len(entries), "names": n_names, "tokens": len(tokens),
                       "delete_keys": len(deletes), "sound_keys": len(sounds), "variant_keys": len(variants),
                       "spelling_keys": len(spellings),
                       "skeleton_keys": len(skeletons)}
        return index
