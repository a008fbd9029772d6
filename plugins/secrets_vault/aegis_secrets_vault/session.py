"""One authenticated connection to Vault: token from its file, looked up, renewed, replaced when the file changes.

Every request goes through :meth:`VaultSession.request`, which turns hvac's and requests'
exceptions into :class:`~aegis_secrets_vault.errors.VaultError` messages that name the
server and the API path. A ``403`` is told apart: an invalid, expired or revoked token
(``lookup-self`` fails too) is a :class:`VaultTokenError`; otherwise the token's policies do
not grant the path (:class:`VaultPermissionDenied`).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TypeVar

import hvac
import hvac.exceptions
import requests

from aegis.errors import AegisError, SecurityViolation
from aegis_secrets_vault.config import VaultConfig
from aegis_secrets_vault.errors import VaultError, VaultPermissionDenied, VaultTokenError, VaultUnavailable
from aegis_secrets_vault.renewal import TokenRenewer
from aegis_secrets_vault.token import TokenInfo, read_token_file

T = TypeVar("T")
#: What Vault answers (404) for a path no engine is mounted at.
NO_ROUTE = "no handler for route"


def _server_errors(exc: hvac.exceptions.VaultError) -> str:
    """The server's own error text (hvac also appends method and URL, which we name ourselves)."""
    errors = exc.errors if isinstance(exc.errors, list) else [exc.errors] if exc.errors else []
    text = "; ".join(" ".join(str(e).replace("* ", "").split()) for e in errors)
    return text or type(exc).__name__


