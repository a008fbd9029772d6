"""What the S3 sink reports to an operator: each message names the bucket, the key and what to do."""

from __future__ import annotations

from aegis.errors import AegisError


class S3AuditError(AegisError):
    """The S3 audit sink cannot do what it must (reach the bucket, keep records immutable, store a batch)."""


class KeyConflict(S3AuditError):
    """A key this sink was about to write already holds different content: another writer uses the prefix."""


class BucketNotImmutable(S3AuditError):
    """Strict mode, and the bucket cannot keep objects from being deleted or overwritten (no Object Lock)."""
