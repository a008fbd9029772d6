"""Reading one request of the wire format (:mod:`aegis.client.wire`) from its frames.

Pure functions, no sockets: the ZeroMQ server calls them on every message, the fuzz tests
call them on anything. Request-level problems raise :class:`ProtocolError` with a message for
the client; a transaction frame that is too large is not a protocol error but a rejected
record (reported in place, the rest of the request is still screened).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aegis.client.wire import LINES_VERBS, MAX_REQUEST_ID_BYTES, PING, RETRY, RETRY_LINES, SCREEN, VERBS

#: How much of a rejected message is kept for the dead letters.
KEEP_BYTES = 4096


class ProtocolError(ValueError):
    """The request cannot be read; ``request_id`` is what to echo (may be empty)."""

    def __init__(self, message: str, request_id: bytes = b""):
        super().__init__(message)
        self.request_id = request_id


@dataclass(frozen=True)
class Limits:
    max_records: int
    max_frame_bytes: int


@dataclass
class Request:
    """A readable request: its id, verb and transactions, one bytes each (none for PING)."""

    request_id: bytes
    verb: bytes
    payloads: list[bytes] = field(default_factory=list)
    oversized: list[tuple[int, str]] = field(default_factory=list)  # (index, reason)
    bare_ping: bool = False

    @property
    def retry(self) -> bool:
        return self.verb in (RETRY, RETRY_LINES)

    @property
    def lines(self) -> bool:
        """Whether the transactions came as lines of one frame (and the results go back so)."""
        return self.verb in LINES_VERBS


def split_envelope(frames: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """``(envelope, body)`` of a message received on a ROUTER socket.

    The envelope is the routing id, plus the empty delimiter frame a REQ client adds (request
    ids are never empty, so an empty second frame is always that delimiter).
    """
    if len(frames) >= 2 and not frames[1]:
        return frames[:2], frames[2:]
    return frames[:1], frames[1:]


def _printable(data: bytes, limit: int = 32) -> str:
    text = data[:limit].decode("ascii", "replace")
    return repr(text if text.isprintable() else data[:limit])


def parse_request(body: list[bytes], limits: Limits) -> Request:
    """Read ``[request_id, verb, *transactions]`` (or the bare ``[PING]``); raise :class:`ProtocolError`."""
    if not body:
        raise ProtocolError("empty message: expected frames [request_id, verb, *transactions]")
    if len(body) == 1:
        if body[0] == PING:
            return Request(request_id=b"", verb=PING, bare_ping=True)
        raise ProtocolError(f"1 frame ({_printable(body[0])}): expected frames [request_id, verb, *transactions] "
                            "or the single frame PING")
    request_id, verb, payloads = body[0], body[1], body[2:]
    if not request_id:
        raise ProtocolError("empty request id: frame 0 must hold 1 to 64 bytes")
    if len(request_id) > MAX_REQUEST_ID_BYTES:
        raise ProtocolError(f"request id of {len(request_id)} bytes: at most {MAX_REQUEST_ID_BYTES}")
    if verb not in VERBS:
        raise ProtocolError(f"unknown verb {_printable(verb)}: expected SCREEN, RETRY, SCREEN_LINES, RETRY_LINES "
                            "or PING", request_id)
    if verb == PING:
        if payloads:
            raise ProtocolError(f"PING takes no further frames, got {len(payloads)}", request_id)
        return Request(request_id=request_id, verb=PING)
    unit = "transaction frame"
    if verb in LINES_VERBS:
        payloads, unit = _lines(verb, payloads, request_id), "transaction line"
    if not payloads:
        raise ProtocolError(f"{verb.decode()} needs at least one {unit}", request_id)
    if len(payloads) > limits.max_records:
        raise ProtocolError(f"{len(payloads)} transactions in one request: at most {limits.max_records}",
                            request_id)
    oversized = [(i, f"{unit} of {len(p)} bytes exceeds max_frame_bytes {limits.max_frame_bytes}")
                 for i, p in enumerate(payloads) if len(p) > limits.max_frame_bytes]
    return Request(request_id=request_id, verb=verb, payloads=payloads, oversized=oversized)


def _lines(verb: bytes, payloads: list[bytes], request_id: bytes) -> list[bytes]:
    """The transactions of a ``*_LINES`` request: the lines of its one frame (a last line feed ends
    the last line; an empty line in between is a transaction, which the intake rejects)."""
    if len(payloads) != 1:
        raise ProtocolError(f"{verb.decode()} takes one frame of transactions, one per line; got "
                            f"{len(payloads)} frames", request_id)
    lines = payloads[0].split(b"\n")
    if not lines[-1]:
        lines.pop()
    return lines


def evidence(frames: list[bytes]) -> bytes:
    """What a dead letter keeps of an unreadable message: its frames, newline-separated, cut at
    :data:`KEEP_BYTES`."""
    out = b"\n".join(f[:KEEP_BYTES] for f in frames[:16])
    return out[:KEEP_BYTES]


__all__ = ["KEEP_BYTES", "SCREEN", "Limits", "ProtocolError", "Request", "evidence", "parse_request",
           "split_envelope"]
