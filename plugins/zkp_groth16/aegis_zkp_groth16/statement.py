"""From a decision to a risk-signal statement: quantised factor scores under the public model."""

from __future__ import annotations

import hashlib
import json
import secrets

from aegis.decide import Decisions
from aegis_zkp_groth16.bn254 import R
from aegis_zkp_groth16.circuit import FEATURE_BITS, N_FEATURES, THRESHOLD_BITS, WEIGHT_BITS, RiskSignal
from aegis_zkp_groth16.config import Groth16Config


class PublicModel:
    """The public part of the statement: which factor sits in which slot, and its integer weight."""

    def __init__(self, config: Groth16Config, factor_names: list[str]):
        if len(factor_names) > N_FEATURES:
            raise ValueError(f"the circuit takes {N_FEATURES} factors, the deployment has {len(factor_names)}")
        self.config = config
        self.factors = list(factor_names)
        scale = 1 << config.weight_scale_bits
        self.weights = tuple(round(config.weights.get(f, config.default_weight) * scale) for f in self.factors)
        self.weights += (0,) * (N_FEATURES - len(self.weights))
        if any(w >= 1 << WEIGHT_BITS for w in self.weights):
            raise ValueError(f"a weight times 2^{config.weight_scale_bits} reaches 2^{WEIGHT_BITS}")

    def threshold(self, risk: float) -> int:
        t = int(risk * (1 << (self.config.feature_scale_bits + self.config.weight_scale_bits)))
        if not 0 <= t < 1 << THRESHOLD_BITS:
            raise ValueError(f"threshold {risk} does not fit {THRESHOLD_BITS} bits")
        return t

    def features(self, scores: list[float]) -> tuple[int, ...]:
        cap = (1 << FEATURE_BITS) - 1
        x = [min(cap, max(0, round(s * (1 << self.config.feature_scale_bits)))) for s in scores]
        return tuple(x + [0] * (N_FEATURES - len(x)))

    def digest(self) -> str:
        """``sha256:`` of the model (factor slots, weights, scales): what peers compare."""
        doc = {"factors": self.factors, "weights": self.weights,
               "feature_scale_bits": self.config.feature_scale_bits,
               "weight_scale_bits": self.config.weight_scale_bits}
        return "sha256:" + hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def signals(decisions: Decisions, indices: list[int], model: PublicModel,
            threshold_key: dict[int, str]) -> list[tuple[str, RiskSignal]]:
    """One statement per decision index: its features, a fresh salt, the model and the threshold."""
    out = []
    for i in indices:
        code = int(decisions.decision[i])
        risk = float(decisions.thresholds[threshold_key[code]])
        signal = RiskSignal(model.features([float(s) for s in decisions.scores[i]]),
                            secrets.randbelow(R), model.weights, model.threshold(risk))
        out.append((decisions.uetr[i], signal))
    return out
