"""Content-addressed snapshots of what produced each decision: scoring plugins' configuration
and the files it names (weights, rule tables, sanctions lists).

A snapshot ("bundle") is the plugin's name, its validated configuration, and the bytes of every
file or folder the configuration points at (the plugin's ``aegis_scoring_artefacts`` answer, or
every set ``Path`` field of its Config). It is stored once under the sha256 of its canonical
JSON; every decision record names the bundles in force (``snapshots``), so a past decision can
be exported and replayed with exactly what produced it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel


def _path_fields(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Path]]:
    """Dotted names and values of every set Path field, recursively."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, Path):
            yield prefix + name, value
        elif isinstance(value, BaseModel):
            yield from _path_fields(value, f"{prefix}{name}.")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _path_fields(item, f"{prefix}{name}.{i}.")


def _read(path: Path) -> dict[str, str]:
    """A file or a folder (recursively) as relative name → base64 bytes."""
    if path.is_dir():
        return {str(p.relative_to(path)): base64.b64encode(p.read_bytes()).decode()
                for p in sorted(path.rglob("*")) if p.is_file()}
    return {"": base64.b64encode(path.read_bytes()).decode()}


def _with_secret_refs(dumped: Any, raw: Any) -> Any:
    """``dumped`` with every value the YAML gave as ``{"$secret": name}`` put back as that reference.

    A snapshot never holds a secret (nor pydantic's ``**********`` mask of one, which no plugin
    could start with); replay resolves the reference through the deployment's secrets plugin.
    """
    from aegis.config import SECRET_REF
    if isinstance(raw, dict) and set(raw) == {SECRET_REF}:
        return dict(raw)
    if isinstance(raw, dict) and isinstance(dumped, dict):
        return {k: _with_secret_refs(v, raw[k]) if k in raw else v for k, v in dumped.items()}
    if isinstance(raw, list) and isinstance(dumped, list) and len(raw) == len(dumped):
        return [_with_secret_refs(d, r) for d, r in zip(dumped, raw, strict=True)]
    return dumped


def bundle(plugin_name: str, config: BaseModel, artefacts: dict[str, Path] | None = None,
           raw_config: dict[str, Any] | None = None) -> bytes:
    """Canonical JSON of a plugin's configuration and artefact bytes.

    ``raw_config`` is the plugin's YAML section: its ``$secret`` references replace the resolved values.
    """
    files = artefacts if artefacts is not None else dict(_path_fields(config))
    dumped = config.model_dump(mode="json")
    if raw_config:
        dumped = _with_secret_refs(dumped, raw_config)
    doc = {"plugin": plugin_name, "config": dumped,
           "artefacts": {field: _read(Path(path)) for field, path in sorted(files.items())
                         if Path(path).exists()}}
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


class SnapshotStore:
    """``<dir>/<sha256>.json``, written once (atomically), never rewritten."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.directory / f"{digest}.json"
        if not target.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".snapshot-")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        return digest

    def get(self, digest: str) -> dict[str, Any]:
        path = self.directory / f"{digest}.json"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(f"snapshot {digest} is not in {self.directory}") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"snapshot {path} does not match its name: the file was altered")
        return orjson.loads(data)


def restore(doc: dict[str, Any], directory: Path) -> dict[str, Any]:
    """Write a bundle's artefacts under ``directory``; return the config pointing at them."""
    config = orjson.loads(orjson.dumps(doc["config"]))
    for field, files in doc["artefacts"].items():
        base = directory / field.replace(".", "_")
        if list(files) == [""]:
            base.parent.mkdir(parents=True, exist_ok=True)
            base.write_bytes(base64.b64decode(files[""]))
        else:
            for name, content in files.items():
                (base / name).parent.mkdir(parents=True, exist_ok=True)
                (base / name).write_bytes(base64.b64decode(content))
        node = config
        *parents, leaf = field.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(leaf)] = str(base)
        else:
            node[leaf] = str(base)
    return config
