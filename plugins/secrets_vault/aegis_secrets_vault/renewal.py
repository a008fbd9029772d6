"""A daemon thread that renews a renewable token before its TTL runs out."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from aegis_secrets_vault.errors import VaultError, VaultTokenError

#: Shortest pause between two attempts after a failed renewal, and the longest.
RETRY_MIN, RETRY_MAX = 0.2, 30.0


class TokenRenewer:
    """Renews the token whenever less than ``renew_before`` of its TTL remains.

    :param renew: renews the token, returns the new lease in seconds (raises :class:`VaultError`).
    :param ttl: seconds the token has left now.
    :param base_ttl: the TTL one renewal grants (the token's creation TTL); ``renew_before`` is a
        fraction of it. A renewal granting less means the token hit its maximum TTL: renewal
        stops and an error is logged when it runs out.
    :param token_file: named in log messages, so the operator knows which file to refresh.
    """

    def __init__(self, renew: Callable[[], int], ttl: int, base_ttl: int, renew_before: float,
                 token_file: str, log: logging.Logger):
        self._renew = renew
        self._expires_at = time.monotonic() + ttl
        self._base_ttl = max(base_ttl, ttl)
        self._renew_before = renew_before
        self._token_file = token_file
        self._log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aegis-vault-token-renewal", daemon=True)
        self.renewals = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread to end (after :meth:`stop`, or when the token can no longer be renewed)."""
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _remaining(self) -> float:
        return self._expires_at - time.monotonic()

    def _run(self) -> None:
        while not self._stop.wait(max(0.0, self._remaining() - self._renew_before * self._base_ttl)):
            try:
                lease = self._renew()
            except VaultTokenError as exc:
                self._log.error("Vault token renewal stopped: %s", exc)
                return
            except VaultError as exc:
                if self._remaining() <= 0:
                    self._log.error("Vault token from %s expired: renewal kept failing (%s); replace the token "
                                    "in that file", self._token_file, exc)
                    return
                retry = min(max(self._remaining() / 4, RETRY_MIN), RETRY_MAX)
                self._log.warning("Vault token renewal failed (%s); %.0f s of TTL left, retrying in %.1f s",
                                  exc, self._remaining(), retry)
                if self._stop.wait(retry):
                    return
                continue
            self.renewals += 1
            self._expires_at = time.monotonic() + lease
            if lease >= self._base_ttl:
                self._base_ttl = lease
                self._log.info("renewed the Vault token from %s: valid for %d s", self._token_file, lease)
                continue
            self._log.warning("the Vault token from %s reached its maximum TTL: it expires in %d s and cannot be "
                              "renewed further; put a new token in that file before then", self._token_file, lease)
            if not self._stop.wait(lease):
                self._log.error("the Vault token from %s has expired (maximum TTL reached); Vault requests will "
                                "fail until a new token is in that file", self._token_file)
            return
