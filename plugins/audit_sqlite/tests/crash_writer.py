"""Child process of the kill -9 test: writes batches through the kernel's trail until it is killed.

    python crash_writer.py DB KEY_PEM BATCHES BATCH_SIZE

After each write returns (the batch is durable) it prints ``ACK <last seq>`` and flushes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from aegis.testing.harness import PluginHarness
from aegis.testing.samples import transactions


def main(database: str, key_pem: str, batches: int, size: int) -> None:
    with PluginHarness("audit", "sqlite", {"path": database}, Path(database).parent / "state") as h:
        h.signing_key = serialization.load_pem_private_key(Path(key_pem).read_bytes(), password=None)
        work = transactions(batches * size, seed=11)
        decisions = [h.decisions(h.batch(work[i * size:(i + 1) * size])) for i in range(batches)]
        for d in decisions:
            d.lines()
        h.trail(checkpoint_every=3 * size // 2)  # checkpoints are sealed mid-run too
        print("READY", flush=True)
        for d in decisions:
            h.audit(d)
            print(f"ACK {h.trail().sinks[0].chain.head.seq}", flush=True)
        print("DONE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
