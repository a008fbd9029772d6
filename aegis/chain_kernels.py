"""Compiled SHA-256 work of the audit chain: chaining a batch of records and growing the Merkle tree.

The kernels call OpenSSL's one-shot ``SHA256`` — the libcrypto this interpreter's ``hashlib``
already loaded, so the digests are those of :mod:`hashlib` and SHA extensions are used where the
CPU has them — from numba code that runs without the interpreter lock: while one batch is
hashed, the intake and delivery threads keep working. The results equal
:mod:`aegis.audit_chain`'s definitions byte for byte (tests compare them with hashlib).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from pathlib import Path

import llvmlite.binding as llvm
import numba
import numpy as np
from numba import types

#: ``"chain":{...}`` member texts around the sequence number and the two hashes.
_SEQ = np.frombuffer(b',"chain":{"seq":', dtype=np.uint8)
_PREV = np.frombuffer(b',"prev":"', dtype=np.uint8)
_HASH = np.frombuffer(b'","hash":"', dtype=np.uint8)
_CLOSE = np.frombuffer(b'"}}\n', dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
#: RFC 6962 prefixes of a leaf and of a node hash
_LEAF = np.zeros(1, dtype=np.uint8)
_NODE = np.ones(1, dtype=np.uint8)
#: bytes a chained line adds to its body at most (the body's closing brace is replaced)
LINE_OVERHEAD = len(_SEQ) + 20 + len(_PREV) + 64 + len(_HASH) + 64 + len(_CLOSE)


def _libcrypto() -> str:
    """Path of the libcrypto that :mod:`hashlib` uses (mapped into this process), else the system's."""
    import _hashlib  # noqa: F401  (loads libcrypto)

    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            found = re.search(r"(/\S*libcrypto\.so[.\d]*)$", line)
            if found:
                return found.group(1)
    name = ctypes.util.find_library("crypto")
    if name is None:
        raise ImportError("aegis: OpenSSL's libcrypto was not found; the audit chain hashes records with it "
                          "(on Debian: apt-get install libssl3)")
    return name


def _load_libcrypto() -> None:
    path = _libcrypto()
    missing = [f for f in ("SHA256_Init", "SHA256_Update", "SHA256_Final") if not hasattr(ctypes.CDLL(path), f)]
    if missing:
        raise ImportError(f"aegis: {path} does not export {', '.join(missing)} (needed to hash audit records)")
    llvm.load_library_permanently(path)


_load_libcrypto()
# OpenSSL's low-level SHA-256 calls (no algorithm lookup per digest, unlike the one-shot ``SHA256``
# in OpenSSL 3, which costs more than hashing a Merkle node); the context is a plain 112-byte struct.
_init = types.ExternalFunction("SHA256_Init", types.intc(types.voidptr))
_update = types.ExternalFunction("SHA256_Update", types.intc(types.voidptr, types.voidptr, types.uintp))
_final = types.ExternalFunction("SHA256_Final", types.intc(types.voidptr, types.voidptr))
_CONTEXT_BYTES = 128  # sizeof(SHA256_CTX) is 112
_memcpy = types.ExternalFunction("memcpy", types.voidptr(types.voidptr, types.voidptr, types.uintp))


@numba.njit(cache=True, nogil=True)
def _put(out, at, text):
    """Copy ``text`` (a contiguous uint8 array) into ``out`` at ``at``; returns where it ends."""
    _memcpy(out[at:].ctypes.data, text.ctypes.data, len(text))
    return at + len(text)


@numba.njit(cache=True, nogil=True)
def _sha256(context, first, second, third, out):
    """``out[:] = sha256(first || second || third)`` (contiguous uint8 arrays)."""
    _init(context.ctypes.data)
    _update(context.ctypes.data, first.ctypes.data, len(first))
    _update(context.ctypes.data, second.ctypes.data, len(second))
    _update(context.ctypes.data, third.ctypes.data, len(third))
    _final(out.ctypes.data, context.ctypes.data)


@numba.njit(cache=True, nogil=True)
def _subtrees(count):
    """How many perfect subtrees make up a tree of ``count`` leaves (its one bits)."""
    top = 0
    while count:
        top += count & 1
        count >>= 1
    return top


@numba.njit(cache=True, nogil=True)
def _merkle_add(context, roots, count, top, digest):
    """Append a record hash (``digest``, 32 bytes) to a tree of ``count`` leaves; returns its new ``top``.

    ``roots[:top]`` are the roots of the perfect subtrees that make up the tree, largest first, one
    per one bit of ``count``: the new leaf ``sha256(0x00 || digest)`` takes the next row and merges
    (``sha256(0x01 || left || right)``, into the left row) with as many as ``count`` has trailing
    one bits, one node hash per leaf amortised.
    """
    _sha256(context, _LEAF, digest, digest[:0], roots[top])
    while count & 1:
        top -= 1
        _sha256(context, _NODE, roots[top], roots[top + 1], roots[top])  # inputs are read before out is written
        count >>= 1
    return top + 1


@numba.njit(cache=True, nogil=True)
def merkle_extend(roots, count, digests):
    """Append the record hashes ``digests`` (``(n, 32)``) to the tree ``roots`` of ``count`` leaves
    (see :func:`_merkle_add`); returns the new count."""
    context = np.empty(_CONTEXT_BYTES, dtype=np.uint8)
    top = _subtrees(count)
    for i in range(len(digests)):
        top = _merkle_add(context, roots, count + i, top, digests[i])
    return count + len(digests)


@numba.njit(cache=True, nogil=True)
def chain_lines(bodies, lengths, head, first_seq, out, line_ends, hexes, roots, count):
    """Chain record bodies onto ``head`` (64 hex digits), write each stored line to ``out``, and
    append the record hashes to the Merkle tree ``roots`` of ``count`` leaves (:func:`merkle_extend`).

    ``bodies`` holds the bodies one after the other, body ``i`` being ``lengths[i]`` bytes (a JSON
    object). Its hash is ``sha256(prev || "\\n" || body)`` (hex in ``hexes[i]``); its line is the
    body with ``,"chain":{"seq":..,"prev":"..","hash":".."}`` added inside the closing brace,
    followed by a newline; ``line_ends[i]`` is where line ``i`` ends (before its newline).
    Returns the number of bytes written.
    """
    context = np.empty(_CONTEXT_BYTES, dtype=np.uint8)
    newline = np.full(1, 10, dtype=np.uint8)
    digest = np.empty(32, dtype=np.uint8)
    digits = np.empty(20, dtype=np.uint8)
    top = _subtrees(count)
    prev = head
    at = 0
    start = 0
    for i in range(len(lengths)):
        body = bodies[start:start + lengths[i]]
        _sha256(context, prev, newline, body, digest)
        top = _merkle_add(context, roots, count + i, top, digest)
        for k in range(32):
            hexes[i, 2 * k] = _HEX[digest[k] >> 4]
            hexes[i, 2 * k + 1] = _HEX[digest[k] & 15]
        at = _put(out, at, body[:-1])
        at = _put(out, at, _SEQ)
        seq, count_digits = first_seq + i, 0
        while True:
            digits[count_digits] = 48 + seq % 10
            seq //= 10
            count_digits += 1
            if seq == 0:
                break
        for k in range(count_digits):
            out[at + k] = digits[count_digits - 1 - k]
        at += count_digits
        at = _put(out, at, _PREV)
        at = _put(out, at, prev)
        at = _put(out, at, _HASH)
        at = _put(out, at, hexes[i])
        at = _put(out, at, _CLOSE)
        line_ends[i] = at - 1
        prev = hexes[i]
        start += lengths[i]
    return at
