"""The ``s3`` audit sink: each written batch becomes one write-once object, in chain order."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from aegis.audit_chain import (
    ChainedRecord,
    ChainHead,
    checkpoint_hash,
    record_text,
    record_uetr,
    record_uetrs,
    split_line,
)
from aegis.context import Context
from aegis.dead_letter import dead_letter_lines
from aegis.hookspecs import hookimpl
from aegis.lifecycle import SelfTestResult
from aegis.model import Reject, utc_now
from aegis_audit_s3.bucket import bucket_lock, ensure_bucket, retention_for
from aegis_audit_s3.client import make_client
from aegis_audit_s3.config import S3AuditConfig
from aegis_audit_s3.errors import S3AuditError
from aegis_audit_s3.layout import Layout
from aegis_audit_s3.listing import SeqIndex
from aegis_audit_s3.recent import RecentUetrs
from aegis_audit_s3.store import ObjectStore, error_code, status_code

log = logging.getLogger("aegis.audit.s3")
NDJSON = "application/x-ndjson"


class S3AuditSink:
    """Stores each batch's chained records as one object that is never overwritten, with retention."""

    Config = S3AuditConfig

    def __init__(self, config: S3AuditConfig):
        self.config = config
        self.layout = Layout(config.prefix)
        self.recent = RecentUetrs(config.dedupe_tail)
        self.client: Any = None
        self.store: ObjectStore | None = None
        self.records: SeqIndex | None = None
        self.checkpoint_index: SeqIndex | None = None
        self.written = 0

    # -- lifecycle -----------------------------------------------------------------------------

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        config = self.config
        self.client = make_client(config, config.read_workers)
        try:
            retention = None
            if not config.read_only:
                ensure_bucket(self.client, config)
                retention = retention_for(self.client, config, strict=context.strict)
            self.store = ObjectStore(self.client, config.bucket, retention, config.read_workers)
            self.records = SeqIndex(self.client, config.bucket, self.layout.records)
            self.checkpoint_index = SeqIndex(self.client, config.bucket, self.layout.checkpoints)
            if not config.read_only:
                self._remember_tail()
        except BaseException:
            self.aegis_shutdown()  # the kernel does not shut down a plugin that failed to start
            raise

    @hookimpl
    def aegis_shutdown(self) -> None:
        if self.store is not None:
            self.store.close()
        if self.client is not None:
            self.client.close()
        self.store = self.client = None

    def _remember_tail(self) -> None:
        """Reload the UETRs of the last ``dedupe_tail`` records (their objects are read, newest last)."""
        last = self._last_record()
        if last is None:
            return
        first_wanted = max(1, last[0] - self.config.dedupe_tail + 1)
        for object_seq, body in self._objects_from(self.records.floor(first_wanted)):
            self.recent.add([u for u in map(record_uetr, _lines(body)) if u is not None], object_seq)
        log.debug("%s: remembered %d recent UETRs", self.config.location, len(self.recent))

    # -- reading ---------------------------------------------------------------------------------

    def _objects_from(self, first: int | None) -> Iterator[tuple[int, bytes]]:
        """(first seq, body) of every records object from the one starting at ``first`` (``None``: all)."""
        folder = self.records.folder
        for key, body in self.store.get_many(folder.key(s) for s in self.records.seqs_from(first)):
            yield folder.seq(key), body

    def _last_record(self) -> tuple[int, str] | None:
        """(seq, hash) of the last stored record, from the last records object."""
        last = self.records.last()
        if last is None:
            return None
        lines = _lines(self.store.get(self.records.folder.key(last)))
        if not lines:
            raise S3AuditError(f"{self.store.url(self.records.folder.key(last))} holds no records")
        chain = split_line(lines[-1])[1]
        return int(chain["seq"]), chain["hash"]

    @hookimpl
    def aegis_audit_head(self) -> ChainHead | None:
        last = self._last_record()
        if last is None:
            return None
        head = ChainHead(seq=last[0], hash=last[1])
        checkpoint_seq = self.checkpoint_index.last()
        if checkpoint_seq is not None:
            checkpoint = orjson.loads(self.store.get(self.checkpoint_index.folder.key(checkpoint_seq)))
            head.checkpoint_seq, head.checkpoint_hash = int(checkpoint["to_seq"]), checkpoint_hash(checkpoint)
        return head

    @hookimpl
    def aegis_audit_scan(self, after_seq: int) -> Iterator[bytes]:
        first = self.records.floor(after_seq + 1) if after_seq > 0 else None
        for _, body in self._objects_from(first):
            for line in _lines(body):
                if after_seq and _seq(line) <= after_seq:
                    continue
                yield line

    @hookimpl
    def aegis_audit_checkpoints(self) -> list[dict]:
        folder = self.checkpoint_index.folder
        keys = [folder.key(s) for s in self.checkpoint_index.seqs_from(None)]
        return [orjson.loads(body) for _, body in self.store.get_many(keys)]

    @hookimpl
    def aegis_audit_lookup(self, uetr: str) -> dict | None:
        """From the recent window's object at once; otherwise every records object, newest first (linear)."""
        uetr = uetr.lower()
        needle = b'"uetr":"' + uetr.encode() + b'"'
        known = self.recent.object_of(uetr)
        if known is not None:
            found = _find(self.store.get(self.records.folder.key(known)), needle, uetr)
            if found is not None:
                return found
        folder = self.records.folder
        newest_first = reversed(list(self.records.seqs_from(None)))  # ints: ~30 bytes an object in memory
        for _, body in self.store.get_many(folder.key(s) for s in newest_first):
            found = _find(body, needle, uetr)
            if found is not None:
                return found
        return None

    # -- writing ---------------------------------------------------------------------------------

    def _writable(self) -> ObjectStore:
        if self.config.read_only:
            raise PermissionError(f"{self.config.location} is opened read-only (read_only: true)")
        return self.store

    @hookimpl
    def aegis_audit_known(self, uetrs: Sequence[str]) -> set[str]:
        """Known from the recent window (``dedupe_tail``): re-delivery only reaches unacknowledged batches."""
        return {u for u in uetrs if u in self.recent}

    @hookimpl
    def aegis_audit_write(self, records: Sequence[ChainedRecord]) -> None:
        store = self._writable()
        if not records:
            return
        first, last = records[0].seq, records[-1].seq
        body = record_text(records)
        store.put_new(self.records.folder.key(first), body, NDJSON,
                      {"aegis-first-seq": str(first), "aegis-last-seq": str(last), "aegis-records": str(len(records))})
        self.recent.add(record_uetrs(records), first)
        self.written += len(records)

    @hookimpl
    def aegis_audit_checkpoint(self, checkpoint: dict) -> None:
        store = self._writable()
        store.put_new(self.checkpoint_index.folder.key(int(checkpoint["to_seq"])), orjson.dumps(checkpoint),
                      "application/json", {"aegis-from-seq": str(checkpoint["from_seq"]),
                                           "aegis-to-seq": str(checkpoint["to_seq"])})

    @hookimpl
    def aegis_audit_dead_letter(self, rejects: Sequence[Reject]) -> None:
        store = self._writable()
        if rejects:
            now = utc_now()
            store.put_new(self.layout.dead_letter_key(now), dead_letter_lines(rejects, now), NDJSON)

    # -- self-test ------------------------------------------------------------------------------

    @hookimpl
    def aegis_self_test(self) -> list[SelfTestResult]:
        name = f"audit (s3 {self.config.location})"
        try:
            self.client.head_bucket(Bucket=self.config.bucket)
        except (ClientError, BotoCoreError) as exc:
            return [SelfTestResult(name, "bucket reachable", False, str(exc))]
        results = [SelfTestResult(name, "bucket reachable", True, self.client.meta.endpoint_url)]
        if self.config.read_only:
            return results
        results.append(self._retention_check(name))
        results.append(self._conditional_put_check(name))
        return results

    def _retention_check(self, name: str) -> SelfTestResult:
        retention = self.store.retention
        if retention is not None:
            return SelfTestResult(name, "objects retained", True, f"{retention.mode} for {retention.days} days")
        lock = bucket_lock(self.client, self.config.bucket)
        if lock.default_rule is not None:
            return SelfTestResult(name, "objects retained", True, f"bucket default retention {lock.default_rule}")
        return SelfTestResult(name, "objects retained", False,
                              lock.unreadable or "no Object Lock retention: objects can be deleted")

    def _conditional_put_check(self, name: str) -> SelfTestResult:
        """Write a probe object twice with If-None-Match: the server must refuse the second PUT."""
        check = "existing keys are never overwritten (If-None-Match)"
        key = self.layout.self_test_key()
        try:
            self.client.put_object(Bucket=self.config.bucket, Key=key, Body=b"first", IfNoneMatch="*",
                                  ChecksumAlgorithm="SHA256")
            try:
                self.client.put_object(Bucket=self.config.bucket, Key=key, Body=b"second",
                                      IfNoneMatch="*", ChecksumAlgorithm="SHA256")
            except ClientError as exc:
                if error_code(exc) == "PreconditionFailed" or status_code(exc) == 412:
                    return SelfTestResult(name, check, True, "a second PUT of the same key was refused (412)")
                raise
            return SelfTestResult(name, check, False, f"the server accepted a second PUT of {key} despite "
                                                      "If-None-Match: *; records could be overwritten")
        except (ClientError, BotoCoreError) as exc:
            return SelfTestResult(name, check, False, f"probe {key}: {exc}")
        finally:
            try:
                self.client.delete_object(Bucket=self.config.bucket, Key=key)
            except (ClientError, BotoCoreError):
                pass  # retained by the bucket's default retention: it stays, it is tiny


def _lines(body: bytes) -> list[bytes]:
    return [line for line in body.split(b"\n") if line]


def _seq(line: bytes) -> int:
    try:
        return int(split_line(line)[1]["seq"])
    except (ValueError, KeyError):
        return 0  # unreadable: let the verifier report it


def _find(body: bytes, needle: bytes, uetr: str) -> dict | None:
    at = body.find(needle)
    while at >= 0:
        start = body.rfind(b"\n", 0, at) + 1
        end = body.find(b"\n", at)
        end = len(body) if end < 0 else end
        try:
            record = orjson.loads(body[start:end])
        except orjson.JSONDecodeError:
            record = None
        if isinstance(record, dict) and record.get("uetr") == uetr:
            return record
        at = body.find(needle, end)
    return None
