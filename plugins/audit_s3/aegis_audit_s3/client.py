"""The boto3 S3 client for a sink's configuration: endpoint, region, credentials, timeouts, retries."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config as BotoConfig

from aegis_audit_s3.config import S3AuditConfig


def make_client(config: S3AuditConfig, pool_size: int) -> Any:
    """An S3 client (thread-safe) with standard retries; credentials from the config or boto3's chain."""
    credentials = {}
    if config.access_key_id is not None and config.secret_access_key is not None:
        credentials = {"aws_access_key_id": config.access_key_id.get_secret_value(),
                       "aws_secret_access_key": config.secret_access_key.get_secret_value()}
        if config.session_token is not None:
            credentials["aws_session_token"] = config.session_token.get_secret_value()
    session = boto3.session.Session(region_name=config.region, **credentials)
    boto_config = BotoConfig(
        connect_timeout=config.timeout_seconds, read_timeout=config.timeout_seconds,
        retries={"mode": "standard", "max_attempts": config.max_attempts},
        max_pool_connections=max(10, pool_size),
        s3={"addressing_style": config.addressing_style},
    )
    return session.client("s3", endpoint_url=config.endpoint_url,
                          region_name=config.region or session.region_name or "us-east-1", config=boto_config)
