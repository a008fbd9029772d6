"""The Merkle tree and inclusion proofs of aegis.audit_chain (RFC 6962 shape)."""

from __future__ import annotations

import hashlib
import random

import pytest

from aegis.audit_chain import (
    GENESIS,
    Chain,
    ChainHead,
    MerkleAccumulator,
    _leaf,
    _node,
    _split,
    inclusion_proof,
    merkle_root,
    record_hash,
    split_line,
    verify_inclusion,
)


def rfc6962_root(leaves: list[bytes]) -> bytes:
    """The definition: split at the largest power of two smaller than n."""
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(rfc6962_root(leaves[:k]), rfc6962_root(leaves[k:]))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 31, 100, 257])
def test_root_matches_the_rfc6962_definition_and_proofs_verify(n):
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]
    root = merkle_root(hashes)
    assert root == rfc6962_root([_leaf(bytes.fromhex(h)) for h in hashes]).hex()
    for index in {0, n // 2, n - 1}:
        path = inclusion_proof(hashes, index)
        assert verify_inclusion(hashes[index], index, n, path, root)
        assert not verify_inclusion(hashes[(index + 1) % n], index, n, path, root) or n == 1


def test_altered_leaf_changes_the_root():
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(10)]
    altered = [*hashes[:3], hashlib.sha256(b"x").hexdigest(), *hashes[4:]]
    assert merkle_root(hashes) != merkle_root(altered)


def test_accumulated_root_equals_the_root_at_every_size():
    """The chain keeps its Merkle root current as records arrive; sealing must give the same root."""
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(300)]
    grown = MerkleAccumulator()
    assert grown.root() == merkle_root([])
    for n, h in enumerate(hashes, start=1):
        grown.add(bytes.fromhex(h))
        assert grown.root() == merkle_root(hashes[:n]), n
    assert MerkleAccumulator(hashes[:77]).root() == merkle_root(hashes[:77])


def test_root_is_the_same_whatever_the_batches_the_hashes_arrive_in():
    """Chaining appends a whole batch at once: every split of the same hashes gives the same roots."""
    rng = random.Random(7)
    hashes = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(1500)]
    for _ in range(20):
        grown, n = MerkleAccumulator(), 0
        while n < len(hashes):
            k = rng.choice([0, 1, 2, 3, 5, 8, 64, 100, 255, 256, 257, 1000])
            grown.extend([bytes.fromhex(h) for h in hashes[n:n + k]])
            n = min(n + k, len(hashes))
            assert grown.root() == merkle_root(hashes[:n]), n


def test_chained_records_are_columns_that_read_as_records():
    chain = Chain()
    bodies = [b'{"uetr":"u%d","n":%d}' % (i, i) for i in range(5)]
    records = chain.extend([f"u{i}" for i in range(5)], ["CLEAR"] * 5, bodies)
    assert len(records) == 5 and records[-1] == list(records)[-1] == records[3:][-1]
    prev = GENESIS
    for i, r in enumerate(records):
        assert (r.uetr, r.seq, r.decision) == (f"u{i}", i + 1, "CLEAR")
        body, member = split_line(r.line)
        assert body == bodies[i] and member == {"seq": i + 1, "prev": prev, "hash": r.hash}
        assert r.hash == record_hash(prev, body)
        prev = r.hash
    assert chain.head.seq == 5 and chain.head.hash == prev and chain.tree.root() == merkle_root(records.hashes)
    assert chain.unsealed == 5
    with pytest.raises(ValueError, match="2 uetrs"):
        chain.extend(["a", "b"], ["CLEAR"], [b"{}", b"{}"])


def test_compiled_chain_writes_the_lines_the_definition_gives():
    """The compiled chain (OpenSSL from numba) against hashlib and the line format, for bodies from
    the smallest object to 200 kB and sequence numbers across digit boundaries."""
    rng = random.Random(11)
    sizes = [0, 1, 2, 63, 64, 65, 1200, 200_000, *(rng.randrange(0, 3000) for _ in range(40))]
    bodies = [b'{"x":"' + bytes(rng.choice(b"ab\\\xc3\xa9 ") for _ in range(n)) + b'"}' for n in sizes]
    for first_seq in (0, 8, 98, 10**15 - 3):
        chain = Chain()
        chain.head.seq, chain.head.hash = first_seq, hashlib.sha256(b"%d" % first_seq).hexdigest()
        prev = chain.head.hash
        records = chain.extend([f"u{i}" for i in range(len(bodies))], ["BLOCK"] * len(bodies), bodies)
        expected = []
        for i, body in enumerate(bodies):
            h = hashlib.sha256(prev.encode() + b"\n" + body).hexdigest()
            expected.append(body[:-1] + b',"chain":{"seq":%d,"prev":"%s","hash":"%s"}}' % (first_seq + 1 + i,
                                                                                         prev.encode(), h.encode()))
            prev = h
        assert records.lines == expected
        assert records.text == b"".join(line + b"\n" for line in expected)
        assert records.hashes == [split_line(line)[1]["hash"] for line in expected]
        assert chain.head.hash == prev and chain.tree.root() == merkle_root(records.hashes)


def test_an_empty_batch_leaves_the_chain_as_it_was():
    chain = Chain()
    chain.extend(["a"], ["CLEAR"], [b"{}"])
    head = (chain.head.seq, chain.head.hash, chain.tree.root())
    records = chain.extend([], [], [])
    assert len(records) == 0 and records.text == b"" and list(records) == []
    assert (chain.head.seq, chain.head.hash, chain.tree.root()) == head


def test_chaining_keeps_the_merkle_root_of_the_unsealed_hashes_current():
    """The chain kernel appends each record hash to the Merkle tree as it chains: from a chain reopened
    with unsealed records, over batches of every size and across a seal, the tree's root is that of
    the pending hashes."""
    pending = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(11)]
    chain = Chain(head=ChainHead(seq=11, hash=pending[-1]), pending=list(pending))
    assert chain.unsealed == 11
    for n, size in enumerate([1, 0, 2, 3, 1, 8, 9, 64, 5, 100, 1, 255, 256, 7]):
        if n == 9:
            checkpoint = chain.seal("sink", "test", "key", lambda payload: b"signature", "2026-01-01T00:00:00Z")
            assert checkpoint["merkle_root"] == merkle_root(pending)
            assert (checkpoint["from_seq"], checkpoint["to_seq"]) == (chain.head.seq - len(pending) + 1,
                                                                      chain.head.seq)
            pending = []
        records = chain.extend([f"u{i}" for i in range(size)], ["CLEAR"] * size,
                               [b'{"n":%d,"i":%d}' % (n, i) for i in range(size)])
        pending += records.hashes
        assert chain.tree.count == chain.unsealed == len(pending)
        assert chain.tree.root() == merkle_root(pending), size
