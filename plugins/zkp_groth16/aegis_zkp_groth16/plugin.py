"""The ``groth16`` proving plugin: proofs for blocked payments, queued off the hot path."""

from __future__ import annotations

from aegis.context import Context
from aegis.decide import Decisions
from aegis.errors import SecurityViolation
from aegis.hookspecs import hookimpl
from aegis.lifecycle import SelfTestResult
from aegis.model import Decision
from aegis_zkp_groth16.artifacts import KeySet, load_verified
from aegis_zkp_groth16.circuit import check_public_ranges, risk_signal_r1cs
from aegis_zkp_groth16.config import Groth16Config
from aegis_zkp_groth16.consortium import vk_fingerprint
from aegis_zkp_groth16.keys import vk_to_bytes
from aegis_zkp_groth16.metrics import ZkpMetrics
from aegis_zkp_groth16.outbox import Entity, SignalPublisher
from aegis_zkp_groth16.proof_queue import Job, ProofQueue
from aegis_zkp_groth16.prover import backend_named
from aegis_zkp_groth16.snarkjs_json import SnarkjsFormatError, proof_from_json, public_from_json
from aegis_zkp_groth16.statement import PublicModel, signals
from aegis_zkp_groth16.store import ProofStore
from aegis_zkp_groth16.verifier import InvalidProof, verify

THRESHOLD_KEYS = {int(Decision.BLOCK): "block_at", int(Decision.INVESTIGATE): "investigate_at"}
MIN_PSEUDONYM_KEY = 32


