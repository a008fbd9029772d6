"""CURVE: the server key comes from the secrets plugin, clients from an allow-list; an unlisted
client (or a plaintext one) gets nothing at all."""

from __future__ import annotations

import orjson
import pytest
import zmq

from aegis.client.wire import OK, PING, PONG, SCREEN
from aegis.errors import SecurityViolation
from aegis.testing import PluginHarness
from aegis.testing.samples import transactions


def pair() -> tuple[bytes, bytes]:
    return zmq.curve_keypair()


@pytest.fixture
def keys(tmp_path, monkeypatch):
    server_public, server_secret = pair()
    allowed_public, allowed_secret = pair()
    stranger_public, stranger_secret = pair()
    monkeypatch.setenv("AEGIS_SECRET_ZMQ_SERVER_KEY", server_secret.decode())
    allow_file = tmp_path / "clients.keys"
    allow_file.write_text(f"# payment-service\n{allowed_public.decode()}\n")
    return {"server": server_public, "allowed": (allowed_public, allowed_secret),
            "stranger": (stranger_public, stranger_secret), "file": allow_file}


def client_options(server: bytes, public: bytes, secret: bytes) -> dict[str, bytes]:
    return {"curve_serverkey": server, "curve_publickey": public, "curve_secretkey": secret}


def test_allowed_client_is_served_and_named_in_the_audit(tmp_path, start, sockets, keys):
    curve = {"secret_key": {"$secret": "zmq_server_key"}, "client_keys_file": str(keys["file"])}
    with start(tmp_path, {"curve": curve}) as sidecar:
        assert sidecar.plugin.server_public_key == keys["server"].decode()
        client = sockets.dealer(sidecar.endpoint, client_options(keys["server"], *keys["allowed"]))
        tx = transactions(1, seed=30)[0]
        client.send_multipart([b"r", SCREEN, orjson.dumps(tx)])
        request_id, status, result = sockets.receive(client)
        assert (request_id, status, orjson.loads(result)["uetr"]) == (b"r", OK, tx["uetr"])
        assert sidecar.records[0]["origin"].startswith(f"zmq:{keys['allowed'][0].decode()}#")


def test_unlisted_and_plaintext_clients_get_nothing(tmp_path, start, sockets, keys):
    curve = {"secret_key": {"$secret": "zmq_server_key"}, "client_keys_file": str(keys["file"])}
    with start(tmp_path, {"curve": curve}) as sidecar:
        stranger = sockets.dealer(sidecar.endpoint, client_options(keys["server"], *keys["stranger"]))
        plaintext = sockets.dealer(sidecar.endpoint)
        for sock in (stranger, plaintext):
            # A refused handshake leaves a DEALER without a peer: a blocking send would wait forever.
            for frames in ([b"r", SCREEN, orjson.dumps(transactions(1, seed=31)[0])], [b"p", PING]):
                try:
                    sock.send_multipart(frames, flags=zmq.NOBLOCK)
                except zmq.Again:
                    pass
        assert not stranger.poll(1500) and not plaintext.poll(100)
        assert sidecar.records == [] and sidecar.dead_letters == []
        assert sidecar.plugin.gatekeeper.refused >= 1
        # Allowed after the file changes (reload), without a restart; a new connection gets in.
        keys["file"].write_text(f"{keys['allowed'][0].decode()}\n{keys['stranger'][0].decode()}\n")
        report = sidecar.plugin.aegis_reload()
        assert report.ok and report.new_version == "2 key(s)"
        again = sockets.dealer(sidecar.endpoint, client_options(keys["server"], *keys["stranger"]))
        again.send_multipart([b"p2", PING])
        assert sockets.receive(again)[:2] == [b"p2", PONG]


def test_inline_client_keys_from_a_secret(tmp_path, start, sockets, keys, monkeypatch):
    monkeypatch.setenv("AEGIS_SECRET_ZMQ_CLIENT_KEYS", f"{keys['stranger'][0].decode()}, {keys['allowed'][0].decode()}")
    curve = {"secret_key": {"$secret": "zmq_server_key"}, "client_keys": {"$secret": "zmq_client_keys"}}
    with start(tmp_path, {"curve": curve}) as sidecar:
        assert len(sidecar.plugin.gatekeeper.allowed) == 2
        client = sockets.dealer(sidecar.endpoint, client_options(keys["server"], *keys["stranger"]))
        client.send_multipart([b"p", PING])
        assert sockets.receive(client)[:2] == [b"p", PONG]


def test_bad_keys_fail_startup_naming_the_key(tmp_path):
    config = {"port": 0, "curve": {"secret_key": "too-short", "client_keys": []}}
    with pytest.raises(Exception, match=r"curve.secret_key: not a Z85 CURVE secret key .* got 9 characters"):
        with PluginHarness("ingress", "socket", config, tmp_path):
            pass
    _, secret = pair()
    config = {"port": 0, "curve": {"secret_key": secret.decode(), "client_keys": ["nope"]}}
    with pytest.raises(Exception, match=r"curve.client_keys\[0\]: not a Z85 CURVE key"):
        with PluginHarness("ingress", "socket", config, tmp_path):
            pass


def test_strict_mode_refuses_plaintext_beyond_loopback(tmp_path):
    config = {"host": "0.0.0.0", "port": 0}
    with pytest.raises(SecurityViolation, match="without CURVE"):
        with PluginHarness("ingress", "socket", config, tmp_path, security_mode="strict"):
            pass
    with PluginHarness("ingress", "socket", {"port": 0}, tmp_path, security_mode="strict") as h:
        assert h.plugin.endpoint.startswith("tcp://127.0.0.1:")


def test_self_test_pings_through_curve_with_a_throwaway_key(tmp_path):
    _, secret = pair()
    config = {"port": 0, "curve": {"secret_key": secret.decode(), "client_keys": []}}
    with PluginHarness("ingress", "socket", config, tmp_path) as h:
        results = h.host.self_test()
        assert [r.check for r in results] == ["listening", "health ping answered"]
        assert all(r.ok for r in results), results
        assert not h.plugin.gatekeeper.ephemeral
