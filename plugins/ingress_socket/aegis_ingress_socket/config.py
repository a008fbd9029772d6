"""The socket plugin's configuration: where it listens, how much it holds, CURVE and gRPC."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr

from aegis.client.wire import DEFAULT_PORT
from aegis_ingress_socket.keys import split_keys

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine (or this pod)."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _key_list(value: object) -> object:
    """A list of keys, or one string of keys separated by whitespace or commas (as a secret holds them)."""
    return split_keys(value) if isinstance(value, str) else value


class CurveConfig(BaseModel):
    """CURVE encryption and client authentication (ZeroMQ's CurveZMQ, RFC 26).

    Keys are checked at startup, once ``$secret`` references are resolved.
    """

    model_config = ConfigDict(extra="forbid")

    secret_key: SecretStr = Field(
        description='the server\'s CURVE secret key (Z85, 40 characters); reference it as {"$secret": name} so '
                    "the secrets plugin supplies it. The public key clients need is derived from it")
    client_keys: Annotated[list[str], BeforeValidator(_key_list)] = Field(
        default_factory=list,
        description="public keys (Z85) of the clients allowed to connect; a list, or one string of keys separated "
                    'by whitespace or commas (e.g. {"$secret": "zmq_client_keys"})')
    client_keys_file: Path | None = Field(
        None, description="file of allowed client public keys, one Z85 key per line (then optional comment), "
                          "lines starting with # are comments; "
                          "re-read when it changes (aegis_reload), so clients are added or revoked without restart")


class GrpcConfig(BaseModel):
    """The gRPC screening service (``aegis.v1.Screening`` and ``grpc.health.v1.Health``)."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = Field(None, description="address to listen on; default: the plugin's `host`")
    port: int = Field(50051, ge=0, le=65535, description="TCP port of the gRPC service (0 picks a free one)")
    max_message_bytes: int = Field(16 * 1024 * 1024, ge=1024,
                                   description="largest gRPC request accepted (a ScreenBatch of many transactions)")


class SocketIngressConfig(BaseModel):
    """Sidecar API: ZeroMQ ROUTER on ``port`` (5555), optionally gRPC; replies after audit."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="address to listen on: 127.0.0.1 for a sidecar in the same pod, "
                                               "0.0.0.0 (or *) for every interface")
    port: int = Field(DEFAULT_PORT, ge=0, le=65535, description="TCP port of the ZeroMQ socket (0 picks a free one)")
    max_in_flight: int = Field(20_000, ge=1, description="transactions accepted and not yet answered, over all "
                                                          "connections; a request beyond this gets BUSY at once")
    max_records_per_request: int = Field(1000, ge=1, description="most transactions in one request")
    max_frame_bytes: int = Field(65_536, ge=256, description="largest transaction frame; a larger one gets an "
                                                              "error reply (the connection stays open)")
    max_message_bytes: int = Field(64 * 1024 * 1024, ge=65_536,
                                   description="hard limit of one ZeroMQ message (ZMQ_MAXMSGSIZE): a peer that "
                                               "sends more is disconnected; keeps memory bounded")
    poll_wait_ms: float = Field(50.0, ge=0, le=100, description="how long the kernel's poll waits for a request "
                                                                "before returning nothing")
    replay_cache: int = Field(65_536, ge=0, description="recent decisions kept by UETR, so a RETRY or a "
                                                         "duplicate UETR gets the recorded decision")
    stall_after_s: float = Field(5.0, gt=0, description="health reports NOT_SERVING when requests are in flight "
                                                         "and none was answered for this long")
    curve: CurveConfig | None = Field(None, description="CURVE encryption and client allow-list; required in "
                                                         "strict security mode unless `host` is a loopback address")
    grpc: GrpcConfig | None = Field(None, description="also serve the gRPC screening service; omit to disable")

    @property
    def endpoint(self) -> str:
        host = "*" if self.host in ("0.0.0.0", "*") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"tcp://{host}:{self.port}"
