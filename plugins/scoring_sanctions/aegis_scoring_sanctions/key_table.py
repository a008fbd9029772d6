"""Blocking keys → list token ids, as flat arrays a numba kernel can search.

The index's blocking maps are Python dicts (``str`` key → token ids). :class:`KeyTable` holds the
same map as arrays: the keys' bytes (CSR), their token ids (CSR) and an open-addressing hash table
(FNV-1a) whose slots hold a key's number and 31 more bits of its hash, so a probe seldom reads a
key that cannot match. In front of it sits a one-bit-per-hash filter small enough to stay in the
CPU cache, so most absent keys (most one-deletion keys of a query token are) cost one cached read.

:func:`find` looks a key up — given as a slice of a byte array, optionally with one position left
out, so a one-deletion key is searched without being built — and compares the bytes, so a hash
collision never returns a wrong key.
"""

from __future__ import annotations

from itertools import chain
from typing import NamedTuple

import numpy as np
from numba import njit

_FNV_OFFSET = np.uint64(14695981039346656037)
_FNV_PRIME = np.uint64(1099511628211)
_KEY_BITS = np.int64(0xFFFFFFFF)
_TAG_BITS = np.int64(0x7FFFFFFF00000000)
_FILTER_BITS = 1 << 22  # 512 KiB


class KeyTable(NamedTuple):
    """A blocking map as arrays; pass it to kernels as it is (a tuple of arrays)."""

    key_chars: np.ndarray  # uint8, key k is key_chars[key_ptr[k]:key_ptr[k+1]]
    key_ptr: np.ndarray  # int64
    val_ptr: np.ndarray  # int64, key k's token ids are val_tok[val_ptr[k]:val_ptr[k+1]]
    val_tok: np.ndarray  # int32
    slots: np.ndarray  # int64, power-of-two size: hash bits << 32 | key number, or -1
    present: np.ndarray  # uint64 bit set over other hash bits: a 0 bit means no key has that hash

    @classmethod
    def build(cls, mapping: dict[str, tuple[int, ...]]) -> KeyTable:
        """The table of ``mapping`` (ASCII keys)."""
        keys = [key.encode("ascii") for key in mapping]
        key_ptr = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, keys), dtype=np.int64, count=len(keys)), out=key_ptr[1:])
        key_chars = np.frombuffer(b"".join(keys) or b"\0", dtype=np.uint8)
        sizes = np.fromiter(map(len, mapping.values()), dtype=np.int64, count=len(mapping))
        val_ptr = np.zeros(len(mapping) + 1, dtype=np.int64)
        np.cumsum(sizes, out=val_ptr[1:])
        val_tok = np.fromiter(chain.from_iterable(mapping.values()), dtype=np.int32, count=int(val_ptr[-1]))
        capacity = 1 << max(4, (2 * len(keys)).bit_length())
        slots, present = _fill_slots(key_chars, key_ptr, capacity)
        return cls(key_chars, key_ptr, val_ptr, val_tok, slots, present)


@njit(cache=True, nogil=True, inline="always")
def key_hash(chars, start, length, skip):
    """FNV-1a hash of ``chars[start:start+length]`` without the byte at offset ``skip`` (-1: none)."""
    h = _FNV_OFFSET
    for i in range(length):
        if i != skip:
            h ^= np.uint64(chars[start + i])
            h *= _FNV_PRIME
    return h


@njit(cache=True, nogil=True, inline="always")
def _tag(h):
    """31 bits of the hash (not those that choose the slot), shifted to the slot's upper half."""
    return np.int64((h >> np.uint64(33)) << np.uint64(32))


@njit(cache=True, nogil=True, inline="always")
def _filter_bit(h):
    """The key's bit in the ``present`` filter (hash bits 40 and up)."""
    return (h >> np.uint64(40)) & np.uint64(_FILTER_BITS - 1)


@njit(cache=True, nogil=True)
def _fill_slots(key_chars, key_ptr, capacity):
    slots = np.full(capacity, -1, dtype=np.int64)
    present = np.zeros(_FILTER_BITS // 64, dtype=np.uint64)
    mask = np.uint64(capacity - 1)
    for k in range(len(key_ptr) - 1):
        h = key_hash(key_chars, key_ptr[k], key_ptr[k + 1] - key_ptr[k], -1)
        i = h & mask
        while slots[i] != -1:
            i = (i + np.uint64(1)) & mask
        slots[i] = _tag(h) | k
        bit = _filter_bit(h)
        present[bit >> np.uint64(6)] |= np.uint64(1) << (bit & np.uint64(63))
    return slots, present


@njit(cache=True, nogil=True)
def find(table, chars, start, length, skip):
    """The key number of ``chars[start:start+length]`` (without offset ``skip``, -1: none), or -1."""
    key_chars, key_ptr, _, _, slots, present = table
    size = length - 1 if skip >= 0 else length
    mask = np.uint64(len(slots) - 1)
    h = key_hash(chars, start, length, skip)
    bit = _filter_bit(h)
    if not (present[bit >> np.uint64(6)] >> (bit & np.uint64(63))) & np.uint64(1):
        return -1
    tag = _tag(h)
    i = h & mask
    while slots[i] != -1:
        if slots[i] & _TAG_BITS != tag:
            i = (i + np.uint64(1)) & mask
            continue
        k = slots[i] & _KEY_BITS
        k0 = key_ptr[k]
        if key_ptr[k + 1] - k0 == size:
            same = True
            j = 0
            for p in range(length):
                if p == skip:
                    continue
                if key_chars[k0 + j] != chars[start + p]:
                    same = False
                    break
                j += 1
            if same:
                return k
        i = (i + np.uint64(1)) & mask
    return -1


#: :func:`find` inlined into the caller at numba's IR level (so it is never compiled, nor cached, on its
#: own): a loop that calls it many times (the split search's list-token tests) then skips the
#: reference counting a call on the table's arrays costs.
find_inline = njit(cache=True, nogil=True, inline="always")(find.py_func)
