"""The sidecar's ZeroMQ message format (version 1), shared by the server plugin and the clients.

Every message is multipart. After the ZeroMQ routing envelope (added and removed by the
sockets themselves; a REQ socket adds an empty delimiter frame, which the server keeps):

request ``[request_id, verb, *transactions]``
    ``request_id``: 0–64 opaque bytes chosen by the client, echoed in the reply (match replies of
    pipelined requests with it). ``verb``: :data:`SCREEN`, :data:`RETRY` or :data:`PING`.
    ``transactions``: for SCREEN and RETRY, 1 to ``max_records_per_request`` frames, each one
    transaction as a JSON object (the :class:`aegis.model.Transaction` contract). RETRY is
    SCREEN for a request whose reply was lost (timeout, reconnect): UETRs that were already
    decided are answered with the recorded decision instead of being screened again.
    A message of the single frame ``PING`` is a ping too (health checks from a REQ socket).

request ``[request_id, SCREEN_LINES | RETRY_LINES, lines]``
    The same as SCREEN and RETRY with the transactions packed into one frame: JSON Lines, one
    transaction per line, lines separated by ``\n`` (a last ``\n`` is optional; a transaction's
    JSON must then hold no line feed). The reply packs its results the same way: one frame, one
    result per line, in request order. One frame instead of one per transaction spares both
    sides a ZeroMQ frame per transaction, which is most of a batch's cost to send and receive.

reply ``[request_id, status, *results]``
    :data:`OK`: one result frame per transaction, in request order, each a decision object
    (``uetr``, ``decision``, ``reason_code``, ``risk_score``, ``risk_factors``,
    ``factor_scores``, ``explanation``, ...: the audit record without the transaction).
    :data:`REJECTED`: the same, but at least one frame is an error object
    ``{"index": i, "uetr": ..., "error": "..."}`` for a transaction that failed validation.
    :data:`ERROR`: the request itself is malformed; one frame ``{"error": "..."}``.
    :data:`BUSY`: the server's in-flight window is full; nothing was screened or recorded; retry
    after a short backoff. One frame ``{"error": "busy", ...}``.
    :data:`PONG`: answer to PING, one frame of health figures (``status`` is ``SERVING`` or
    ``NOT_SERVING``).

Replies to SCREEN and RETRY are sent only after the decisions' audit records are durable.
"""

from __future__ import annotations

PROTOCOL_VERSION = 1
DEFAULT_PORT = 5555

SCREEN = b"SCREEN"
RETRY = b"RETRY"
SCREEN_LINES = b"SCREEN_LINES"
RETRY_LINES = b"RETRY_LINES"
PING = b"PING"
VERBS = (SCREEN, RETRY, SCREEN_LINES, RETRY_LINES, PING)
#: the verbs whose transactions, and whose reply's results, are the lines of one frame
LINES_VERBS = (SCREEN_LINES, RETRY_LINES)
#: the verb that asks again for a request's recorded decisions (after a timeout), by first verb
RETRY_OF = {SCREEN: RETRY, RETRY: RETRY, SCREEN_LINES: RETRY_LINES, RETRY_LINES: RETRY_LINES}

OK = b"OK"
REJECTED = b"REJECTED"
ERROR = b"ERROR"
BUSY = b"BUSY"
PONG = b"PONG"
STATUSES = (OK, REJECTED, ERROR, BUSY, PONG)

MAX_REQUEST_ID_BYTES = 64
