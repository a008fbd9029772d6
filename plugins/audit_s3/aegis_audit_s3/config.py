"""The S3 sink's configuration section: where the objects go, how to reach the bucket, retention."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class ObjectLockSettings(BaseModel):
    """Retention set on every object written (S3 Object Lock; the bucket must have it enabled)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["COMPLIANCE", "GOVERNANCE"] = Field(
        "COMPLIANCE", description="COMPLIANCE: no one, not even the account root, can delete or shorten the "
                                  "retention of an object before it expires; GOVERNANCE: users with "
                                  "s3:BypassGovernanceRetention can")
    retain_days: int = Field(2557, ge=1, le=36500,
                             description="days each object is retained from when it is written (2557 = 7 years)")


class S3AuditConfig(BaseModel):
    """Bucket, prefix, credentials and retention of the ``s3`` audit sink."""

    model_config = ConfigDict(extra="forbid")

    bucket: str | None = Field(None, description="the bucket (required unless `path` names it)")
    prefix: str = Field("aegis-audit", description="key prefix of this sink's objects inside the bucket (no "
                                                   "leading or trailing slash; '' for the bucket root)")
    path: str | None = Field(
        None, description="s3://BUCKET/PREFIX, instead of `bucket` and `prefix` (what `aegis audit verify --sink "
                          "s3:s3://BUCKET/PREFIX` passes)")
    endpoint_url: str | None = Field(
        None, description="S3 endpoint for S3-compatible stores (MinIO, Ceph, moto); default: AWS, or the "
                          "AWS_ENDPOINT_URL environment variable")
    region: str | None = Field(None, description="AWS region of the bucket; default: boto3's (AWS_DEFAULT_REGION, "
                                                 "~/.aws/config), else us-east-1")
    access_key_id: SecretStr | None = Field(
        None, description='access key id; reference it as {"$secret": name}. Default: boto3\'s credential chain '
                          "(environment, instance or pod role)")
    secret_access_key: SecretStr | None = Field(
        None, description='secret access key, as {"$secret": name}; required with access_key_id')
    session_token: SecretStr | None = Field(
        None, description='session token of temporary credentials, as {"$secret": name}')
    addressing_style: Literal["auto", "path", "virtual"] = Field(
        "auto", description="bucket addressing: path style (http://host/bucket/key) for most S3-compatible "
                            "servers, virtual hosted (http://bucket.host/key) for AWS; auto lets boto3 choose")
    object_lock: ObjectLockSettings | None = Field(
        None, description="retention applied to every object written (mode, retain_days); the bucket must have "
                          "Object Lock enabled. Without it, the bucket's default retention (if any) applies")
    create_bucket: bool = Field(
        False, description="create the bucket at startup if it does not exist (with Object Lock enabled when "
                           "object_lock is set); for tests and first installs, production buckets are provisioned")
    dedupe_tail: int = Field(
        65536, ge=1, description="how many recent UETRs are remembered (and reloaded from the last objects at "
                                 "startup) so a re-delivered record is not written twice")
    read_workers: int = Field(8, ge=1, le=64, description="concurrent GETs when reading many objects (scan, "
                                                          "verification, lookup, startup)")
    timeout_seconds: float = Field(30.0, gt=0, description="connect and read timeout of one S3 request")
    max_attempts: int = Field(5, ge=1, le=20, description="attempts per S3 request, with backoff, before a "
                                                          "write fails (and with it the batch)")
    read_only: bool = Field(
        False, description="open for reading only (verification, export): no bucket checks, no writes")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        value = value.strip("/")
        if "//" in value:
            raise ValueError(f"prefix {value!r} contains an empty path segment ('//')")
        return value

    @model_validator(mode="after")
    def _location(self) -> S3AuditConfig:
        if self.path is not None:
            match = re.fullmatch(r"s3://([^/]+)/?(.*)", self.path)
            if not match:
                raise ValueError(f"path {self.path!r} is not of the form s3://BUCKET/PREFIX")
            if self.bucket is not None and self.bucket != match.group(1):
                raise ValueError(f"path names bucket {match.group(1)!r} but bucket is {self.bucket!r}: give one")
            self.bucket, self.prefix = match.group(1), self._prefix(match.group(2))
        if self.bucket is None:
            raise ValueError("bucket is required (or path: s3://BUCKET/PREFIX)")
        if not BUCKET_NAME.match(self.bucket) or ".." in self.bucket:
            raise ValueError(f"bucket {self.bucket!r} is not a valid S3 bucket name (3-63 characters: lower-case "
                             "letters, digits, '.' and '-', starting and ending with a letter or digit)")
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("access_key_id and secret_access_key go together: give both or neither")
        return self

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
