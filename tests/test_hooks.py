"""One test per hook: the kernel calls it when, how and with what the reference says.

Every hook in ``aegis/hookspecs.py`` must have a ``test_hook_<hook name>`` here
(``tests/test_docs.py`` checks that).
"""

from __future__ import annotations

import sys

import orjson
import pytest

from aegis._manager import pack_shard_state, unpack_shard_state
from aegis.audit_chain import split_line
from aegis.audit_verify import verify_trail
from aegis.config import parse_outline
from aegis.deployment import started
from aegis.pipeline import Pipeline
from aegis.signing import verify
from aegis.testing.samples import transactions

from .recorder_plugins import ENTRY_POINTS, RECORDER_SOURCE


@pytest.fixture
def recorder(fake_dist):
    fake_dist("aegis-recorder", "0.0.1", ENTRY_POINTS, {"aegis_recorder": RECORDER_SOURCE})
    import aegis_recorder
    yield aegis_recorder
    sys.modules.pop("aegis_recorder", None)


def outline(payloads, fail=False, secret_ref=False, ingress=None, source="rec", **extra):
    audit_config = {"token": {"$secret": "sink_token"}} if secret_ref else {}
    return parse_outline({
        "security_mode": "permissive",
        "secrets": {"plugin": "rec", "config": {"values": {"sink_token": "s3cr3t"}}},
        "ingress": [{"plugin": source, "config": {"payloads": payloads, "batch": 4, **(ingress or {})}}],
        "scoring": [{"plugin": "rec", "config": {"fail": fail}}],
        "audit": [{"plugin": "rec", "config": audit_config}],
        "metrics": [{"plugin": "rec"}],
        "proving": {"plugin": "rec"},
        "pipeline": {"reload_interval": 0.001},
        **extra,
    })


def run(config):
    with started(config) as host:
        summary = Pipeline(host, config).run()
    return host, summary


def calls(rec, hook):
    return [d for h, d in rec.CALLS if h == hook]


def test_hook_aegis_startup(recorder, tmp_path):
    config = outline(transactions(2), pipeline={"state_dir": str(tmp_path)})
    run(config)
    order = [d["plugin"] for d in calls(recorder, "aegis_startup")]
    assert order == ["secrets", "audit", "metrics", "scoring", "proving", "ingress"]
    assert all(d["strict"] is False for d in calls(recorder, "aegis_startup"))


def test_hook_aegis_shutdown(recorder):
    run(outline(transactions(2)))
    order = [d["plugin"] for d in calls(recorder, "aegis_shutdown")]
    assert order == ["ingress", "proving", "scoring", "metrics", "audit", "secrets"]
    # shut down only after the last acknowledgement
    names = [h for h, _ in recorder.CALLS]
    assert names.index("aegis_shutdown") > max(i for i, n in enumerate(names) if n == "aegis_ingress_ack")


def test_hook_aegis_reload(recorder, caplog):
    caplog.set_level("WARNING", logger="aegis")
    _, summary = run(outline(transactions(12)))
    assert calls(recorder, "aegis_reload")
    assert [r.new_version for r in summary.reloads] == ["b"]
    assert "Rules Reloaded" in caplog.text and "weights.json" in caplog.text
    assert summary.reloads[0].plugin == "scoring[0] (rec)"


def test_hook_aegis_self_test(recorder):
    with started(outline(transactions(1))) as host:
        results = host.self_test()
    assert sorted(r.plugin for r in results) == ["audit[0] (rec)", "ingress[0] (rec)", "metrics[0] (rec)",
                                                 "proving (rec)", "scoring[0] (rec)", "secrets (rec)"]
    assert all(r.ok for r in results)


def test_hook_aegis_ingress_poll(recorder):
    config = outline(transactions(10), pipeline={"batch_size": 3})
    _, summary = run(config)
    polls = calls(recorder, "aegis_ingress_poll")
    assert [p["max_records"] for p in polls] == [3] * len(polls)
    assert sum(p["n"] for p in polls) == 10 == summary.transactions


