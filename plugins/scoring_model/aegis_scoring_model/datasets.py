"""Labelled data sets as the batches screening sees: PaySim, AMLSim and labelled JSONL.

Every record goes through the kernel's own decoding (:func:`aegis.decode.decode`) into a
:class:`aegis.model.Batch`, so training and evaluation compute features from exactly the
columns the plugin sees when it scores. PaySim is read by the ``file`` ingress plugin itself
(loaded by its entry point), with its default mapping. Labels travel in ``Batch.labels``:

* ``is_fraud`` — per payment (PaySim ``isFraud``; JSONL ``is_fraud``);
* ``debtor_fraud`` / ``creditor_fraud`` — AMLSim's per-account label of either party.
"""

from __future__ import annotations

import csv
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import orjson

from aegis.decode import decode
from aegis.model import AccountIndex, Batch, RawBatch

Format = Literal["paysim", "amlsim", "jsonl"]
FORMATS: tuple[str, ...] = ("paysim", "amlsim", "jsonl")
BATCH_SIZE = 4096
#: Namespace of the UETRs derived for AMLSim rows, uuid5(namespace, "<file>:<line>").
AMLSIM_UETR_NAMESPACE = uuid.UUID("0f7c2d8e-4b1a-5c3e-9d6f-8a2b4c6d8e01")
AMLSIM_START = datetime(2026, 1, 1, tzinfo=UTC)


class DataSetError(ValueError):
    """A data set that cannot be read as the format given; the message says which file and why."""


@dataclass
class DataSet:
    """A data set's batches (in time order) and the index their account ids come from."""

    path: Path
    format: Format
    accounts: AccountIndex
    batches: Iterator[Batch]
    rejected: list[str]


def open_data_set(path: Path, fmt: Format, batch_size: int = BATCH_SIZE) -> DataSet:
    """The data set at ``path`` as decoded batches; rejected records are collected with their reasons."""
    path = Path(path)
    if not path.exists():
        raise DataSetError(f"{path}: no such file or directory")
    accounts = AccountIndex()
    rejected: list[str] = []
    readers = {"paysim": _paysim, "amlsim": _amlsim, "jsonl": _jsonl}
    if fmt not in readers:
        raise DataSetError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    raws = readers[fmt](path, batch_size)
    return DataSet(path=path, format=fmt, accounts=accounts, batches=_decoded(raws, accounts, rejected),
                   rejected=rejected)


def _decoded(raws: Iterator[RawBatch], accounts: AccountIndex, rejected: list[str]) -> Iterator[Batch]:
    for raw in raws:
        batch, rejects = decode(raw, accounts)
        rejected.extend(f"{r.origin}: {r.reason}" for r in rejects)
        if batch is not None:
            yield batch


def _paysim(path: Path, batch_size: int) -> Iterator[RawBatch]:
    """PaySim part files through the ``file`` ingress plugin (its default PaySim mapping)."""
    from aegis.testing.harness import PluginHarness  # loads a plugin by entry point, as the kernel does

    with tempfile.TemporaryDirectory(prefix="aegis-model-") as state_dir:
        try:
            harness = PluginHarness("ingress", "file", {"path": str(path), "format": "paysim", "resume": False},
                                    Path(state_dir))
        except Exception as exc:
            raise DataSetError(f"{path}: reading PaySim needs the file ingress plugin "
                               f"(aegis-plugin-ingress-file): {exc}") from exc
        with harness:
            while True:
                raw = harness.call("aegis_ingress_poll", max_records=batch_size)
                if raw is None:
                    continue
                yield raw
                if raw.final:
                    return


def _amlsim(path: Path, batch_size: int) -> Iterator[RawBatch]:
    """AMLSim ``transactions.csv`` (``sourceNodeId,targetNodeId,value,time``) with ``nodes.csv`` labels.

    ``time`` counts days from 2026-01-01; a row's second within its day is its rank in that day,
    so file order is kept. Accounts are the node ids; the currency is USD.
    """
    folder = path if path.is_dir() else path.parent
    transactions, nodes = folder / "transactions.csv", folder / "nodes.csv"
    for required in (transactions, nodes):
        if not required.is_file():
            raise DataSetError(f"{folder}: an AMLSim data set needs {required.name}")
    fraud = _amlsim_labels(nodes)
    expected = ["sourceNodeId", "targetNodeId", "value", "time"]
    with open(transactions, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        if header[:4] != expected:
            raise DataSetError(f"{transactions}: expected the header {','.join(expected)}, found {','.join(header)}")
        payloads: list[dict] = []
        origins: list[str] = []
        debtor_fraud: list[bool] = []
        creditor_fraud: list[bool] = []
        day, rank = -1, 0
        for line, row in enumerate(reader, start=2):
            try:
                source, target, value, time = row[0], row[1], row[2], int(row[3])
            except (IndexError, ValueError) as exc:
                raise DataSetError(f"{transactions}:{line}: not an AMLSim row ({exc})") from exc
            if time != day:
                day, rank = time, 0
            created = AMLSIM_START + timedelta(days=time, seconds=min(rank, 86_399))
            rank += 1
            payloads.append({"uetr": str(uuid.uuid5(AMLSIM_UETR_NAMESPACE, f"{transactions.name}:{line}")),
                             "created_at": created.isoformat(), "amount": value, "currency": "USD",
                             "debtor": {"account": source}, "creditor": {"account": target}})
            origins.append(f"{transactions.name}:{line}")
            debtor_fraud.append(fraud.get(source, False))
            creditor_fraud.append(fraud.get(target, False))
            if len(payloads) == batch_size:
                yield RawBatch(source="amlsim", payloads=payloads, origins=origins,
                               labels={"debtor_fraud": debtor_fraud, "creditor_fraud": creditor_fraud})
                payloads, origins, debtor_fraud, creditor_fraud = [], [], [], []
        yield RawBatch(source="amlsim", payloads=payloads, origins=origins, final=True,
                       labels={"debtor_fraud": debtor_fraud, "creditor_fraud": creditor_fraud})


def _amlsim_labels(nodes: Path) -> dict[str, bool]:
    with open(nodes, newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"nodeid", "isFraud"} <= set(reader.fieldnames):
            raise DataSetError(f"{nodes}: expected columns nodeid and isFraud, found {reader.fieldnames}")
        return {row["nodeid"]: row["isFraud"] == "1" for row in reader}


def _jsonl(path: Path, batch_size: int) -> Iterator[RawBatch]:
    """One transaction per line with an extra ``is_fraud`` (true/false or 1/0) that is taken off before decoding."""
    with open(path, "rb") as f:
        payloads: list[dict] = []
        origins: list[str] = []
        labels: list[bool] = []
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise DataSetError(f"{path}:{line_no}: not JSON: {exc}") from exc
            if not isinstance(record, dict) or "is_fraud" not in record:
                raise DataSetError(f"{path}:{line_no}: a labelled JSONL record is an object with is_fraud")
            labels.append(bool(record.pop("is_fraud")))
            payloads.append(record)
            origins.append(f"{path.name}:{line_no}")
            if len(payloads) == batch_size:
                yield RawBatch(source="jsonl", payloads=payloads, origins=origins, labels={"is_fraud": labels})
                payloads, origins, labels = [], [], []
        yield RawBatch(source="jsonl", payloads=payloads, origins=origins, final=True, labels={"is_fraud": labels})
