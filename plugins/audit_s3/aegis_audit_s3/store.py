"""Write-once objects: a conditional PUT that never replaces an existing key, with retention; ordered reads.

Every PUT carries ``If-None-Match: *``, so S3 refuses it (412) when the key exists. When it is
refused the existing object is read back: the same bytes mean an earlier attempt of this very
PUT succeeded and only its response was lost (a retry), anything else means another writer
uses the prefix — that is raised, never overwritten.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from aegis_audit_s3.errors import KeyConflict, S3AuditError

log = logging.getLogger("aegis.audit.s3")


@dataclass(frozen=True)
class Retention:
    """Object Lock retention applied to each object as it is written."""

    mode: str  # COMPLIANCE | GOVERNANCE
    days: int

    def until(self, now: datetime) -> datetime:
        return now + timedelta(days=self.days)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def status_code(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class ObjectStore:
    """One bucket's objects, written once each and read back in order."""

    def __init__(self, client: Any, bucket: str, retention: Retention | None, read_workers: int):
        self.client, self.bucket, self.retention = client, bucket, retention
        self.read_workers = read_workers
        self._pool: ThreadPoolExecutor | None = None
        self.puts = 0
        self.retried_puts = 0

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def put_new(self, key: str, body: bytes, content_type: str, metadata: dict[str, str] | None = None) -> None:
        """Store ``body`` under ``key`` unless the key exists; return once S3 has it durably."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": body, "IfNoneMatch": "*",
                                  "ContentType": content_type, "Metadata": metadata or {},
                                  "ChecksumAlgorithm": "SHA256"}
        if self.retention is not None:
            kwargs["ObjectLockMode"] = self.retention.mode
            kwargs["ObjectLockRetainUntilDate"] = self.retention.until(datetime.now(UTC))
        for attempt in (1, 2, 3):
            try:
                self.client.put_object(**kwargs)
                self.puts += 1
                return
            except ClientError as exc:
                code = error_code(exc)
                if code == "ConditionalRequestConflict" and attempt < 3:
                    continue  # 409: a concurrent conditional write to the key; the next attempt sees its result
                if code == "PreconditionFailed" or status_code(exc) == 412:
                    self._check_same(key, body)
                    return
                raise S3AuditError(f"PUT {self.url(key)} failed: {code or status_code(exc)}: "
                                   f"{exc.response.get('Error', {}).get('Message', exc)}") from exc

    def _check_same(self, key: str, body: bytes) -> None:
        existing = self.get(key)
        if existing != body:
            raise KeyConflict(
                f"{self.url(key)} already exists with different content ({len(existing)} bytes, ours {len(body)}): "
                "another writer uses this bucket and prefix (two deployments, or two sinks, with the same prefix?). "
                "Nothing was overwritten; give each writer its own prefix")
        self.retried_puts += 1
        log.info("%s was already stored with these exact bytes (an earlier attempt succeeded)", self.url(key))

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise S3AuditError(f"GET {self.url(key)} failed: {error_code(exc) or status_code(exc)}") from exc

    def get_many(self, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """``(key, body)`` in the order of ``keys``, fetching up to ``read_workers`` objects ahead."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.read_workers, thread_name_prefix="audit-s3-read")
        window: deque[tuple[str, Future[bytes]]] = deque()
        try:
            for key in keys:
                window.append((key, self._pool.submit(self.get, key)))
                if len(window) > 2 * self.read_workers:
                    done_key, future = window.popleft()
                    yield done_key, future.result()
            while window:
                done_key, future = window.popleft()
                yield done_key, future.result()
        finally:
            for _, future in window:  # the reader stopped early
                future.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
