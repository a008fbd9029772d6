"""Kill the server between audit and reply: the transaction is recorded once, and the client's
retry (to the restarted server) gets the recorded decision, not a new one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import orjson
import yaml

from aegis.client import Client, ScreeningTimeout
from aegis.testing.samples import transactions

AEGIS = str(Path(sys.executable).with_name("aegis"))

KILLER = '''
import os
import signal

from aegis.hookspecs import hookimpl
from aegis_audit_jsonl.plugin import JsonlAuditSink


class KillAfterWrite(JsonlAuditSink):
    """The JSONL sink, except that the process dies right after its first durable write (before the ack)."""

    @hookimpl
    def aegis_audit_write(self, decisions, records):
        super().aegis_audit_write(decisions, records)
        marker = os.environ.get("AEGIS_TEST_KILL_MARKER")
        if marker and not os.path.exists(marker):
            open(marker, "w").close()
            os.kill(os.getpid(), signal.SIGKILL)
'''


def install_killer(site: Path) -> None:
    """A real distribution on PYTHONPATH: entry point ``jsonl_killer`` in group ``aegis.audit``."""
    site.mkdir()
    (site / "aegis_test_killer.py").write_text(textwrap.dedent(KILLER))
    info = site / "aegis_test_killer-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: aegis-test-killer\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[aegis.audit]\njsonl_killer = aegis_test_killer:KillAfterWrite\n")


def wait_serving(endpoint: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with Client(endpoint, timeout=0.5) as client:
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except ScreeningTimeout:
                continue
    raise AssertionError(f"{endpoint} did not answer a ping within {timeout} s")


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def test_killed_between_audit_and_reply(tmp_path, port, make_deployment):
    install_killer(tmp_path / "site")
    audit = tmp_path / "audit" / "audit.jsonl"
    config = make_deployment(tmp_path, {"host": "127.0.0.1", "port": port},
                        audit=[{"plugin": "jsonl_killer", "config": {"path": str(audit), "fsync": "batch"}}])
    path = tmp_path / "aegis.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")]),
           "AEGIS_TEST_KILL_MARKER": str(tmp_path / "killed"), "AEGIS_LOG_LEVEL": "WARNING"}
    endpoint = f"tcp://127.0.0.1:{port}"
    command = [AEGIS, "run", "-c", str(path), "--no-progress"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    second = None
    try:
        wait_serving(endpoint)
        tx = transactions(1, seed=60)[0]
        tx["creditor"]["country"] = "KP"
        outcome: list = []
        client = Client(endpoint, timeout=1.0, retries=60)
        screening = threading.Thread(target=lambda: outcome.append(client.screen(tx)))
        screening.start()
        assert first.wait(timeout=30) == -signal.SIGKILL, first.stderr.read().decode()[-2000:]
        (killed_record,) = read_jsonl(audit)  # durable, but never answered
        assert killed_record["uetr"] == tx["uetr"] and not outcome

        second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        screening.join(timeout=60)
        client.close()
        assert outcome, "the client's retry was never answered"
        decision = outcome[0]
        assert decision.record == {k: v for k, v in killed_record.items() if k not in ("transaction", "chain")}
        assert decision.decision == "INVESTIGATE" and decision.record["timestamp"] == killed_record["timestamp"]
        assert [r["uetr"] for r in read_jsonl(audit)] == [tx["uetr"]]  # recorded once
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