def test_hook_aegis_ingress_poll_inline(recorder):
    _, summary = run(outline(transactions(10), source="rec-inline", pipeline={"batch_size": 3}))
    polls = calls(recorder, "aegis_ingress_poll_inline")
    assert polls and {p["thread"] for p in polls} == {"MainThread"}  # no intake thread
    acks = calls(recorder, "aegis_ingress_ack")
    assert {a["thread"] for a in acks} == {"MainThread"}
    assert [a["token"] for a in acks] == [3, 6, 9, 10] and summary.transactions == 10
    assert [a["durable"] for a in acks] == [3, 6, 9, 10]  # each ack after its records are durable


@pytest.mark.parametrize("pipeline, sources", [
    ({"inline_intake": False}, 1),  # switched off
    ({"decode_workers": 1}, 1),  # decoding in a worker process needs the queue
    ({}, 2),  # two sources: one intake thread each
])
def test_inline_intake_only_for_a_single_source_decoded_in_process(recorder, pipeline, sources):
    config = outline(transactions(6), source="rec-inline", pipeline=pipeline)
    if sources == 2:
        config.ingress.append(config.ingress[0].model_copy())
    _, summary = run(config)
    assert not calls(recorder, "aegis_ingress_poll_inline")
    assert calls(recorder, "aegis_ingress_poll")
    assert {a["thread"] for a in calls(recorder, "aegis_ingress_ack")} == {"MainThread"}
    assert summary.transactions == 6 * sources


def test_inline_intake_serves_checkpoints_between_batches(recorder):
    run(outline(transactions(12), source="rec-inline", ingress={"shards": 2, "move_shards_at_poll": 3}))
    (checkpoint,) = calls(recorder, "checkpoint_shards")
    assert checkpoint["acked_before"] == 2
    assert {s["thread"] for s in calls(recorder, "aegis_scoring_state_save")} == {"MainThread"}
    assert [c["shard"] for c in calls(recorder, "aegis_scoring_score")] == [[0, 1, 0, 1]] * 3


def test_hook_aegis_ingress_ack(recorder):
    txs = transactions(9)
    txs[4]["amount"] = "0"
    run(outline(txs))
    acks = calls(recorder, "aegis_ingress_ack")
    assert [a["token"] for a in acks] == [4, 8, 9]  # in poll order
    assert sum(a["decided"] for a in acks) == 8 and sum(a["rejects"] for a in acks) == 1
    # every ack comes after its records were written durably
    assert [a["durable"] for a in acks] == [4, 7, 8]


def test_hook_aegis_scoring_score(recorder):
    txs = transactions(8)
    txs[3]["amount"] = "5000.00"
    run(outline(txs, decision={"weights": {"AMOUNT": 0.6}}))
    assert [c["n"] for c in calls(recorder, "aegis_scoring_score")] == [4, 4]
    records = [orjson.loads(line) for line in recorder.STORE["records"]]
    assert records[3]["decision"] == "INVESTIGATE" and records[3]["reason_code"] == "RC_AMOUNT_ANOMALY"
    assert records[3]["model_version_hash"] == "sha256:rec"
    assert {r["decision"] for i, r in enumerate(records) if i != 3} == {"CLEAR"}


def test_hook_aegis_scoring_score_failure_fails_closed(recorder):
    _, summary = run(outline(transactions(10), fail=True))
    records = [orjson.loads(line) for line in recorder.STORE["records"]]
    assert len(records) == 10 == summary.transactions  # the run went on
    assert {r["decision"] for r in records} == {"INVESTIGATE"}
    assert {r["reason_code"] for r in records} == {"RC_SCREENING_ERROR"}
    assert "model file vanished" in records[0]["errors"][0]
    assert summary.screening_errors == 10


def test_hook_aegis_scoring_artefacts(recorder, tmp_path):
    import json

    from aegis.snapshots import SnapshotStore
    txs = transactions(8)
    run(outline(txs, pipeline={"state_dir": str(tmp_path), "reload_interval": 0.001}))
    records = [orjson.loads(line) for line in recorder.STORE["records"]]
    digests = [r["snapshots"]["scoring[0] (rec)"] for r in records]
    assert len(set(digests)) == 1 and all(r["run"] == records[0]["run"] for r in records)
    snapshot = SnapshotStore(tmp_path / "snapshots").get(digests[0])
    assert snapshot["plugin"] == "rec" and snapshot["config"] == {"fail": False}
    assert snapshot["artefacts"] == {}  # the recorder names no files
    assert calls(recorder, "aegis_scoring_artefacts") == [{}]
    assert json.loads(json.dumps(records[0]["weights"])) == {"AMOUNT": 0.35}


