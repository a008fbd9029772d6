"""The gRPC screening service and the standard health service, on the same deployment."""

from __future__ import annotations

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from aegis.proto import screening_pb2 as pb
from aegis.proto import screening_pb2_grpc as pb_grpc
from aegis.testing import PluginHarness
from aegis.testing.samples import transactions


def message(tx: dict) -> pb.Transaction:
    party = lambda p: pb.Party(**p)  # noqa: E731
    return pb.Transaction(uetr=tx["uetr"], created_at=tx["created_at"], amount=tx["amount"],
                          currency=tx["currency"], debtor=party(tx["debtor"]), creditor=party(tx["creditor"]))


@pytest.fixture
def grpc_sidecar(tmp_path, start):
    with start(tmp_path, {"grpc": {"host": "127.0.0.1", "port": 0}}) as sidecar:
        with grpc.insecure_channel(sidecar.grpc_target) as channel:
            yield sidecar, channel


def test_screen_returns_the_recorded_decision(grpc_sidecar):
    sidecar, channel = grpc_sidecar
    tx = transactions(1, seed=40)[0]
    tx["creditor"]["country"] = "KP"
    decision = pb_grpc.ScreeningStub(channel).Screen(message(tx), timeout=5)
    assert decision.uetr == tx["uetr"] and decision.decision == pb.INVESTIGATE
    assert decision.reason_code == "RC_HIGH_RISK_GEO" and decision.risk_score == pytest.approx(0.5)
    assert "KP" in decision.explanation["GEO"] and decision.versions["rules_version"].startswith("sha256:")
    (record,) = sidecar.records
    assert record["uetr"] == tx["uetr"] and record["origin"].startswith("grpc:")
    assert record["transaction"]["creditor"]["country"] == "KP"


def test_screen_batch_answers_each_in_place(grpc_sidecar):
    _, channel = grpc_sidecar
    txs = transactions(5, seed=41)
    batch = pb.TransactionBatch(transactions=[message(t) for t in txs])
    batch.transactions[2].uetr = "not-a-uuid"
    results = pb_grpc.ScreeningStub(channel).ScreenBatch(batch, timeout=5).results
    assert [r.WhichOneof("result") for r in results] == ["decision", "decision", "error", "decision", "decision"]
    assert results[2].error.index == 2 and "uetr: Input should be a valid UUID" in results[2].error.error
    assert [r.decision.uetr for r in results if r.HasField("decision")] == [t["uetr"] for i, t in enumerate(txs)
                                                                          if i != 2]


def test_invalid_transaction_is_invalid_argument(grpc_sidecar):
    sidecar, channel = grpc_sidecar
    tx = transactions(1, seed=42)[0]
    bad = message(tx)
    bad.ClearField("creditor")
    with pytest.raises(grpc.RpcError) as excinfo:
        pb_grpc.ScreeningStub(channel).Screen(bad, timeout=5)
    assert excinfo.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "creditor: Field required" in excinfo.value.details()
    assert "creditor: Field required" in sidecar.dead_letters[0]["reason"]


def test_standard_health_service(grpc_sidecar):
    _, channel = grpc_sidecar
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", "aegis.v1.Screening"):
        status = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
        assert status == health_pb2.HealthCheckResponse.SERVING


def test_busy_is_resource_exhausted_and_counted(tmp_path):
    config = {"port": 0, "max_in_flight": 1, "grpc": {"host": "127.0.0.1", "port": 0}}
    with PluginHarness("ingress", "socket", config, tmp_path) as h:  # nobody screens: the first call waits
        with grpc.insecure_channel(f"127.0.0.1:{h.plugin.grpc.port}") as channel:
            stub = pb_grpc.ScreeningStub(channel)
            waiting = stub.Screen.future(message(transactions(1, seed=43)[0]), timeout=10)
            deadline = time.monotonic() + 5
            while h.plugin.window.in_flight == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            with pytest.raises(grpc.RpcError) as excinfo:
                stub.Screen(message(transactions(1, seed=44)[0]), timeout=5)
            assert excinfo.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "busy" in excinfo.value.details()
            assert h.plugin.window.drops_total == 1
            waiting.cancel()
