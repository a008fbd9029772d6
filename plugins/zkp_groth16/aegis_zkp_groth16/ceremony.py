"""The multi-party trusted-setup ceremony (BGM17 / snarkjs style, γ = 1): init, contribute, beacon, prepare, verify.

Phase 1 accumulates powers of τ with α and β; each contribution multiplies in fresh secrets
``(t, a, b)``. ``prepare`` turns the final powers into the circuit's key with δ = 1; each phase-2
contribution multiplies δ by a fresh ``d`` (L and H queries by ``d⁻¹``). The result is sound if any one
contributor destroyed their secrets. :func:`verify` checks every link of the chain and names the
contribution and the check that fails.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from secrets import randbits

from aegis_zkp_groth16.bn254 import G1_GEN, G2_GEN, R, g1_eq, g2_eq, g2_mul
from aegis_zkp_groth16.ceremony_prepare import prepare_key
from aegis_zkp_groth16.ceremony_proofs import PairingClaims, Secrets, knowledge_base, prove_knowledge
from aegis_zkp_groth16.ceremony_transcript import (
    PHASE1_LABELS,
    PHASE2_LABELS,
    Beacon,
    Phase1State,
    Record,
    Transcript,
    labels,
    phase2_digest,
)
from aegis_zkp_groth16.keygen import qap_rows
from aegis_zkp_groth16.keys import G1, G2, ProvingKey, norm_g2, pk_to_bytes
from aegis_zkp_groth16.ntt import domain_size
from aegis_zkp_groth16.numba_backend import NumbaBackend
from aegis_zkp_groth16.point_scaling import scalar_limbs, scale_g1, scale_g2, subgroup_failures_g2
from aegis_zkp_groth16.r1cs import R1CS


class CeremonyError(ValueError):
    """The transcript does not verify, or the requested step does not fit its state."""


def init(r1cs: R1CS) -> Transcript:
    """A fresh transcript: phase 1 with τ = α = β = 1."""
    n = domain_size(qap_rows(r1cs))
    return Transcript(r1cs.digest(), n, Phase1State.identity(n))


def _powers(base: int, count: int, factor: int = 1) -> list[int]:
    out, x = [], factor % R
    for _ in range(count):
        out.append(x)
        x = x * base % R
    return out


def _scaled_phase1(state: Phase1State, t: int, a: int, b: int) -> Phase1State:
    """Every point multiplied by its power of ``t`` (and ``a``/``b``); secret scalar arrays zeroed after."""
    n = len(state.tau_g2)
    arrays = [scalar_limbs(_powers(t, 2 * n - 1)), scalar_limbs(_powers(t, n)), scalar_limbs(_powers(t, n, a)),
              scalar_limbs(_powers(t, n, b)), scalar_limbs([b])]
    try:
        return Phase1State(scale_g1(state.tau_g1, arrays[0]), scale_g2(state.tau_g2, arrays[1]),
                           scale_g1(state.alpha_g1, arrays[2]), scale_g1(state.beta_g1, arrays[3]),
                           scale_g2([state.beta_g2], arrays[4])[0])
    finally:
        for arr in arrays:
            arr.fill(0)


def _scaled_phase2(pk: ProvingKey, d: int) -> ProvingKey:
    d_arr, inv = scalar_limbs([d]), pow(d, -1, R)
    l_arr, h_arr = scalar_limbs([inv] * len(pk.l_query)), scalar_limbs([inv] * len(pk.h_query))
    try:
        delta1 = scale_g1([pk.delta1], d_arr)[0]
        delta2 = scale_g2([pk.delta2], d_arr)[0]
        l_query, h_query = scale_g1(pk.l_query, l_arr), scale_g1(pk.h_query, h_arr)
    finally:
        for arr in (d_arr, l_arr, h_arr):
            arr.fill(0)
        del inv
    return replace(pk, delta1=delta1, delta2=delta2, l_query=l_query, h_query=h_query,
                   vk=replace(pk.vk, delta2=delta2))


def contribute(transcript: Transcript, name: str, secrets: Secrets, beacon: Beacon | None = None) -> Record:
    """Multiply ``secrets`` into the transcript (in place) and append the record; the caller wipes ``secrets``."""
    if not name.strip():
        raise CeremonyError("a contribution needs a name (who contributed)")
    phase = transcript.phase
    expected = PHASE1_LABELS if phase == 1 else PHASE2_LABELS
    if set(secrets.values) != set(expected) or any(not 0 < x < R for x in secrets.values.values()):
        raise CeremonyError(f"phase {phase} takes non-zero secrets {', '.join(expected)}")
    previous, index = bytes.fromhex(transcript.head_hash()), len(transcript.records)
    s = secrets.values
    proofs = [prove_knowledge(previous, index, label, s[label]) for label in expected]
    if phase == 1:
        transcript.phase1 = _scaled_phase1(transcript.phase1, s["tau"], s["alpha"], s["beta"])
        after = transcript.phase1.first_powers()
    else:
        assert transcript.phase2 is not None
        transcript.phase2 = _scaled_phase2(transcript.phase2, s["delta"])
        after = {"delta_g1": transcript.phase2.delta1, "delta_g2": transcript.phase2.delta2}
    kind = "contribution" if beacon is None else "beacon"
    record = Record(index, phase, kind, name, beacon, proofs, after, transcript.state_digest())
    return transcript.append(record)


def apply_beacon(transcript: Transcript, beacon_hex: str, iterations_exp: int) -> Record:
    """A contribution whose secrets anyone can recompute from a public random beacon."""
    try:
        secrets = Secrets.from_beacon(labels(transcript.phase, "contribution"), beacon_hex, iterations_exp)
    except ValueError as exc:
        raise CeremonyError(str(exc)) from None
    beacon = Beacon(beacon_hex.lower(), iterations_exp)
    try:
        return contribute(transcript, "beacon", secrets, beacon)
    finally:
        secrets.wipe()


_PREPARED: dict[tuple[str, str], ProvingKey] = {}
PREPARED_KEPT = 2


def _copy_key(pk: ProvingKey) -> ProvingKey:
    return replace(pk, a_query=list(pk.a_query), b1_query=list(pk.b1_query), b2_query=list(pk.b2_query),
                   l_query=list(pk.l_query), h_query=list(pk.h_query), vk=replace(pk.vk, ic=list(pk.vk.ic)))


def prepared_key(r1cs: R1CS, phase1: Phase1State) -> ProvingKey:
    """:func:`prepare_key`, remembered for the last :data:`PREPARED_KEPT` phase-1 states seen in this process.

    Keyed by the circuit and the SHA-256 of the complete phase-1 state (prepare's whole input), so
    ``verify`` right after ``prepare`` (or ``finalize`` after ``verify``) does not redo the same work;
    callers get a copy they may change.
    """
    key = (r1cs.digest(), phase1.digest())
    pk = _PREPARED.pop(key, None) or prepare_key(r1cs, phase1)
    _PREPARED[key] = pk
    while len(_PREPARED) > PREPARED_KEPT:
        _PREPARED.pop(next(iter(_PREPARED)))
    return _copy_key(pk)


def prepare(transcript: Transcript, r1cs: R1CS) -> Record:
    """Close phase 1: compute the circuit's key with δ = γ = 1 (deterministic) and start phase 2."""
    if transcript.phase != 1:
        raise CeremonyError("the transcript is already in phase 2 (prepare runs once)")
    if transcript.circuit != r1cs.digest():
        raise CeremonyError("the transcript is for another circuit")
    if _same(transcript.phase1.tau_g1[transcript.domain_size], G1_GEN):
        raise CeremonyError("phase 1 has no contribution yet (τ = 1 is a root of unity of the domain)")
    transcript.phase2 = prepared_key(r1cs, transcript.phase1)
    record = Record(len(transcript.records), 2, "prepare", "prepare", None, [], {}, transcript.state_digest())
    return transcript.append(record)


# -- verification ------------------------------------------------------------------------

@dataclass
class Verified:
    records: list[Record]
    key: ProvingKey | None


def _same(a: G1 | G2, b: G1 | G2) -> bool:
    return g2_eq(a, b) if isinstance(a[2], tuple) else g1_eq(a, b)  # type: ignore[arg-type]


def _fail(record: Record | None, what: str) -> CeremonyError:
    where = "transcript" if record is None else f"contribution {record.title()} (phase {record.phase})"
    return CeremonyError(f"{where}: {what}")


def _check_chain(tr: Transcript) -> None:
    previous = tr.genesis_hash()
    phase = 1
    for i, rec in enumerate(tr.records):
        if rec.index != i:
            raise _fail(rec, f"is at position {i} of the chain but numbered {rec.index}")
        if rec.kind == "prepare":
            if phase != 1:
                raise _fail(rec, "a second prepare step")
            phase = 2
        if rec.phase != phase:
            raise _fail(rec, f"is a phase-{rec.phase} record where phase {phase} is running")
        if (rec.kind == "beacon") != (rec.beacon is not None):
            raise _fail(rec, "beacon parameters do not match the record kind")
        if rec.compute_hash(previous) != rec.hash:
            raise _fail(rec, "its hash does not match its content and the previous hash (record altered, "
                        "or a record before it removed or changed)")
        previous = rec.hash
    if (phase == 2) != (tr.phase2 is not None):
        raise _fail(None, "the phase-2 key and the prepare record must come together")


def _check_beacon(rec: Record) -> None:
    """Each published ``x·G2`` is the beacon's: the pairing checks then tie ``x·R`` and the points to it."""
    assert rec.beacon is not None
    try:
        secrets = Secrets.from_beacon(labels(rec.phase, rec.kind), rec.beacon.hex, rec.beacon.iterations_exp)
    except ValueError as exc:
        raise _fail(rec, f"beacon parameters are invalid: {exc}") from None
    try:
        for proof in rec.proofs:
            if not _same(norm_g2(g2_mul(G2_GEN, secrets.values[proof.label])), proof.g2_x):
                raise _fail(rec, f"the {proof.label} secret is not the one derived from beacon "
                            f"{rec.beacon.hex} with 2^{rec.beacon.iterations_exp} iterations")
    finally:
        secrets.wipe()


def _link_claims(claims: PairingClaims, rec: Record, before: dict[str, G1 | G2], previous: bytes) -> None:
    """Proofs of knowledge, and the update ``new = x·old`` for every secret of ``rec``."""
    tag = f"contribution {rec.title()} (phase {rec.phase})"
    pk = {p.label: p for p in rec.proofs}
    for label, proof in pk.items():
        claims.knowledge(tag, f"proof of knowledge of {label}", knowledge_base(previous, rec.index, label), proof)
    a = rec.after
    if rec.phase == 1:
        for name, label in (("τ", "tau"), ("α", "alpha"), ("β", "beta")):
            claims.equal(tag, f"{name}·G1 is not the previous {name}·G1 times the contributed {name}",
                         a[f"{label}_g1"], G2_GEN, before[f"{label}_g1"], pk[label].g2_x)
        claims.equal(tag, "τ·G2 does not match τ·G1", a["tau_g1"], G2_GEN, G1_GEN, a["tau_g2"])
        claims.equal(tag, "β·G2 does not match β·G1", a["beta_g1"], G2_GEN, G1_GEN, a["beta_g2"])
    else:
        claims.equal(tag, "δ·G1 is not the previous δ·G1 times the contributed δ",
                     a["delta_g1"], G2_GEN, before["delta_g1"], pk["delta"].g2_x)
        claims.equal(tag, "δ·G2 does not match δ·G1", a["delta_g1"], G2_GEN, G1_GEN, a["delta_g2"])


def _rand(k: int) -> list[int]:
    return [randbits(128) for _ in range(k)]


def _powers_claims(claims: PairingClaims, state: Phase1State, tag: str) -> None:
    """Random-linear-combination checks that the stored rows really are τⁱ, α·τⁱ, β·τⁱ (and in G2 τⁱ)."""
    msm = NumbaBackend()
    n = len(state.tau_g2)
    r = _rand(2 * n - 2)
    claims.equal(tag, "the τⁱ·G1 powers are not consecutive powers of τ",
                 msm.msm_g1(state.tau_g1[1:], r), G2_GEN, msm.msm_g1(state.tau_g1[:-1], r), state.tau_g2[1])
    s = _rand(n - 1)
    claims.equal(tag, "the τⁱ·G2 powers are not consecutive powers of τ",
                 state.tau_g1[1], msm.msm_g2(state.tau_g2[:-1], s), G1_GEN, msm.msm_g2(state.tau_g2[1:], s))
    for name, row in (("α", state.alpha_g1), ("β", state.beta_g1)):
        u = _rand(n)
        claims.equal(tag, f"the {name}·τⁱ·G1 row is not {name} times the powers of τ",
                     msm.msm_g1(row, u), G2_GEN, row[0], msm.msm_g2(state.tau_g2, u))


def _phase2_claims(claims: PairingClaims, final: ProvingKey, start: ProvingKey, tag: str) -> None:
    """``L_final·δ = L_start`` and ``H_final·δ = H_start``, as one random combination."""
    msm = NumbaBackend()
    r, s = _rand(len(final.l_query)), _rand(len(final.h_query))
    lhs = msm.msm_g1([*final.l_query, *final.h_query], r + s)
    rhs = msm.msm_g1([*start.l_query, *start.h_query], r + s)
    claims.equal(tag, "the L and H queries are not the prepared ones divided by δ", lhs, final.delta2, rhs, G2_GEN)


def _settle(claims: PairingClaims) -> None:
    failure = claims.first_failure()
    if failure is not None:
        raise CeremonyError(f"{failure} (pairing check failed)")


def _first_difference(got: ProvingKey, want: ProvingKey) -> str | None:
    for name in ("alpha1", "beta1", "beta2", "delta1", "delta2"):
        if not _same(getattr(got, name), getattr(want, name)):
            return name
    for name in ("a_query", "b1_query", "b2_query", "l_query", "h_query"):
        g, w = getattr(got, name), getattr(want, name)
        if len(g) != len(w):
            return f"{name} (length {len(g)}, expected {len(w)})"
        for i, (p, q) in enumerate(zip(g, w, strict=True)):
            if not _same(p, q):
                return f"{name}[{i}]"
    for name in ("alpha1", "beta2", "gamma2", "delta2"):
        if not _same(getattr(got.vk, name), getattr(want.vk, name)):
            return f"vk.{name}"
    for i, (p, q) in enumerate(zip(got.vk.ic, want.vk.ic, strict=True)):
        if not _same(p, q):
            return f"vk.ic[{i}]"
    if got.circuit != want.circuit or got.domain_size != want.domain_size or len(got.vk.ic) != len(want.vk.ic):
        return "the circuit header"
    return None


def check_structure(tr: Transcript, r1cs: R1CS) -> None:
    """The cheap part of :func:`verify`: right circuit, records in order, hash chain intact."""
    if tr.circuit != r1cs.digest() or tr.domain_size != domain_size(qap_rows(r1cs)):
        raise _fail(None, "made for another circuit (circuit digest or domain size differ)")
    _check_chain(tr)


def verify(tr: Transcript, r1cs: R1CS) -> Verified:
    """Check the whole chain; raises :class:`CeremonyError` naming the contribution and the failed check.

    Phase 1 is settled (its pairing claims checked) before prepare is recomputed for phase 2.
    """
    check_structure(tr, r1cs)
    n = tr.domain_size
    g2_points = [*tr.phase1.tau_g2, tr.phase1.beta_g2]
    g2_points += [p.g2_x for rec in tr.records for p in rec.proofs]
    g2_points += [v for rec in tr.records for k, v in rec.after.items() if k.endswith("g2")]
    bad = subgroup_failures_g2(g2_points)
    if bad:
        raise _fail(None, f"G2 point #{bad[0]} (phase-1 powers, then records in order) is not in the "
                    "order-r subgroup")
    before: dict[str, G1 | G2] = {"tau_g1": G1_GEN, "tau_g2": G2_GEN, "alpha_g1": G1_GEN, "beta_g1": G1_GEN,
                                  "beta_g2": G2_GEN, "delta_g1": G1_GEN, "delta_g2": G2_GEN}
    claims = {1: PairingClaims(), 2: PairingClaims()}
    previous = bytes.fromhex(tr.genesis_hash())
    for rec in tr.records:
        if rec.kind != "prepare":
            if any(_infinite(p) for p in rec.after.values()):
                raise _fail(rec, "a resulting point is the point at infinity (a zero secret)")
            if rec.beacon is not None:
                _check_beacon(rec)
            _link_claims(claims[rec.phase], rec, before, previous)
            before |= rec.after
        previous = bytes.fromhex(rec.hash)
    phase1_records = [r for r in tr.records if r.phase == 1]
    last1 = phase1_records[-1] if phase1_records else None
    state = tr.phase1
    if not (_same(state.tau_g1[0], G1_GEN) and _same(state.tau_g2[0], G2_GEN)):
        raise _fail(last1, "the zeroth powers of τ are not the generators")
    for name, point in state.first_powers().items():
        if not _same(point, before[name]):
            raise _fail(last1, f"the phase-1 state's {name} differs from the one this contribution published")
    if last1 is not None and last1.state_digest != state.digest():
        raise _fail(last1, "the phase-1 state is not the one this contribution produced (state digest differs)")
    if _same(state.tau_g1[n], G1_GEN):
        raise _fail(last1, "τ is a root of unity of the domain (τⁿ = 1; a new transcript needs a contribution)")
    _powers_claims(claims[1], state, f"contribution {last1.title()} (phase 1)" if last1 else "the initial phase 1")
    _settle(claims[1])
    if tr.phase2 is None:
        return Verified(list(tr.records), None)
    prep = next(r for r in tr.records if r.kind == "prepare")
    start = prepared_key(r1cs, state)
    if phase2_digest(start) != prep.state_digest:
        raise _fail(prep, "its recorded key is not prepare's output for the phase-1 powers")
    last2 = tr.records[-1]
    final = tr.phase2
    expected = replace(start, delta1=before["delta_g1"], delta2=before["delta_g2"], l_query=final.l_query,
                       h_query=final.h_query, vk=replace(start.vk, delta2=before["delta_g2"]))
    diff = _first_difference(final, expected)
    if diff is not None:
        raise _fail(last2, f"the phase-2 key's {diff} is not prepare's output (with this chain's δ)")
    if pk_to_bytes(final) != pk_to_bytes(expected):
        raise _fail(last2, "the phase-2 key differs from prepare's output")
    if last2.state_digest != phase2_digest(final):
        raise _fail(last2, "the phase-2 key is not the one this contribution produced (state digest differs)")
    _phase2_claims(claims[2], final, start, f"contribution {last2.title()} (phase 2)")
    _settle(claims[2])
    return Verified(list(tr.records), final)


def _infinite(p: G1 | G2) -> bool:
    return p[2] in (0, (0, 0))


def beacon_or_none(rec: Record) -> str:
    if rec.beacon is None:
        return "prepare (deterministic)" if rec.kind == "prepare" else "contribution"
    return f"beacon {rec.beacon.hex} 2^{rec.beacon.iterations_exp}"


def summary_line(rec: Record) -> str:
    return f"#{rec.index} phase {rec.phase} {rec.name!r} [{beacon_or_none(rec)}] {rec.hash}"