def test_hook_aegis_scoring_state_save(recorder):
    # 12 records in batches of 4, shard = index % 2; before the third poll the source asks for a checkpoint
    run(outline(transactions(12), ingress={"shards": 2, "move_shards_at_poll": 3}))
    assert [c["shard"] for c in calls(recorder, "aegis_scoring_score")] == [[0, 1, 0, 1]] * 3
    saves = calls(recorder, "aegis_scoring_state_save")
    assert [s["shards"] for s in saves] == [[0], [1]]  # once per shard
    assert {s["thread"] for s in saves} == {"MainThread"}
    (checkpoint,) = calls(recorder, "checkpoint_shards")
    assert checkpoint["acked_before"] == 2  # both earlier batches were acknowledged first
    assert {shard: unpack_shard_state(blob, shard) for shard, blob in checkpoint["blobs"].items()} == {
        0: {"scoring[0] (rec)": b"4"}, 1: {"scoring[0] (rec)": b"4"}}


def test_hook_aegis_scoring_state_restore(recorder):
    # decode in a worker process: the shard column must survive BatchColumns
    run(outline(transactions(12), ingress={"shards": 2, "move_shards_at_poll": 3},
                pipeline={"decode_workers": 1}))
    (restore,) = calls(recorder, "aegis_scoring_state_restore")
    assert restore == {"shards": [0, 1], "blobs": {0: b"4", 1: b"4"}, "thread": "MainThread"}
    scored = [c["shard"] for c in calls(recorder, "aegis_scoring_score")]
    assert scored == [[0, 1, 0, 1]] * 3
    names = [h for h, _ in recorder.CALLS]
    assert names.index("aegis_scoring_state_restore") < max(i for i, n in enumerate(names)
                                                              if n == "aegis_scoring_score")


def test_account_index_names_round_trip():
    from aegis.model import AccountIndex
    index = AccountIndex()
    ids = index.intern(["DE1", "FR2", "DE1", "NL3"])
    assert ids.tolist() == [0, 1, 0, 2]
    assert index.names(ids) == ["DE1", "FR2", "DE1", "NL3"]
    assert index.names(index.intern(["ES4"])) == ["ES4"]


def test_shard_state_envelope_rejects_corrupt_bytes():
    blob = pack_shard_state({"scoring[0] (rules)": b"abc", "scoring[1] (ml)": b""})
    assert unpack_shard_state(blob, 3) == {"scoring[0] (rules)": b"abc", "scoring[1] (ml)": b""}
    with pytest.raises(ValueError, match="shard 3"):
        unpack_shard_state(blob[:-2], 3)
    with pytest.raises(ValueError, match="shard 3"):
        unpack_shard_state(b"pickle", 3)


def test_hook_aegis_secrets_resolve(recorder):
    with started(outline(transactions(1), secret_ref=True)) as host:
        audit = host.family("audit")[0]
        assert audit.instance.token == "s3cr3t"
    assert calls(recorder, "aegis_secrets_resolve") == [{"name": "sink_token"}]


def test_hook_aegis_secrets_sign(recorder):
    with started(outline(transactions(1))) as host:
        signature = host.sign(b"merkle root", key="audit")
        pem = host.public_key("audit")
    assert verify(pem, b"merkle root", signature)
    assert calls(recorder, "aegis_secrets_sign") == [{"key": "audit"}]


def test_hook_aegis_secrets_public_key(recorder):
    with started(outline(transactions(1))) as host:
        assert host.public_key("audit").startswith(b"-----BEGIN PUBLIC KEY-----")
    assert calls(recorder, "aegis_secrets_public_key") == [{"key": "audit"}]


