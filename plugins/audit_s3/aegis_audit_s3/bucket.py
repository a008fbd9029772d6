"""Startup checks of the bucket: that it exists (or is created), and whether it can keep objects immutable.

Object Lock is what makes an S3 audit trail write-once for real: without it anyone with delete
rights can remove a record object (the hash chain would show it, but the record is gone). Strict
mode therefore refuses a bucket that cannot retain the objects; permissive mode warns and goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from aegis_audit_s3.config import S3AuditConfig
from aegis_audit_s3.errors import BucketNotImmutable, S3AuditError
from aegis_audit_s3.store import Retention, error_code, status_code

log = logging.getLogger("aegis.audit.s3")


@dataclass(frozen=True)
class BucketLock:
    """The bucket's Object Lock state: enabled, its default retention, or why it could not be read."""

    enabled: bool
    default_rule: str | None = None  # e.g. "COMPLIANCE 2557 days"
    unreadable: str | None = None


def ensure_bucket(client: Any, config: S3AuditConfig) -> None:
    """Check the bucket exists and is reachable; create it when ``create_bucket`` says so."""
    bucket = config.bucket
    try:
        client.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if status_code(exc) not in (404,) and error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise S3AuditError(f"bucket {bucket!r} at {_where(client)}: {error_code(exc) or status_code(exc)} "
                               "(check the credentials and that they may s3:ListBucket it)") from exc
    if not config.create_bucket:
        raise S3AuditError(f"bucket {bucket!r} does not exist at {_where(client)}: provision it (with Object Lock "
                           "enabled) or set create_bucket: true")
    kwargs: dict[str, Any] = {"Bucket": bucket, "ObjectLockEnabledForBucket": config.object_lock is not None}
    region = client.meta.region_name
    if region and region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**kwargs)
    log.info("created bucket %s at %s (Object Lock %s)", bucket, _where(client),
             "enabled" if kwargs["ObjectLockEnabledForBucket"] else "off")


def bucket_lock(client: Any, bucket: str) -> BucketLock:
    try:
        found = client.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration", {})
    except ClientError as exc:
        code = error_code(exc)
        if code == "ObjectLockConfigurationNotFoundError":
            return BucketLock(enabled=False)
        return BucketLock(enabled=False, unreadable=f"{code or status_code(exc)} (grant "
                                                    "s3:GetBucketObjectLockConfiguration to check it)")
    rule = found.get("Rule", {}).get("DefaultRetention")
    default = None
    if rule:
        default = f"{rule.get('Mode')} {rule.get('Days') or rule.get('Years')} {'days' if 'Days' in rule else 'years'}"
    return BucketLock(enabled=found.get("ObjectLockEnabled") == "Enabled", default_rule=default)


def retention_for(client: Any, config: S3AuditConfig, strict: bool) -> Retention | None:
    """The retention to set on each PUT (``None``: none, or the bucket's default applies).

    Raises :class:`BucketNotImmutable` in strict mode when objects would not be retained.
    """
    lock = bucket_lock(client, config.bucket)
    where = f"bucket {config.bucket!r}"
    if lock.unreadable:
        problem = f"{where}: its Object Lock configuration cannot be read: {lock.unreadable}"
    elif not lock.enabled:
        problem = (f"{where} has no Object Lock: audit objects could be deleted by anyone with s3:DeleteObject "
                   "rights. Use a bucket created with Object Lock enabled")
    elif config.object_lock is not None:
        settings = config.object_lock
        log.info("%s: every object is retained %s for %d days", config.location, settings.mode, settings.retain_days)
        return Retention(settings.mode, settings.retain_days)
    elif lock.default_rule:
        log.info("%s: the bucket's default retention applies (%s)", config.location, lock.default_rule)
        return None
    else:
        problem = (f"{where} has Object Lock enabled but no default retention, and the sink sets none: set "
                   "object_lock: {mode: COMPLIANCE, retain_days: N} in the sink's config")
    if strict:
        raise BucketNotImmutable(f"{problem} (security_mode strict refuses it; permissive mode only warns)")
    log.warning("%s; writing without retention (security_mode permissive)", problem)
    return None


def _where(client: Any) -> str:
    return client.meta.endpoint_url
