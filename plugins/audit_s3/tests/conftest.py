"""A real S3-compatible server for the S3 sink's tests: ``moto_server`` from PyPI ``moto[server]``.

One server per test session on 127.0.0.1 and a free port; every test gets its own bucket, so
tests never see each other's objects. A missing server binary fails the tests (it is in the
plugin's ``test`` extra), it does not skip them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest

STARTUP_TIMEOUT = 30.0
CREDENTIALS = {"access_key_id": "aegis-test", "secret_access_key": "aegis-test-secret"}


def moto_server_binary() -> Path:
    for candidate in (Path(sys.executable).parent / "moto_server", shutil.which("moto_server")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    pytest.fail("moto_server was not found next to the Python interpreter or on PATH: the S3 sink's tests need a "
                "real S3-compatible server. Install it with `pip install -e 'plugins/audit_s3[test]'` "
                "(PyPI moto[server])", pytrace=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory) -> Iterator[str]:
    """The URL of a running moto S3 server, bound to 127.0.0.1."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen([str(moto_server_binary()), "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start on {url}: {log_path.read_text(errors='replace')[-2000:]}",
                                pytrace=False)
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def s3(endpoint) -> Any:
    """An out-of-band boto3 client: reads and attacks the bucket without going through the plugin."""
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=CREDENTIALS["access_key_id"],
                        aws_secret_access_key=CREDENTIALS["secret_access_key"])


def new_bucket_name() -> str:
    return f"aegis-test-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def locked_bucket(s3) -> str:
    """A new bucket created with Object Lock enabled (as production buckets are provisioned)."""
    name = new_bucket_name()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


@pytest.fixture
def plain_bucket(s3) -> str:
    """A new bucket without Object Lock."""
    name = new_bucket_name()
    s3.create_bucket(Bucket=name)
    return name


class OutOfBand:
    """Reads a bucket directly with boto3, not through the plugin (what an auditor or attacker sees)."""

    def __init__(self, client: Any, endpoint: str):
        self.client, self.endpoint = client, endpoint

    def config(self, bucket: str, **overrides: Any) -> dict[str, Any]:
        """The sink's YAML section for ``bucket`` (credentials as plain strings, as resolved secrets are)."""
        return {"endpoint_url": self.endpoint, "region": "us-east-1", "bucket": bucket, "prefix": "audit/eu-1",
                **CREDENTIALS, "object_lock": {"mode": "COMPLIANCE", "retain_days": 3}, **overrides}

    def keys(self, bucket: str, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", ())]
        return keys

    def body(self, bucket: str, key: str) -> bytes:
        return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def lines(self, bucket: str, prefix: str) -> list[bytes]:
        """Every line of every object under ``prefix``, in listing order."""
        return [line for key in self.keys(bucket, prefix) for line in self.body(bucket, key).splitlines()]

    def json_lines(self, bucket: str, prefix: str) -> list[dict]:
        return [orjson.loads(line) for line in self.lines(bucket, prefix)]


@pytest.fixture(scope="session")
def oob(s3, endpoint) -> OutOfBand:
    return OutOfBand(s3, endpoint)