class Groth16Plugin:
    """Groth16 (BN254) proofs that a blocked payment's hidden risk features reach the public threshold."""

    Config = Groth16Config

    def __init__(self, config: Groth16Config):
        self.config = config
        self.metrics = ZkpMetrics()
        self.keys: KeySet | None = None
        self.store: ProofStore | None = None
        self.queue: ProofQueue | None = None
        self._model: PublicModel | None = None
        self.publisher: SignalPublisher | None = None

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        if context.host is None:
            raise SecurityViolation("zkp: no plugin host to check the verification-key signature with")
        pem = context.host.public_key(self.config.signing_key)
        self.keys = load_verified(self.config.key_dir, pem, risk_signal_r1cs().digest())
        backend = backend_named(self.config.prover_backend)  # compiles once; workers then load numba's cache
        self.store = ProofStore(self.config.database)
        self.store.expire(self.config.retention_hours)
        if self.config.consortium is not None:
            self.publisher = self._publisher(context)
        if self.config.metrics_port is not None:
            self.metrics.serve(self.config.metrics_port)
        context.log.getChild("zkp").info("zkp: verification key %s verified; %s prover, %d worker(s), queue %d",
                                         self.config.key_dir, backend.name, self.config.workers,
                                         self.config.queue_size)

    def _publisher(self, context: Context) -> SignalPublisher:
        """The consortium publisher; refuses a short pseudonym key or a signing key the secrets plugin lacks."""
        cfg, host, keys = self.config.consortium, context.host, self.keys
        if cfg is None or host is None or keys is None:
            raise RuntimeError("zkp: the consortium publisher needs its config, the plugin host and the keys")
        key = cfg.pseudonym_key.get_secret_value().encode()
        if len(key) < MIN_PSEUDONYM_KEY:
            raise SecurityViolation(f"zkp: consortium.pseudonym_key has {len(key)} characters; at least "
                                    f"{MIN_PSEUDONYM_KEY} are needed (e.g. `openssl rand -hex 32`, the same for "
                                    "every member)")
        publisher = SignalPublisher(member_id=cfg.member_id, pseudonym_key=key, roles=cfg.roles,
                                    public_key_pem=host.public_key(cfg.signing_key),
                                    sign=lambda data: host.sign(data, cfg.signing_key),
                                    vk_fingerprint=vk_fingerprint(vk_to_bytes(keys.vk)), outbox=cfg.outbox,
                                    registry=self.metrics.registry)
        context.log.getChild("zkp").info("zkp: publishing consortium signals as %s (%s, key %s) to %s",
                                         cfg.member_id, "+".join(cfg.roles), publisher.key_id, cfg.outbox)
        return publisher

    def _queue(self, model: PublicModel) -> ProofQueue:
        if self.keys is None or self.store is None:
            raise RuntimeError("the groth16 plugin was used before aegis_startup")
        if self.queue is None:
            self.queue = ProofQueue(self.keys.pk_path, self.store, self.metrics, model.digest(),
                                    self.config.workers, self.config.queue_size, self.config.overflow,
                                    self.config.prover_backend, self.publisher)
        return self.queue

    def _proved(self, decisions: Decisions) -> list[int]:
        """Indices of the decisions this plugin proves: BLOCK, and INVESTIGATE when configured."""
        wanted = {int(Decision.BLOCK)} | ({int(Decision.INVESTIGATE)} if self.config.prove_investigate else set())
        return [i for i, d in enumerate(decisions.decision.tolist()) if d in wanted]

    @hookimpl
    def aegis_proving_reference(self, decisions: Decisions) -> list[str | None] | None:
        """``groth16:<database file>:<uetr>`` for each decision that will be proved (what the record cites)."""
        indices = self._proved(decisions)
        if not indices:
            return None
        refs: list[str | None] = [None] * len(decisions)
        for i in indices:
            refs[i] = f"groth16:{self.config.database.name}:{decisions.uetr[i]}"
        return refs

    @hookimpl
    def aegis_proving_submit(self, decisions: Decisions) -> int:
        indices = self._proved(decisions)
        if not indices:
            return 0
        if self._model is None or self._model.factors != decisions.factor_names:
            self._model = PublicModel(self.config, decisions.factor_names)
        statements = signals(decisions, indices, self._model, THRESHOLD_KEYS)
        digest = self._model.digest()
        entities = self._entities(decisions, indices)
        return self._queue(self._model).submit([Job(uetr, statement, digest, parties)
                                                for (uetr, statement), parties in zip(statements, entities,
                                                                                      strict=True)])

    def _entities(self, decisions: Decisions, indices: list[int]) -> list[tuple[Entity, ...]]:
        """Per decision index, the pseudonyms its consortium signals will name (none without publishing)."""
        if self.publisher is None:
            return [()] * len(indices)
        batch = decisions.batch
        return [self.publisher.entities(batch.debtor_account_str[i], batch.creditor_account_str[i])
                for i in indices]

    @hookimpl
    def aegis_proving_lookup(self, uetr: str) -> dict | None:
        """The stored proof of ``uetr`` (never the private opening), for the regulatory export."""
        return self.store.get(uetr) if self.store is not None else None

    @hookimpl
    def aegis_proving_verify(self, proof: dict, public_inputs: list) -> bool:
        if self.keys is None:
            raise RuntimeError("the groth16 plugin was used before aegis_startup")
        try:
            inputs = public_from_json([str(v) for v in public_inputs])
            check_public_ranges(inputs)
            return verify(self.keys.vk, proof_from_json(proof), inputs)
        except (SnarkjsFormatError, InvalidProof, ValueError):
            return False

    @hookimpl
    def aegis_self_test(self) -> list[SelfTestResult]:
        ok = self.keys is not None and self.store is not None
        results = [SelfTestResult(plugin="groth16", check="verification key signed and loaded", ok=ok,
                                  detail=str(self.config.key_dir))]
        if self.publisher is not None:
            published, detail = self.publisher.self_test()
            results.append(SelfTestResult(plugin="groth16", check="consortium signals signed and written",
                                          ok=published, detail=detail))
        return results

    @hookimpl
    def aegis_shutdown(self) -> None:
        if self.queue is not None:
            self.queue.close()
            self.queue = None
        if self.store is not None:
            self.store.close()
            self.store = None
        self.metrics.close()
