"""The Aegis plugin API: every hook, grouped by family.

A plugin is a class published under an entry point in group ``aegis.<family>``
(``aegis.ingress``, ``aegis.scoring``, ``aegis.secrets``, ``aegis.proving``,
``aegis.audit``, ``aegis.metrics``). It carries a pydantic ``Config`` model
(``extra="forbid"``); the kernel validates the plugin's YAML section with it and
constructs the plugin as ``Plugin(config)``. The instance is registered with
pluggy and implements some of the hooks below, marked with :data:`hookimpl`.

Rules every hook follows:

* Names are ``aegis_<family>_<verb>`` (lifecycle hooks: ``aegis_<verb>``).
* Arguments are keyword arguments plus one frozen :class:`aegis.context.Context`;
  an implementation may accept any subset of them (pluggy passes only what it names).
* Hooks are called once per *batch*, never per transaction.
* Where order matters (scoring) the kernel calls plugins in YAML order itself.
* Hooks are only ever extended: a new argument is added, an old one is deprecated
  with a warning for a release before it goes.

The docstrings below are the reference; ``docs/plugin-hooks.md`` mirrors them and
a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from aegis.audit_chain import ChainedRecord, ChainHead
    from aegis.context import Context
    from aegis.decide import Decisions
    from aegis.lifecycle import ReloadReport, SelfTestResult
    from aegis.model import Batch, RawBatch, Reject, ScoreResult
    from aegis.stats import BatchStats

PROJECT = "aegis"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

# --------------------------------------------------------------------------
# Lifecycle (every family)
# --------------------------------------------------------------------------


@hookspec
def aegis_startup(context: Context) -> None:
    """Open resources (files, sockets, sessions) before the first batch.

    Called once, in family order secrets → audit → metrics → scoring → proving →
    ingress, so a plugin can sign or audit through the families started before it.
    Raising aborts startup with the plugin's name in the error.

    :param context: the run's :class:`~aegis.context.Context`.
    """


@hookspec
def aegis_shutdown(context: Context) -> None:
    """Flush and close resources after the last batch was acknowledged.

    Called once, in reverse startup order, also after a failed run. Must not raise
    for resources that were never opened.

    :param context: the run's :class:`~aegis.context.Context`.
    """


@hookspec
def aegis_reload(context: Context) -> ReloadReport | None:
    """Check whether the plugin's files (weights, lists, rule tables) changed and swap them.

    Called between batches (at most once per ``pipeline.reload_interval`` seconds) and on
    SIGHUP. Swap atomically: a batch sees the old or the new version, never a mix. A file
    that fails validation is refused and the old version stays active; report that with
    ``ReloadReport(ok=False, ...)`` rather than raising.

    :param context: the run's :class:`~aegis.context.Context`.
    :returns: a :class:`~aegis.lifecycle.ReloadReport` when something was (or failed to be)
        reloaded, ``None`` when nothing changed.
    """


@hookspec
def aegis_self_test(context: Context) -> list[SelfTestResult] | None:
    """Prove the plugin works with its configuration, without touching production data.

    ``aegis self-test`` calls it after startup. Return one
    :class:`~aegis.lifecycle.SelfTestResult` per check (e.g. "token reachable",
    "sign/verify round trip", "sink writable").

    :param context: the run's :class:`~aegis.context.Context`.
    """


# --------------------------------------------------------------------------
# Ingress (aegis.ingress): one or more sources
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def aegis_ingress_poll(context: Context, max_records: int) -> RawBatch | None:
    """Return the next batch of undecoded records, or ``None`` when none is ready yet.

    Called by the kernel's intake thread on one ingress plugin at a time. Must not block
    longer than about 100 ms so shutdown stays prompt. A finite source sets
    ``RawBatch.final`` on its last batch (which may be empty).

    :param context: the run's :class:`~aegis.context.Context`.
    :param max_records: the most records the batch may hold (``pipeline.batch_size``).
    """


@hookspec(firstresult=True)
def aegis_ingress_poll_inline(context: Context, max_records: int) -> RawBatch | None:
    """Like :func:`aegis_ingress_poll`, but called on the kernel's main thread, between batches.

    Optional. The kernel uses it instead of an intake thread when this plugin is the deployment's
    only source, decoding is not done in worker processes and ``pipeline.inline_intake`` is on.
    Reading, screening and acknowledging then happen on one thread, so a source that answers
    its clients (the sidecar) replies from the thread that read the requests, with no hand-off
    between threads. It is called from that one thread only; it may wait up to about 100 ms for
    records, and anything it serves itself (health pings, overload replies) waits for the
    batch being screened to finish.

    :param context: the run's :class:`~aegis.context.Context`.
    :param max_records: the most records the batch may hold (``pipeline.batch_size``).
    """


@hookspec(firstresult=True)
def aegis_ingress_ack(context: Context, batch: RawBatch, decisions: Decisions | None,
                      rejects: Sequence[Reject]) -> None:
    """Acknowledge a batch whose audit records and dead letters are durable.

    Called exactly once per polled batch, in poll order, only after every audit sink
    returned from :func:`aegis_audit_write` and :func:`aegis_audit_dead_letter`. This is
    where a file source advances its resume position, a socket source replies, a Kafka
    source commits offsets.

    :param context: the run's :class:`~aegis.context.Context`.
    :param batch: the batch as returned by :func:`aegis_ingress_poll`.
    :param decisions: the batch's decisions (``None`` when every record was rejected).
    :param rejects: the batch's rejected records, with reasons.
    """


# --------------------------------------------------------------------------
# Scoring (aegis.scoring): many, called in YAML order
# --------------------------------------------------------------------------


@hookspec
def aegis_scoring_score(context: Context, batch: Batch) -> ScoreResult:
    """Score every transaction of ``batch`` and return named factor scores in [0, 1].

    Work on the batch's numpy columns (numba), never loop in Python per transaction.
    Per-account state (velocity windows, histories) is the plugin's own and must stay
    bounded. Raising marks the whole batch INVESTIGATE / ``RC_SCREENING_ERROR``: the
    kernel never turns an error into CLEAR.

    :param context: the run's :class:`~aegis.context.Context`.
    :param batch: the validated :class:`~aegis.model.Batch`.
    :returns: a :class:`~aegis.model.ScoreResult`: factor name → scores, reason code,
        optional per-transaction details and hard blocks, and the versions (hashes of
        weights, rule tables, list versions) that produced them.
    """


@hookspec
def aegis_scoring_artefacts(context: Context) -> dict[str, Path] | None:
    """Name the files or folders whose contents determine the plugin's scores.

    Keys are dotted paths of the plugin's Config fields (``geo.fatf_list``, ``weights``,
    ``lists.0.path``), values the file or folder in force. The kernel snapshots their bytes with
    the configuration whenever the plugin's reported versions change, so any past decision can be
    replayed. Without this hook every set ``Path`` field of the Config is snapshotted.

    :param context: the run's :class:`~aegis.context.Context`.
    """


@hookspec
def aegis_scoring_state_save(context: Context, shards: Sequence[int]) -> bytes | None:
    """Serialize this plugin's per-account state for the accounts of ``shards``.

    A shard is a source's unit of partition-local state (``Batch.shard``, e.g. a Kafka
    partition: every payment of one debtor account lands on one). When a shard moves to another
    process the source asks the kernel for a checkpoint (:meth:`aegis._manager.PluginHost.checkpoint_shards`),
    and the kernel calls this hook on the main thread, between batches, after every batch polled
    before the request was scored, audited and acknowledged, once per shard (``shards`` holds that
    one shard). The state must not change until the call returns.

    Account ids are process-local (:class:`aegis.model.AccountIndex`): name accounts by string
    (``context.host.accounts.names(ids)``) so another process can restore them. The blob must not
    be pickled (it travels through a broker); version it so a later release can read it.

    :param context: the run's :class:`~aegis.context.Context`.
    :param shards: the shards whose accounts' state to serialize.
    :returns: the state, or ``None`` when the plugin keeps no per-account state.
    """


@hookspec
def aegis_scoring_state_restore(context: Context, shards: Sequence[int], blobs: Mapping[int, bytes]) -> None:
    """Replace this plugin's state for ``shards`` with ``blobs`` (shard → what save returned for it).

    Called on the main thread (between batches) when a source is assigned ``shards``, before the
    first batch of them is scored. Drop any state held for a shard of ``shards``; a shard missing
    from ``blobs`` (no checkpoint yet) starts empty. Map account strings to this process's ids
    with ``context.host.accounts.intern(names)``. Raise on a blob the plugin cannot read (wrong
    version or configuration), naming the shard: the error reaches the source that asked, and a
    run stops rather than score with state it could not restore.

    :param context: the run's :class:`~aegis.context.Context`.
    :param shards: the newly assigned shards.
    :param blobs: the checkpointed state per shard (a subset of ``shards``), as this plugin saved it.
    """


# --------------------------------------------------------------------------
# Secrets (aegis.secrets): exactly one
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def aegis_secrets_resolve(context: Context, name: str) -> str:
    """Return the secret called ``name`` (API keys, passwords referenced as ``{"$secret": name}``).

    Raise :class:`aegis.errors.SecretNotFound` naming the backend and where it looked
    when there is no such secret; raise :class:`aegis.errors.SecurityViolation` when the
    security mode forbids the backend.

    :param context: the run's :class:`~aegis.context.Context`.
    :param name: the secret's name.
    """


@hookspec(firstresult=True)
def aegis_secrets_sign(context: Context, data: bytes, key: str) -> bytes:
    """Sign ``data`` with the signing key called ``key``; return the signature.

    Used for audit checkpoints, timestamp signatures and verification-key signatures.
    The signature must verify with :func:`aegis.signing.verify` against the PEM from
    :func:`aegis_secrets_public_key`.

    :param context: the run's :class:`~aegis.context.Context`.
    :param data: the bytes to sign (the plugin hashes them as its algorithm requires).
    :param key: the signing key's name (e.g. ``audit``).
    """


@hookspec(firstresult=True)
def aegis_secrets_public_key(context: Context, key: str) -> bytes:
    """Return the public half of signing key ``key`` as PEM (SubjectPublicKeyInfo).

    :param context: the run's :class:`~aegis.context.Context`.
    :param key: the signing key's name.
    """


# --------------------------------------------------------------------------
# Proving (aegis.proving): zero or one
# --------------------------------------------------------------------------


@hookspec(firstresult=True)
def aegis_proving_submit(context: Context, decisions: Decisions) -> int:
    """Queue proofs for the batch's BLOCK and INVESTIGATE decisions, off the hot path.

    Must return at once; proving runs in the plugin's own workers. When its bounded
    queue is full the plugin drops the request and counts it.

    :param context: the run's :class:`~aegis.context.Context`.
    :param decisions: the batch's decisions (durably audited already).
    :returns: how many proof requests were queued.
    """


@hookspec(firstresult=True)
def aegis_proving_reference(context: Context, decisions: Decisions) -> Sequence[str | None] | None:
    """Name, per decision, where its proof will be found, so the audit record can point at it.

    Called before the batch's records are written (the references go into them as
    ``proof_ref``); :func:`aegis_proving_submit` follows once they are durable. Return one entry
    per decision: a reference for each decision this plugin will queue a proof for, ``None`` for
    the others; or ``None`` for no references at all. A reference names a request: if the queue
    later drops it (counted), :func:`aegis_proving_lookup` answers ``None`` for that UETR.

    :param context: the run's :class:`~aegis.context.Context`.
    :param decisions: the batch's decisions (not yet audited).
    """


@hookspec(firstresult=True)
def aegis_proving_verify(context: Context, proof: dict, public_inputs: list) -> bool:
    """Verify one proof against the plugin's verification key.

    :param context: the run's :class:`~aegis.context.Context`.
    :param proof: the proof in snarkjs JSON form.
    :param public_inputs: its public inputs (decimal strings).
    """


@hookspec(firstresult=True)
def aegis_proving_lookup(context: Context, uetr: str) -> dict | None:
    """Return the stored proof of ``uetr``'s decision, or ``None``.

    The mapping holds at least ``proof`` and ``public_inputs`` (snarkjs JSON forms); never the
    private opening. Used by the regulatory export (``--include-zkp``).

    :param context: the run's :class:`~aegis.context.Context`.
    :param uetr: the transaction's UETR.
    """


# --------------------------------------------------------------------------
# Audit (aegis.audit): one or more sinks
# --------------------------------------------------------------------------


@hookspec
def aegis_audit_write(context: Context, decisions: Decisions, records: Sequence[ChainedRecord]) -> None:
    """Store the batch's chained records; return only when they are durable.

    ``records`` are the lines to store, in order: the kernel has already left out UETRs the
    sink reported as known (:func:`aegis_audit_known`) and appended this sink's hash-chain
    member to each line (:mod:`aegis.audit_chain`). Store each ``record.line`` byte for byte;
    never re-serialise it, or verification fails. Durable means it survives a crash of the
    process (and, under the default fsync policy, of the machine). Raising fails the batch: it
    is not acknowledged and the run stops, so nothing is acknowledged that was not recorded.

    :param context: the run's :class:`~aegis.context.Context`.
    :param decisions: the batch's :class:`~aegis.decide.Decisions` (all of them, for columns).
    :param records: the :class:`~aegis.audit_chain.ChainedRecord` sequence to store (a
        :class:`~aegis.audit_chain.ChainedRecords`, which also holds them as columns).

    .. versionchanged:: 0.2 ``records`` added: sinks store chained lines, not ``decisions.lines()``.
    """


@hookspec
def aegis_audit_known(context: Context, uetrs: Sequence[str]) -> Collection[str]:
    """Return which of ``uetrs`` the sink already stores (writing is idempotent on UETR).

    Called before every write so a re-delivered transaction (after a crash between audit and
    acknowledgement) is not recorded twice. A sink may answer from a bounded recent window when
    re-delivery can only reach that far back; say so in its documentation.

    :param context: the run's :class:`~aegis.context.Context`.
    :param uetrs: the batch's UETRs.
    """


@hookspec
def aegis_audit_head(context: Context) -> ChainHead | None:
    """Return where the sink's hash chain stands: last record and last checkpoint (or ``None`` if empty).

    Called once at startup so the chain continues where it stopped.

    :param context: the run's :class:`~aegis.context.Context`.
    """


@hookspec
def aegis_audit_checkpoint(context: Context, checkpoint: dict) -> None:
    """Durably store a signed checkpoint (Merkle root of the records since the previous one).

    :param context: the run's :class:`~aegis.context.Context`.
    :param checkpoint: the checkpoint mapping, signature included (store it as JSON unchanged).
    """


@hookspec
def aegis_audit_scan(context: Context, after_seq: int) -> Iterable[bytes]:
    """Yield the stored record lines with chain ``seq`` greater than ``after_seq``, in stored order.

    Used by ``aegis audit verify`` (``after_seq=0``: everything) and at startup to reload the
    records not yet sealed by a checkpoint. Read the storage as it is; do not repair or filter.

    :param context: the run's :class:`~aegis.context.Context`.
    :param after_seq: yield only records after this chain position.
    """


@hookspec
def aegis_audit_checkpoints(context: Context) -> list[dict]:
    """Return every stored checkpoint, oldest first.

    :param context: the run's :class:`~aegis.context.Context`.
    """


@hookspec
def aegis_audit_dead_letter(context: Context, rejects: Sequence[Reject]) -> None:
    """Durably record input that was rejected, with its reason and original bytes.

    :param context: the run's :class:`~aegis.context.Context`.
    :param rejects: the rejected records (:class:`~aegis.model.Reject`).
    """


@hookspec(firstresult=True)
def aegis_audit_lookup(context: Context, uetr: str) -> dict | None:
    """Return the stored decision record for ``uetr`` as a mapping, or ``None``.

    Used by regulatory export and the dashboard. The first sink that knows the UETR answers.

    :param context: the run's :class:`~aegis.context.Context`.
    :param uetr: the transaction's UETR (lower-case UUID string).
    """


# --------------------------------------------------------------------------
# Metrics (aegis.metrics): zero or more
# --------------------------------------------------------------------------


@hookspec
def aegis_metrics_observe(context: Context, stats: BatchStats) -> None:
    """Record one batch's figures: counts by decision, rejects, drops, queue fill, latency.

    Called after the batch was acknowledged; must be cheap (no I/O on the hot path).

    :param context: the run's :class:`~aegis.context.Context`.
    :param stats: the batch's :class:`~aegis.stats.BatchStats`.
    """


#: Hook name → family, for loading checks and docs.
FAMILIES = ("ingress", "scoring", "secrets", "proving", "audit", "metrics")
LIFECYCLE_HOOKS = ("aegis_startup", "aegis_shutdown", "aegis_reload", "aegis_self_test")


def hook_names() -> list[str]:
    """Every hook defined in this module, in definition order."""
    return [name for name, value in globals().items()
            if name.startswith("aegis_") and callable(value)]
