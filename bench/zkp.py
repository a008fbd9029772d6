"""Groth16 risk-signal bench: Aegis prover (numba and pure Python) vs snarkjs' in-process prover.

Runs with no arguments: makes a key, runs snarkjs' set-up on the same R1CS (with the test
powers of tau), proves the same witness with both Aegis backends (warm) and with snarkjs,
verifies singly and in a batch. Needs node and `npm ci --prefix plugins/zkp_groth16`. Ends
with one line of JSON.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aegis_zkp_groth16.circuit import RiskSignal, risk_signal_r1cs, witness
from aegis_zkp_groth16.keygen import ToxicWaste, generate
from aegis_zkp_groth16.prover import PYTHON, backend_named, prove
from aegis_zkp_groth16.snarkjs_files import write_r1cs, write_wtns
from aegis_zkp_groth16.verifier import verify, verify_batch

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "zkp_groth16"
SNARKJS = PLUGIN / "node_modules" / ".bin" / "snarkjs"
PTAU = PLUGIN / "tests" / "data" / "pot10_demo.ptau"
RUNS = 5
BATCH = 8

NODE_PROVER = """
const snarkjs = require("snarkjs");
(async () => {
  const [zkey, wtns, runs] = process.argv.slice(1);
  const times = [];
  for (let i = 0; i < Number(runs) + 1; i++) {
    const t = process.hrtime.bigint();
    await snarkjs.groth16.prove(zkey, wtns);
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  console.log(JSON.stringify(times.slice(1)));
  process.exit(0);
})();
"""


def _median(f, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    if not SNARKJS.exists():
        sys.exit(f"snarkjs missing: run `npm ci --prefix {PLUGIN} --no-audit --no-fund`")
    r1cs = risk_signal_r1cs()
    signal = RiskSignal(tuple(range(100, 108)), 987654321, (1000,) * 8, 800_000)
    w = witness(signal)
    toxic = ToxicWaste.from_entropy(b"bench")
    t = time.perf_counter()
    pk = generate(r1cs, toxic)
    setup_s = time.perf_counter() - t
    toxic.wipe()
    t = time.perf_counter()
    numba = backend_named("numba")
    warm_s = time.perf_counter() - t
    prove(pk, r1cs, w, numba)  # first use converts the key's points to limbs
    numba_prove = _median(lambda: prove(pk, r1cs, w, numba), RUNS)
    prove(pk, r1cs, w, PYTHON)
    python_prove = _median(lambda: prove(pk, r1cs, w, PYTHON), RUNS)
    proof = prove(pk, r1cs, w, numba)
    public = signal.public_inputs()
    verify_single = _median(lambda: verify(pk.vk, proof, public), 3)
    items = [(prove(pk, r1cs, w, numba), public) for _ in range(BATCH)]
    t = time.perf_counter()
    assert verify_batch(pk.vk, items)
    verify_batched = (time.perf_counter() - t) / BATCH
    with tempfile.TemporaryDirectory() as d:
        dp = Path(d)
        write_r1cs(dp / "risk.r1cs", r1cs)
        write_wtns(dp / "risk.wtns", w)
        subprocess.run([str(SNARKJS), "groth16", "setup", "risk.r1cs", str(PTAU), "risk.zkey"], cwd=dp,
                       check=True, capture_output=True)
        out = subprocess.run(["node", "-e", NODE_PROVER, str(dp / "risk.zkey"), str(dp / "risk.wtns"), str(RUNS)],
                             cwd=PLUGIN, check=True, capture_output=True, text=True)
        snarkjs_prove = statistics.median(json.loads(out.stdout.strip().splitlines()[-1]))
    ratio = numba_prove / snarkjs_prove
    rows = [("constraints", f"{len(r1cs.constraints)}"), ("key generation (Python)", f"{setup_s:.2f} s"),
            ("numba warm-up (compile or cache load)", f"{warm_s:.2f} s"),
            ("prove, Aegis numba (warm)", f"{numba_prove * 1000:.0f} ms"),
            ("prove, Aegis pure Python (warm)", f"{python_prove * 1000:.0f} ms"),
            ("prove, snarkjs in-process (node)", f"{snarkjs_prove * 1000:.0f} ms"),
            ("ratio Aegis numba / snarkjs", f"{ratio:.2f}x (target <= 1.0x)"),
            ("ratio Aegis Python / snarkjs", f"{python_prove / snarkjs_prove:.2f}x"),
            ("verify, single (py_ecc)", f"{verify_single * 1000:.0f} ms (target <= 1000 ms)"),
            (f"verify, batch of {BATCH}, per proof", f"{verify_batched * 1000:.0f} ms (target <= 300 ms)")]
    width = max(len(k) for k, _ in rows)
    print("Groth16 consortium risk signal (BN254)")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    print(json.dumps({"constraints": len(r1cs.constraints), "setup_s": round(setup_s, 3),
                      "numba_warm_s": round(warm_s, 3), "aegis_prove_s": round(numba_prove, 4),
                      "numba_prove_s": round(numba_prove, 4), "python_prove_s": round(python_prove, 4),
                      "snarkjs_prove_s": round(snarkjs_prove, 4), "prove_ratio": round(ratio, 3),
                      "python_prove_ratio": round(python_prove / snarkjs_prove, 3),
                      "verify_single_s": round(verify_single, 4),
                      "verify_batched_per_proof_s": round(verify_batched, 4), "backend": "numba"}))


if __name__ == "__main__":
    main()
