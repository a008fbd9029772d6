"""Secrets (API keys, consortium keys, passwords) stored in the token as data objects.

A secret ``name`` is one ``CKO_DATA`` token object labelled ``<prefix><name>`` whose
``CKA_VALUE`` holds the UTF-8 value. Objects this backend stores are ``CKA_PRIVATE=True``:
the token shows them only to a session logged in with the user PIN (SoftHSM2 keeps them
encrypted under a key derived from that PIN). AES-wrapping the values under a token key
would protect them from nobody extra, since whoever has the PIN can unwrap them too, so
plain private data objects it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pkcs11 import Attribute, ObjectClass, Session

from aegis.errors import SecretNotFound
from aegis_secrets_hsm.errors import SecretStoreError, TokenRef
from aegis_secrets_hsm.session import find_objects

#: Secret names: letters, digits, ``_``, ``.`` and ``-``; ``#`` marks a replacement being written.
SECRET_NAME = re.compile(r"[A-Za-z0-9_.-]+")
STAGING_SUFFIX = "#replacing"
APPLICATION = "aegis"
NAME_RULE = "a secret name may only contain letters, digits, '_', '.' and '-'"


@dataclass(frozen=True)
class StoredSecret:
    """A secret read from the token; ``private`` says whether the token hid it from unauthenticated sessions."""

    name: str
    label: str
    private: bool
    value: str = field(repr=False)


def _objects(session: Session, label: str) -> list:
    return find_objects(session, {Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: label})


def read_secret(session: Session, token: TokenRef, prefix: str, name: str) -> StoredSecret:
    """The data object labelled ``prefix + name``.

    :raises SecretNotFound: when there is none (or ``name`` is no valid secret name).
    :raises HsmFailure: when several objects carry the label or the value is not UTF-8 text.
    """
    if not isinstance(name, str) or not SECRET_NAME.fullmatch(name):
        raise SecretNotFound(f"secret {name!r} not found: {NAME_RULE} (secrets backend hsm, token {token.label})")
    label = prefix + name
    found = _objects(session, label)
    if not found:
        raise SecretNotFound(f"secret {name!r} not found: token {token.label} has no data object labelled {label!r} "
                             f"(secrets backend hsm, library {token.library}); store it with "
                             f"`aegis hsm put-secret {name} --from-file FILE`")
    if len(found) > 1:
        raise token.failure(f"{len(found)} data objects are labelled {label!r}; a secret's label must be unique")
    attributes = found[0].get_attributes([Attribute.VALUE, Attribute.PRIVATE])
    try:
        value = bytes(attributes[Attribute.VALUE]).decode("utf-8")
    except UnicodeDecodeError:
        raise token.failure(f"secret {name!r} (data object {label!r}) is not UTF-8 text") from None
    return StoredSecret(name, label, bool(attributes[Attribute.PRIVATE]), value)


def store_secret(session: Session, token: TokenRef, prefix: str, name: str, value: str, *, replace: bool) -> bool:
    """Store ``value`` as a private data object labelled ``prefix + name``; True when it replaced one.

    A replacement is written under a staging label (``…#replacing``) first; the old object is
    removed and the new one relabelled after, so a failure never loses the stored secret.

    :raises SecretStoreError: when the name is invalid, the value empty, or the secret exists
        and ``replace`` is false.
    """
    if not SECRET_NAME.fullmatch(name):
        raise SecretStoreError(f"cannot store secret {name!r}: {NAME_RULE}")
    if not value:
        raise SecretStoreError(f"cannot store secret {name!r}: the value is empty")
    label = prefix + name
    old = _objects(session, label)
    if old and not replace:
        raise SecretStoreError(f"secret {name!r} exists already in token {token.label} (data object {label!r}); "
                               f"use --replace to replace it")
    staging = label + STAGING_SUFFIX if old else label
    for stale in _objects(session, staging) if old else []:
        stale.destroy()  # left behind by an interrupted replacement
    new = session.create_object({
        Attribute.CLASS: ObjectClass.DATA, Attribute.TOKEN: True, Attribute.PRIVATE: True,
        Attribute.MODIFIABLE: True, Attribute.APPLICATION: APPLICATION, Attribute.LABEL: staging,
        Attribute.VALUE: value.encode("utf-8"),
    })
    for obj in old:
        obj.destroy()
    if old:
        new[Attribute.LABEL] = label
    return bool(old)


def secret_names(session: Session, prefix: str) -> list[str]:
    """The names of every data object labelled ``<prefix><name>`` (labels only: values are never read)."""
    labels = [obj[Attribute.LABEL] for obj in find_objects(session, {Attribute.CLASS: ObjectClass.DATA})]
    return sorted(label.removeprefix(prefix) for label in labels
                  if label.startswith(prefix) and SECRET_NAME.fullmatch(label.removeprefix(prefix)))
