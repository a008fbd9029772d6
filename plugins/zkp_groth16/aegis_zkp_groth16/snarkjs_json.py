"""snarkjs' JSON formats: ``proof.json``, ``public.json`` and ``verification_key.json``.

Numbers are decimal strings; points projective with ``Z = "1"`` (G1) or ``["1", "0"]`` (G2);
G2 coordinates ``[c0, c1]``, real part first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aegis_zkp_groth16.bn254 import G1_ZERO, G2_ZERO, g1_affine, g2_affine
from aegis_zkp_groth16.keys import G1, G2, Proof, VerificationKey


class SnarkjsFormatError(ValueError):
    """A snarkjs JSON document does not have the expected shape."""


def g1_json(p: G1) -> list[str]:
    a = g1_affine(p)
    return ["0", "1", "0"] if a is None else [str(a[0]), str(a[1]), "1"]


def g2_json(p: G2) -> list[list[str]]:
    a = g2_affine(p)
    if a is None:
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    (x0, x1), (y0, y1) = a
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def _int(v: Any, where: str) -> int:
    if not isinstance(v, str) or not v.isdigit():
        raise SnarkjsFormatError(f"{where}: expected a decimal string, got {v!r}")
    return int(v)


def g1_from_json(v: Any, where: str) -> G1:
    if not isinstance(v, list) or len(v) != 3:
        raise SnarkjsFormatError(f"{where}: a G1 point is [x, y, z]")
    x, y, z = (_int(c, where) for c in v)
    if z == 0:
        return G1_ZERO
    if z != 1:
        raise SnarkjsFormatError(f"{where}: expected an affine point (z = \"1\")")
    return (x, y, 1)


def g2_from_json(v: Any, where: str) -> G2:
    if not isinstance(v, list) or len(v) != 3 or any(not isinstance(c, list) or len(c) != 2 for c in v):
        raise SnarkjsFormatError(f"{where}: a G2 point is [[x0, x1], [y0, y1], [z0, z1]]")
    (x0, x1), (y0, y1), (z0, z1) = ((_int(a, where), _int(b, where)) for a, b in v)
    if (z0, z1) == (0, 0):
        return G2_ZERO
    if (z0, z1) != (1, 0):
        raise SnarkjsFormatError(f"{where}: expected an affine point (z = [\"1\", \"0\"])")
    return ((x0, x1), (y0, y1), (1, 0))


def proof_to_json(proof: Proof) -> dict:
    return {"pi_a": g1_json(proof.a), "pi_b": g2_json(proof.b), "pi_c": g1_json(proof.c),
            "protocol": "groth16", "curve": "bn128"}


def proof_from_json(doc: Any) -> Proof:
    if not isinstance(doc, dict):
        raise SnarkjsFormatError("proof.json: expected an object")
    if doc.get("protocol", "groth16") != "groth16" or doc.get("curve", "bn128") != "bn128":
        raise SnarkjsFormatError("proof.json: only groth16 on bn128 is supported")
    try:
        return Proof(g1_from_json(doc["pi_a"], "pi_a"), g2_from_json(doc["pi_b"], "pi_b"),
                     g1_from_json(doc["pi_c"], "pi_c"))
    except KeyError as exc:
        raise SnarkjsFormatError(f"proof.json: missing {exc.args[0]}") from None


def public_to_json(values: Sequence[int]) -> list[str]:
    return [str(v) for v in values]


def public_from_json(doc: Any) -> list[int]:
    if not isinstance(doc, list):
        raise SnarkjsFormatError("public.json: expected an array of decimal strings")
    return [_int(v, f"public[{i}]") for i, v in enumerate(doc)]


def vk_to_json(vk: VerificationKey) -> dict:
    return {"protocol": "groth16", "curve": "bn128", "nPublic": vk.n_public,
            "vk_alpha_1": g1_json(vk.alpha1), "vk_beta_2": g2_json(vk.beta2),
            "vk_gamma_2": g2_json(vk.gamma2), "vk_delta_2": g2_json(vk.delta2),
            "IC": [g1_json(p) for p in vk.ic]}


def vk_from_json(doc: Any) -> VerificationKey:
    if not isinstance(doc, dict) or doc.get("protocol") != "groth16":
        raise SnarkjsFormatError("verification_key.json: expected a groth16 key")
    try:
        n = int(doc["nPublic"])
        ic = [g1_from_json(p, f"IC[{i}]") for i, p in enumerate(doc["IC"])]
        if len(ic) != n + 1:
            raise SnarkjsFormatError(f"verification_key.json: nPublic is {n} but IC has {len(ic)} points")
        return VerificationKey(n, g1_from_json(doc["vk_alpha_1"], "vk_alpha_1"),
                               g2_from_json(doc["vk_beta_2"], "vk_beta_2"),
                               g2_from_json(doc["vk_gamma_2"], "vk_gamma_2"),
                               g2_from_json(doc["vk_delta_2"], "vk_delta_2"), ic)
    except KeyError as exc:
        raise SnarkjsFormatError(f"verification_key.json: missing {exc.args[0]}") from None
