"""The ``file`` ingress plugin: replays a JSONL, CSV or PaySim file, resumably."""

from __future__ import annotations

import logging
from pathlib import Path

from aegis.context import Context
from aegis.hookspecs import hookimpl
from aegis.lifecycle import SelfTestResult
from aegis.model import RawBatch
from aegis_ingress_file.config import FileIngressConfig, Format, format_from_suffix
from aegis_ingress_file.flat_csv import FlatCsvReader
from aegis_ingress_file.jsonl import JsonlReader
from aegis_ingress_file.paysim import PaySimReader, check_headers, looks_like_paysim
from aegis_ingress_file.position import Position, PositionStore, default_state_name
from aegis_ingress_file.reader import FileReader
from aegis_ingress_file.source import SourceFiles

log = logging.getLogger("aegis.ingress.file")


class FileIngress:
    """A finite source: the last batch is ``final``; acknowledged records are never replayed on resume."""

    Config = FileIngressConfig

    def __init__(self, config: FileIngressConfig):
        self.config = config
        self.format: Format | None = None
        self.files: SourceFiles | None = None
        self.store: PositionStore | None = None
        self.reader: FileReader | None = None

    def _detect_format(self, files: SourceFiles) -> tuple[Format, str]:
        path = self.config.path
        if self.config.format is not None:
            return self.config.format, "configured"
        if path.is_dir():
            return "paysim", "a directory of PaySim part files"
        by_suffix = format_from_suffix(path)
        if by_suffix == "csv" and looks_like_paysim(files.files[0].path):
            return "paysim", "a .csv file with PaySim's header"
        assert by_suffix is not None  # the config refuses paths whose format cannot be told
        return by_suffix, f"from the suffix {path.suffix}"

    def _reader(self, fmt: Format, files: SourceFiles, position: Position) -> FileReader:
        c = self.config
        if fmt == "jsonl":
            return JsonlReader(files, position)
        if fmt == "csv":
            return FlatCsvReader(files, position)
        check_headers(files)
        return PaySimReader(files, position, currency=c.currency, start=c.start, country=c.country,
                            namespace=c.uetr_namespace)

    @hookimpl
    def aegis_startup(self, context: Context) -> None:
        files = SourceFiles.open(self.config.path)
        self.format, reason = self._detect_format(files)
        log.info("reading %s as %s (%s)", files.root, self.format, reason)
        state_dir = Path(context.state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        store = PositionStore(state_dir / (self.config.state_name or default_state_name(self.config.path)),
                              files.root.absolute(), self.format)
        position = Position()
        saved = store.load() if self.config.resume else None
        if saved is not None:
            position, identity = saved
            files.verify(position, identity, store.path)
            log.info("resuming %s after %d acknowledged records (%s line %d, byte %d)", files.root,
                     position.records, identity.name, position.line, position.offset)
        self.files, self.store = files, store
        self.reader = self._reader(self.format, files, position)

    @hookimpl
    def aegis_ingress_poll(self, max_records: int) -> RawBatch:
        assert self.reader is not None and self.files is not None, "aegis_ingress_poll before aegis_startup"
        chunk = self.reader.read(max_records)
        return RawBatch(source=f"file:{self.files.root.name}", payloads=chunk.payloads, origins=chunk.origins,
                        token=chunk.end, final=chunk.exhausted, labels=chunk.labels, rejects=chunk.rejects,
                        progress=self.files.progress(chunk.end))

    @hookimpl
    def aegis_ingress_ack(self, batch: RawBatch) -> None:
        """Record that everything up to the end of ``batch`` is acknowledged (acks come in poll order)."""
        assert self.store is not None and self.files is not None, "aegis_ingress_ack before aegis_startup"
        position: Position = batch.token
        self.store.save(position, self.files.identity(position))

    @hookimpl
    def aegis_shutdown(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    @hookimpl
    def aegis_self_test(self) -> list[SelfTestResult]:
        name = f"ingress (file {self.config.path})"
        results = []
        try:
            files = SourceFiles.open(self.config.path)
            results.append(SelfTestResult(name, "source readable", True,
                                          f"{len(files.files)} file(s), {files.total_bytes} bytes"))
        except OSError as exc:
            return [SelfTestResult(name, "source readable", False, str(exc))]
        try:
            fmt, reason = self._detect_format(files)
            probe = self._reader(fmt, files, Position())
            try:
                chunk = probe.read(1)
            finally:
                probe.close()
            results.append(SelfTestResult(name, "format detected", True,
                                          f"{fmt} ({reason}); first record from "
                                          f"{(chunk.origins or [r.origin for r in chunk.rejects] or ['-'])[0]}"))
        except (OSError, ValueError) as exc:
            results.append(SelfTestResult(name, "format detected", False, str(exc)))
        return results
