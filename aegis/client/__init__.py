"""Client for the Aegis sidecar: screen a transaction, get its decision (after it is audited).

Blocking::

    from aegis.client import Client
    with Client("tcp://127.0.0.1:5555", timeout=1.0) as client:
        decision = client.screen(transaction)          # dict, JSON bytes or aegis.model.Transaction
        print(decision.decision, decision.reason_code, decision.risk_score)

asyncio::

    from aegis.client import AsyncClient
    async with AsyncClient("tcp://127.0.0.1:5555") as client:
        decisions = await asyncio.gather(*(client.screen(t) for t in transactions))

A BUSY answer is retried with exponential backoff; a request without answer within ``timeout``
is resent as RETRY, which the server answers with the recorded decision when the first attempt
was screened. The wire format is documented in :mod:`aegis.client.wire` and ``docs/sidecar.md``.
Needs ``pyzmq`` (installed with the ``socket`` ingress plugin).
"""

from aegis.client.aio import AsyncClient
from aegis.client.curve import CurveKeys
from aegis.client.results import (
    Busy,
    ClientError,
    Decision,
    RecordError,
    Rejected,
    RequestError,
    ScreeningTimeout,
)
from aegis.client.retry import Backoff
from aegis.client.sync import DEFAULT_ENDPOINT, Client

__all__ = [
    "DEFAULT_ENDPOINT",
    "AsyncClient",
    "Backoff",
    "Busy",
    "Client",
    "ClientError",
    "CurveKeys",
    "Decision",
    "RecordError",
    "Rejected",
    "RequestError",
    "ScreeningTimeout",
]