def _network_reason(exc: requests.exceptions.RequestException) -> str:
    """The innermost cause of a requests failure (urllib3 wraps it in "Max retries exceeded ...")."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    reason = getattr(inner, "reason", None) or inner
    while isinstance(reason, BaseException) and reason.args and isinstance(reason.args[0], BaseException):
        reason = reason.args[0]
    return str(reason)


class VaultSession:
    """The hvac client of one plugin instance (or one CLI command).

    :param config: the plugin's configuration.
    :param strict: security mode strict (a token file others can read is refused, not warned about).
    :param log: where renewals and warnings are logged.
    """

    def __init__(self, config: VaultConfig, strict: bool, log: logging.Logger):
        self.config = config
        self._strict = strict
        self._log = log
        self._lock = threading.Lock()  # guards swapping client, renewer and token info together
        self._replace_lock = threading.Lock()  # one thread at a time takes up a new token from the file
        self._client: hvac.Client | None = None
        self._renew = True
        self._renewer: TokenRenewer | None = None
        self.token: TokenInfo | None = None

    # -- lifecycle ---------------------------------------------------------

    def open(self, renew: bool = True) -> TokenInfo:
        """Read the token file, look the token up and (if ``renew`` and it is renewable) start renewing it.

        :raises SecurityViolation: in strict mode, before the token is read, when it would travel
            unprotected (see :meth:`VaultConfig.transport_problems`); permissive mode warns.
        """
        for problem in self.config.transport_problems():
            if self._strict:
                raise SecurityViolation(f"{problem} (secrets backend vault); security mode strict refuses this, "
                                        f"AEGIS_SECURITY_MODE=permissive allows it with a warning")
            self._log.warning("security mode permissive: %s", problem)
        ca_bundle = self.config.verify_tls
        if not isinstance(ca_bundle, bool) and not ca_bundle.is_file():
            raise VaultError(f"the CA bundle {ca_bundle} for Vault at {self.config.address} (verify_tls / "
                             f"VAULT_CACERT) does not exist or is not a file")
        if os.environ.get("VAULT_TOKEN"):
            self._log.warning("VAULT_TOKEN is set and ignored: the vault secrets backend takes its token from %s "
                              "only", self.config.token_file)
        self._renew = renew
        token = read_token_file(self.config.token_file, self._strict, self._log)
        client = self._new_client(token)
        info = self._lookup(client)
        self._install(client, info)
        return info

    def close(self) -> None:
        with self._lock:
            renewer, client = self._renewer, self._client
            self._renewer = self._client = None
        if renewer is not None:
            renewer.stop()
        if client is not None:
            client.adapter.close()

    @property
    def renewer(self) -> TokenRenewer | None:
        return self._renewer

    # -- requests ----------------------------------------------------------

    def request(self, action: str, path: str, call: Callable[[hvac.Client], T],
                missing: Callable[[str], AegisError] | None = None) -> T:
        """``call(client)``, with every failure turned into an operator error naming ``action`` and ``path``.

        :param action: what is being done, for messages ("read", "sign with").
        :param path: the API path, as policies name it (``secret/data/aegis/keys``).
        :param missing: builds the error for a ``404`` from the server's error text (default: a
            :class:`VaultError`).
        """
        client = self._current_client()
        try:
            return self._translated(action, path, call, client, missing)
        except VaultPermissionDenied:
            pass
        # A 403: either this path is not granted, or the token itself is no longer valid.
        replacement = self._replace_invalid_token(client)
        if replacement is not None:
            return self._translated(action, path, call, replacement, missing)
        policies = ", ".join(self.token.policies) if self.token else "?"
        raise VaultPermissionDenied(
            f"permission denied: Vault at {self.config.address} does not let this token {action} {path}; "
            f"none of its policies ({policies}) grants that path. Add a policy granting it to the token")

    def lookup(self) -> TokenInfo:
        """Look the current token up again (TTL left, policies)."""
        return self._lookup(self._current_client())

    def renew_self(self) -> int:
        """Renew the current token; the new lease in seconds."""
        response = self.request("renew the token at", "auth/token/renew-self",
                                lambda c: c.auth.token.renew_self())
        return int(response["auth"]["lease_duration"])

    def health(self) -> dict:
        """``sys/health`` (unauthenticated): version, sealed, standby."""
        return self._translated("read", "sys/health", lambda c: c.sys.read_health_status(method="GET"),
                                self._current_client(), None)

    # -- internals -----------------------------------------------------------

    def _new_client(self, token: str) -> hvac.Client:
        verify = str(self.config.verify_tls) if not isinstance(self.config.verify_tls, bool) else \
            self.config.verify_tls
        # Always pass the token: hvac would otherwise fall back to VAULT_TOKEN or ~/.vault-token.
        return hvac.Client(url=self.config.address, token=token, verify=verify, timeout=self.config.timeout)

    def _current_client(self) -> hvac.Client:
        client = self._client
        if client is None:
            raise VaultError(f"the Vault session to {self.config.address} is not open (the secrets plugin was not "
                             f"started, or was shut down)")
        return client

    def _translated(self, action: str, path: str, call: Callable[[hvac.Client], T], client: hvac.Client,
                    missing: Callable[[str], AegisError] | None) -> T:
        where = f"Vault at {self.config.address}"
        try:
            return call(client)
        except hvac.exceptions.Forbidden:
            raise VaultPermissionDenied(f"permission denied: {where} does not let this token {action} {path}") \
                from None
        except hvac.exceptions.InvalidPath as exc:
            if missing is not None:
                raise missing(_server_errors(exc)) from None
            raise VaultError(f"{where} has no {path} (cannot {action} it): {_server_errors(exc)}") from None
        except hvac.exceptions.VaultDown:
            raise VaultUnavailable(f"{where} is sealed or shutting down (cannot {action} {path})") from None
        except hvac.exceptions.VaultError as exc:
            raise VaultError(f"{where} refused to {action} {path}: {_server_errors(exc)}") from None
        except requests.exceptions.SSLError as exc:
            raise VaultUnavailable(f"TLS with {where} failed (cannot {action} {path}): {_network_reason(exc)}; "
                                   f"check verify_tls / VAULT_CACERT") from None
        except requests.exceptions.RequestException as exc:
            raise VaultUnavailable(f"cannot reach {where} to {action} {path}: {type(exc).__name__}: "
                                   f"{_network_reason(exc)}") from None

    def _lookup(self, client: hvac.Client) -> TokenInfo:
        try:
            data = self._translated("look up", "auth/token/lookup-self", lambda c: c.auth.token.lookup_self(),
                                    client, None)["data"]
        except VaultPermissionDenied:
            raise VaultTokenError(
                f"the Vault token in {self.config.token_file} is invalid, expired or revoked (Vault at "
                f"{self.config.address} denied auth/token/lookup-self); put a valid token in that file") from None
        return TokenInfo.from_lookup(data)

    def _install(self, client: hvac.Client, info: TokenInfo) -> None:
        renewer = None
        if self._renew and info.expires and info.renewable:
            renewer = TokenRenewer(self.renew_self, info.ttl, info.creation_ttl, self.config.renew_before,
                                   str(self.config.token_file), self._log)
        with self._lock:
            old_client, old_renewer = self._client, self._renewer
            self._client, self._renewer, self.token = client, renewer, info
        if old_renewer is not None:
            old_renewer.stop(timeout=0)  # it may be the thread doing this replacement: never wait for it
        if old_client is not None:
            old_client.adapter.close()
        if renewer is not None:
            renewer.start()
        elif info.expires and self._renew:
            self._log.warning("the Vault token from %s is not renewable: it expires in %d s; replace it in that "
                              "file before then", self.config.token_file, info.ttl)

    def _replace_invalid_token(self, client: hvac.Client) -> hvac.Client | None:
        """After a 403: ``None`` if the token is still valid, a client with the file's new token if the
        file holds a valid new one (Vault Agent rewrote it), else :class:`VaultTokenError`."""
        try:
            self._lookup(client)
            return None
        except VaultTokenError as invalid:
            with self._replace_lock:
                current = self._client
                if current is not None and current is not client:  # another thread replaced it meanwhile
                    return current
                token = read_token_file(self.config.token_file, self._strict, self._log)
                if token == client.token:
                    raise invalid from None
                replacement = self._new_client(token)
                info = self._lookup(replacement)
                self._install(replacement, info)
            self._log.info("using the new Vault token from %s: %s", self.config.token_file, info.describe())
            return replacement