def test_hook_aegis_proving_submit(recorder):
    txs = transactions(4)
    txs[1]["amount"] = "9999.00"
    run(outline(txs, decision={"weights": {"AMOUNT": 0.6}}))
    assert calls(recorder, "aegis_proving_submit") == [{"flagged": 1}]


def test_hook_aegis_proving_reference(recorder):
    txs = transactions(4)
    txs[1]["amount"] = "9999.00"
    run(outline(txs, decision={"weights": {"AMOUNT": 0.6}}))
    assert calls(recorder, "aegis_proving_reference") == [{"named": 1}]
    records = [orjson.loads(line) for line in recorder.STORE["records"]]
    # named before the write, so the durable record cites where its proof will be found
    assert [r.get("proof_ref") for r in records] == [None, f"rec:{txs[1]['uetr']}", None, None]
    order = [h for h, _ in recorder.CALLS if h in ("aegis_proving_reference", "aegis_audit_write",
                                                     "aegis_proving_submit")]
    assert order == ["aegis_proving_reference", "aegis_audit_write", "aegis_proving_submit"]


def test_hook_aegis_proving_lookup(recorder):
    import base64

    from aegis.regulatory_export import build_export
    txs = transactions(4)
    txs[2]["amount"] = "9999.00"
    config = outline(txs, decision={"weights": {"AMOUNT": 0.6}})
    with started(config) as host:
        Pipeline(host, config).run()
        doc = build_export(host, txs[2]["uetr"], include_zkp=True)
        plain = build_export(host, txs[0]["uetr"], include_zkp=True)
    assert orjson.loads(base64.b64decode(doc["zkp_proof_b64"])) == {"proof": {"pi_a": ["1", "2", "1"]},
                                                                   "public_inputs": ["7"]}
    assert doc["zkp_proof_ref"] == f"rec:{txs[2]['uetr']}"  # the sealed record cites it
    assert plain["zkp_proof_b64"] is None and plain["zkp_proof_ref"] is None  # CLEAR: nothing was proved
    assert calls(recorder, "aegis_proving_lookup") == [{"uetr": txs[2]["uetr"]}, {"uetr": txs[0]["uetr"]}]


def test_hook_aegis_proving_verify(recorder):
    with started(outline(transactions(1))) as host:
        lp = host.family("proving")[0]
        assert host.call("aegis_proving_verify", lp, proof={"ok": True}, public_inputs=[]) is True
        assert host.call("aegis_proving_verify", lp, proof={"ok": False}, public_inputs=[]) is False


def test_hook_aegis_audit_write(recorder):
    txs = transactions(6)
    run(outline(txs))
    assert [c["n"] for c in calls(recorder, "aegis_audit_write")] == [4, 2]
    assert [orjson.loads(line)["uetr"] for line in recorder.STORE["records"]] == [t["uetr"] for t in txs]


def test_hook_aegis_audit_known(recorder):
    txs = transactions(6)
    config = outline(txs)
    run(config)
    # a second run re-delivers everything: nothing is recorded twice
    recorder.STORE["records"] = recorder.STORE["records"][:4]  # as if the last batch was never acknowledged
    recorder.STORE["checkpoints"] = []
    run(outline(txs))
    assert [orjson.loads(line)["uetr"] for line in recorder.STORE["records"]] == [t["uetr"] for t in txs]
    assert calls(recorder, "aegis_audit_known")[0] == {"n": 4}


def test_hook_aegis_audit_head(recorder):
    run(outline(transactions(5)))
    run(outline(transactions(3, seed=99)))
    seqs = [split_line(line)[1]["seq"] for line in recorder.STORE["records"]]
    assert seqs == [1, 2, 3, 4, 5, 6, 7, 8]  # the second run continued the chain
    assert len(calls(recorder, "aegis_audit_head")) == 2


def test_hook_aegis_audit_checkpoint(recorder):
    config = outline(transactions(10), audit_trail={"checkpoint_every": 4})
    with started(config) as host:
        Pipeline(host, config).run()
        pem = host.public_key("audit")
    checkpoints = recorder.STORE["checkpoints"]
    assert [c["to_seq"] for c in checkpoints] == [4, 8, 10]  # every 4 records, the rest sealed at the end
    report = verify_trail(recorder.STORE["records"], checkpoints, pem)
    assert report.ok and report.sealed_through == 10


