"""Source of a throw-away distribution with one recording plugin per family (see test_hooks.py).

Each plugin appends ``(hook, details)`` to the module-level ``CALLS`` list so tests can check what
the kernel called, in which order, with which arguments.
"""

RECORDER_SOURCE = r'''
import threading
import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from aegis.hookspecs import hookimpl
from aegis.errors import SecretNotFound
from aegis.lifecycle import ReloadReport, SelfTestResult
from aegis.model import FactorScores, RawBatch, ScoreResult

CALLS = []
STORE = {"records": [], "dead": [], "proved": set()}
LOCK = threading.Lock()


def record(hook, **details):
    with LOCK:
        CALLS.append((hook, details))


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Lifecycle:
    tag = "?"

    @hookimpl
    def aegis_startup(self, context):
        record("aegis_startup", plugin=self.tag, strict=context.strict)

    @hookimpl
    def aegis_shutdown(self, context):
        record("aegis_shutdown", plugin=self.tag)

    @hookimpl
    def aegis_reload(self, context):
        record("aegis_reload", plugin=self.tag)
        if self.tag == "scoring" and getattr(self, "pending_reload", False):
            self.pending_reload = False
            return ReloadReport(plugin="rec", artefact="weights.json", ok=True, old_version="a", new_version="b")
        return None

    @hookimpl
    def aegis_self_test(self, context):
        record("aegis_self_test", plugin=self.tag)
        return [SelfTestResult(plugin=self.tag, check="alive", ok=True)]


class Ingress(Lifecycle):
    tag = "ingress"

    class Config(_Config):
        payloads: list[dict] = Field(default_factory=list)
        batch: int = 3
        shards: int = 0  # > 0: record i is in shard i % shards
        move_shards_at_poll: int = 0  # > 0: checkpoint and restore every shard before that poll

    def __init__(self, config):
        self.pending = list(config.payloads)
        self.size = config.batch
        self.shards = config.shards
        self.move_at = config.move_shards_at_poll
        self.sent = 0
        self.polls = 0

    @hookimpl
    def aegis_ingress_poll(self, context, max_records):
        self.polls += 1
        if self.polls == self.move_at:
            shards = list(range(self.shards))
            blobs = context.host.checkpoint_shards(shards)
            record("checkpoint_shards", blobs=blobs, acked_before=sum(1 for h, _ in CALLS if h == "aegis_ingress_ack"))
            context.host.restore_shards(shards, blobs)
        take = min(self.size, max_records)
        chunk, self.pending = self.pending[:take], self.pending[take:]
        origins = [f"mem:{self.sent + i}" for i in range(len(chunk))]
        shards = [(self.sent + i) % self.shards for i in range(len(chunk))] if self.shards else None
        self.sent += len(chunk)
        record("aegis_ingress_poll", max_records=max_records, n=len(chunk))
        return RawBatch(source="mem", payloads=chunk, origins=origins, final=not self.pending,
                        token=self.sent, drops=len(chunk) // 4, shards=shards)

    @hookimpl
    def aegis_ingress_ack(self, context, batch, decisions, rejects):
        record("aegis_ingress_ack", thread=threading.current_thread().name, token=batch.token,
               decided=len(decisions) if decisions else 0,
               rejects=len(rejects), durable=len(STORE["records"]))


class InlineIngress(Ingress):
    """The same source, polled on the kernel's main thread."""

    @hookimpl
    def aegis_ingress_poll_inline(self, context, max_records):
        record("aegis_ingress_poll_inline", thread=threading.current_thread().name)
        return self.aegis_ingress_poll(context, max_records)


class Scoring(Lifecycle):
    tag = "scoring"

    class Config(_Config):
        fail: bool = False

    def __init__(self, config):
        self.fail = config.fail
        self.pending_reload = True
        self.scored = {}  # shard -> transactions scored

    @hookimpl
    def aegis_scoring_state_save(self, context, shards):
        record("aegis_scoring_state_save", shards=list(shards), thread=threading.current_thread().name)
        return str(sum(self.scored.get(s, 0) for s in shards)).encode()

    @hookimpl
    def aegis_scoring_state_restore(self, context, shards, blobs):
        record("aegis_scoring_state_restore", shards=list(shards), blobs=dict(blobs),
               thread=threading.current_thread().name)
        for s in shards:
            self.scored[s] = int(blobs[s]) if s in blobs else 0

    @hookimpl
    def aegis_scoring_artefacts(self, context):
        record("aegis_scoring_artefacts")
        return None

    @hookimpl
    def aegis_scoring_score(self, context, batch):
        record("aegis_scoring_score", n=batch.n, shard=None if batch.shard is None else batch.shard.tolist())
        for s in [] if batch.shard is None else batch.shard.tolist():
            self.scored[s] = self.scored.get(s, 0) + 1
        if self.fail:
            raise RuntimeError("model file vanished")
        return ScoreResult({"AMOUNT": FactorScores(np.where(batch.amount > 1000, 1.0, 0.0), "RC_AMOUNT_ANOMALY")},
                           versions={"model_version_hash": "sha256:rec"})


class Secrets(Lifecycle):
    tag = "secrets"
    capabilities = {"non_extractable_keys": False}

    class Config(_Config):
        values: dict[str, str] = Field(default_factory=dict)

    def __init__(self, config):
        from cryptography.hazmat.primitives.asymmetric import ec
        self.values = config.values
        self.key = ec.generate_private_key(ec.SECP256R1())

    @hookimpl
    def aegis_secrets_resolve(self, context, name):
        record("aegis_secrets_resolve", name=name)
        if name not in self.values:
            raise SecretNotFound(f"secret {name!r} not found (recorder)")
        return self.values[name]

    @hookimpl
    def aegis_secrets_sign(self, context, data, key):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        record("aegis_secrets_sign", key=key)
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    @hookimpl
    def aegis_secrets_public_key(self, context, key):
        from cryptography.hazmat.primitives import serialization
        record("aegis_secrets_public_key", key=key)
        return self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)


class Audit(Lifecycle):
    tag = "audit"

    class Config(_Config):
        token: str = ""

    def __init__(self, config):
        self.token = config.token

    @hookimpl
    def aegis_audit_write(self, context, decisions, records):
        record("aegis_audit_write", n=len(records))
        STORE["records"].extend(r.line for r in records)

    @hookimpl
    def aegis_audit_known(self, context, uetrs):
        import orjson
        stored = {orjson.loads(line)["uetr"] for line in STORE["records"]}
        record("aegis_audit_known", n=len(uetrs))
        return stored & set(uetrs)

    @hookimpl
    def aegis_audit_head(self, context):
        from aegis.audit_chain import ChainHead, checkpoint_hash, split_line
        record("aegis_audit_head")
        if not STORE["records"]:
            return None
        member = split_line(STORE["records"][-1])[1]
        head = ChainHead(seq=member["seq"], hash=member["hash"])
        if STORE.get("checkpoints"):
            head.checkpoint_seq = STORE["checkpoints"][-1]["to_seq"]
            head.checkpoint_hash = checkpoint_hash(STORE["checkpoints"][-1])
        return head

    @hookimpl
    def aegis_audit_checkpoint(self, context, checkpoint):
        record("aegis_audit_checkpoint", to_seq=checkpoint["to_seq"])
        STORE.setdefault("checkpoints", []).append(checkpoint)

    @hookimpl
    def aegis_audit_scan(self, context, after_seq):
        from aegis.audit_chain import split_line
        record("aegis_audit_scan", after_seq=after_seq)
        return [line for line in STORE["records"] if split_line(line)[1]["seq"] > after_seq]

    @hookimpl
    def aegis_audit_checkpoints(self, context):
        return list(STORE.get("checkpoints", []))

    @hookimpl
    def aegis_audit_dead_letter(self, context, rejects):
        record("aegis_audit_dead_letter", n=len(rejects))
        STORE["dead"].extend(rejects)

    @hookimpl
    def aegis_audit_lookup(self, context, uetr):
        import orjson
        record("aegis_audit_lookup", uetr=uetr)
        for line in STORE["records"]:
            rec = orjson.loads(line)
            if rec["uetr"] == uetr:
                return rec
        return None


class Metrics(Lifecycle):
    tag = "metrics"

    class Config(_Config):
        pass

    def __init__(self, config):
        pass

    @hookimpl
    def aegis_metrics_observe(self, context, stats):
        record("aegis_metrics_observe", transactions=stats.transactions, block=stats.block,
               rejects=stats.rejects, drops=stats.drops)


class Proving(Lifecycle):
    tag = "proving"

    class Config(_Config):
        pass

    def __init__(self, config):
        pass

    @hookimpl
    def aegis_proving_submit(self, context, decisions):
        flagged = int((decisions.decision > 0).sum())
        record("aegis_proving_submit", flagged=flagged)
        STORE["proved"].update(u for u, d in zip(decisions.uetr, decisions.decision.tolist()) if d > 0)
        return flagged

    @hookimpl
    def aegis_proving_reference(self, context, decisions):
        refs = [f"rec:{u}" if d > 0 else None for u, d in zip(decisions.uetr, decisions.decision.tolist())]
        record("aegis_proving_reference", named=sum(r is not None for r in refs))
        return refs

    @hookimpl
    def aegis_proving_lookup(self, context, uetr):
        record("aegis_proving_lookup", uetr=uetr)
        return {"proof": {"pi_a": ["1", "2", "1"]}, "public_inputs": ["7"]} if uetr in STORE["proved"] else None

    @hookimpl
    def aegis_proving_verify(self, context, proof, public_inputs):
        record("aegis_proving_verify")
        return proof.get("ok") is True
'''

ENTRY_POINTS = {f"aegis.{family}": {"rec": f"aegis_recorder:{cls}"} for family, cls in (
    ("ingress", "Ingress"), ("scoring", "Scoring"), ("secrets", "Secrets"), ("audit", "Audit"),
    ("metrics", "Metrics"), ("proving", "Proving"))}
ENTRY_POINTS["aegis.ingress"]["rec-inline"] = "aegis_recorder:InlineIngress"
