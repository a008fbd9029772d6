"""The consortium risk-signal statement as an R1CS.

Private: eight 32-bit features ``x[0..7]`` and a ``salt``. Public (in this order):
``threshold``, weights ``w[0..7]``, ``commitment``. Constraints:
``commitment == Poseidon(x[0..7], salt)``, every ``x[i] < 2^32``, and
``Σ w[i]·x[i] − threshold ∈ [0, 2^64)``. With ``w[i] < 2^24`` and ``threshold < 2^64``
(checked outside the circuit, :func:`check_public_ranges`) the sum cannot wrap, so the last
constraint means exactly ``score ≥ threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from aegis_zkp_groth16.bn254 import R
from aegis_zkp_groth16.poseidon import PARTIAL_ROUNDS, is_full_round, parameters, poseidon
from aegis_zkp_groth16.r1cs import LC, R1CS, ConstraintSystem

N_FEATURES = 8
FEATURE_BITS = 32
WEIGHT_BITS = 24
THRESHOLD_BITS = 64
N_PUBLIC = 1 + N_FEATURES + 1


@dataclass(frozen=True)
class RiskSignal:
    """One statement instance: the private features and salt, the public model and threshold."""

    features: tuple[int, ...]
    salt: int
    weights: tuple[int, ...]
    threshold: int

    @property
    def commitment(self) -> int:
        return commit(self.features, self.salt)

    @property
    def score(self) -> int:
        return sum(w * x for w, x in zip(self.weights, self.features, strict=True))

    def public_inputs(self) -> list[int]:
        """``[threshold, w[0..7], commitment]`` — snarkjs' ``public.json`` order."""
        return [self.threshold, *self.weights, self.commitment]


def commit(features: tuple[int, ...] | list[int], salt: int) -> int:
    """The public commitment to the features: ``Poseidon(x[0..7], salt)``."""
    return poseidon([*features, salt])


def check_public_ranges(public_inputs: list[int]) -> None:
    """Refuse public inputs outside the ranges that keep ``score ≥ threshold`` from wrapping."""
    if len(public_inputs) != N_PUBLIC:
        raise ValueError(f"the risk signal has {N_PUBLIC} public inputs, got {len(public_inputs)}")
    threshold, *weights, commitment = public_inputs
    if not 0 <= threshold < 1 << THRESHOLD_BITS:
        raise ValueError(f"threshold {threshold} is outside [0, 2^{THRESHOLD_BITS})")
    for i, w in enumerate(weights):
        if not 0 <= w < 1 << WEIGHT_BITS:
            raise ValueError(f"weight w[{i}] = {w} is outside [0, 2^{WEIGHT_BITS})")
    if not 0 <= commitment < R:
        raise ValueError("commitment is not a field element")


def _poseidon_gadget(cs: ConstraintSystem, inputs: list[LC]) -> LC:
    t = len(inputs) + 1
    constants, mds = parameters(t)
    state = [cs.constant(0), *inputs]
    for r in range(8 + PARTIAL_ROUNDS[t - 2]):
        state = [s + cs.constant(constants[r * t + i]) for i, s in enumerate(state)]
        sboxes = range(t) if is_full_round(t, r) else range(1)
        for i in sboxes:
            x2 = cs.mul(state[i], state[i])
            x4 = cs.mul(x2, x2)
            state[i] = cs.mul(x4, state[i])
        mixed = []
        for row in mds:
            acc = cs.constant(0)
            for m, s in zip(row, state, strict=True):
                acc = acc + s.scale(m)
            mixed.append(acc)
        state = mixed
    return state[0]


def synthesize(cs: ConstraintSystem, signal: RiskSignal | None) -> None:
    """Lay out the statement in ``cs``; ``signal`` is ``None`` when only building constraints."""
    def v(x: int) -> int | None:
        return None if signal is None else x

    threshold = cs.public(v(signal.threshold) if signal else None)
    weights = [cs.public(signal.weights[i] if signal else None) for i in range(N_FEATURES)]
    commitment = cs.public(v(signal.commitment) if signal else None)
    features = [cs.private_input(signal.features[i] if signal else None) for i in range(N_FEATURES)]
    salt = cs.private_input(v(signal.salt) if signal else None)
    for x in features:
        cs.bits(x, FEATURE_BITS)
    digest = _poseidon_gadget(cs, [*features, salt])
    cs.enforce(digest - commitment, cs.one(), cs.constant(0))
    score = cs.constant(0)
    for w, x in zip(weights, features, strict=True):
        score = score + cs.mul(w, x)
    cs.bits(score - threshold, THRESHOLD_BITS)


@cache
def risk_signal_r1cs() -> R1CS:
    """The statement's constraint system (built once per process)."""
    cs = ConstraintSystem(build=True)
    synthesize(cs, None)
    return cs.r1cs()


def witness(signal: RiskSignal) -> list[int]:
    """Every wire's value for ``signal`` (it satisfies the R1CS only if the statement holds)."""
    if len(signal.features) != N_FEATURES or len(signal.weights) != N_FEATURES:
        raise ValueError(f"the risk signal has {N_FEATURES} features and {N_FEATURES} weights")
    cs = ConstraintSystem(build=False)
    synthesize(cs, signal)
    return cs.witness()