def test_hook_aegis_audit_scan(recorder):
    config = outline(transactions(5), audit_trail={"checkpoint_every": 1000})
    run(config)
    # records after the last checkpoint are reloaded at startup (here: none, the run sealed them)
    run(outline(transactions(2, seed=5)))
    assert calls(recorder, "aegis_audit_scan") == []
    recorder.STORE["checkpoints"].pop()  # as if the process died before sealing
    run(outline(transactions(1, seed=6)))
    assert calls(recorder, "aegis_audit_scan") == [{"after_seq": 5}]
    spans = [(c["from_seq"], c["to_seq"]) for c in recorder.STORE["checkpoints"]]
    assert spans[-2:] == [(6, 7), (8, 8)]  # the reloaded records sealed at startup, then the new one


def test_hook_aegis_audit_checkpoints(recorder):
    config = outline(transactions(6), audit_trail={"checkpoint_every": 3})
    with started(config) as host:
        Pipeline(host, config).run()
        lp = host.family("audit")[0]
        stored = host.one("aegis_audit_checkpoints", lp)
    # sealing is checked after each batch (4 records here), the remainder is sealed at the end
    assert [(c["from_seq"], c["to_seq"]) for c in stored] == [(1, 4), (5, 6)]


def test_hook_aegis_audit_dead_letter(recorder):
    txs = transactions(5)
    txs[2]["currency"] = "XXXX"
    run(outline(txs))
    dead = recorder.STORE["dead"]
    assert len(dead) == 1 and dead[0].origin == "mem:2" and "currency" in dead[0].reason


def test_hook_aegis_audit_lookup(recorder):
    txs = transactions(3)
    config = outline(txs)
    with started(config) as host:
        Pipeline(host, config).run()
        found = host.lookup(txs[1]["uetr"])
        assert found["uetr"] == txs[1]["uetr"]
        assert host.lookup("00000000-0000-4000-8000-000000000000") is None


def test_hook_aegis_metrics_observe(recorder):
    txs = transactions(7)
    txs[0]["amount"] = "2000.00"
    txs[5]["amount"] = "-1"
    run(outline(txs, decision={"investigate_at": 0.1, "block_at": 0.2, "weights": {"AMOUNT": 1.0}}))
    observed = calls(recorder, "aegis_metrics_observe")
    assert sum(o["transactions"] for o in observed) == 6
    assert sum(o["block"] for o in observed) == 1
    assert sum(o["rejects"] for o in observed) == 1
    assert [o["drops"] for o in observed] == [1, 0]  # what the ingress reported refusing


@pytest.mark.parametrize("returned", [None, 0, "x", ["a"]])
def test_direct_dispatch_answers_as_pluggy_does(returned):
    """The host calls a hook with one implementation without pluggy's per-call machinery; what
    comes back (firstresult or a list of non-None results) and a missing argument are as with pluggy."""
    import pluggy

    from aegis._manager import _direct, new_plugin_manager
    from aegis.hookspecs import hookimpl

    class Plugin:
        @hookimpl
        def aegis_audit_known(self, uetrs):  # not firstresult
            return returned

        @hookimpl
        def aegis_ingress_poll(self, context, max_records):  # firstresult
            return (returned, context, max_records)

    pm = new_plugin_manager()
    pm.register(Plugin())
    for hook, kwargs in (("aegis_audit_known", {"context": "c", "uetrs": ["u"]}),
                         ("aegis_ingress_poll", {"context": "c", "max_records": 3})):
        caller = getattr(pm.hook, hook)
        direct = _direct(caller)
        assert direct is not None and direct(**kwargs) == caller(**kwargs)
    with pytest.raises(pluggy.HookCallError):
        _direct(pm.hook.aegis_ingress_poll)(context="c")
    pm.register(Plugin(), name="second")  # two implementations: pluggy does the calling
    assert _direct(pm.hook.aegis_audit_known) is None
