"""Snapshots of plugin configurations: secrets are kept as references, never as values or masks."""

from __future__ import annotations

import orjson
from pydantic import BaseModel, SecretStr

from aegis.snapshots import bundle


class _Nested(BaseModel):
    token: SecretStr
    level: int = 1


class _Config(BaseModel):
    key: SecretStr
    name: str
    nested: _Nested
    keys: list[SecretStr]


def test_bundle_stores_secret_references_not_values_or_masks():
    raw = {"key": {"$secret": "pseudonym"}, "name": "bank-a",
           "nested": {"token": {"$secret": "api"}}, "keys": [{"$secret": "first"}, {"$secret": "second"}]}
    resolved = _Config(key="s3cr3t-value-1", name="bank-a", nested=_Nested(token="s3cr3t-value-2"),
                       keys=["s3cr3t-value-4", "s3cr3t-value-3"])
    data = bundle("demo", resolved, {}, raw)
    assert b"s3cr3t" not in data and b"*****" not in data
    config = orjson.loads(data)["config"]
    assert config == {"key": {"$secret": "pseudonym"}, "name": "bank-a",
                      "nested": {"token": {"$secret": "api"}, "level": 1},
                      "keys": [{"$secret": "first"}, {"$secret": "second"}]}


def test_bundle_without_references_is_the_plain_dump():
    config = _Nested(token="x", level=3)
    assert orjson.loads(bundle("demo", config, {}))["config"] == {"token": "**********", "level": 3}
