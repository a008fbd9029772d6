"""Secrets as private data objects in the token: resolving, storing, strict rules, values never leaking."""

from __future__ import annotations

import logging

import pkcs11
import pytest
from aegis_secrets_hsm import HsmFailure, SecretStoreError
from aegis_secrets_hsm.data_objects import read_secret, secret_names, store_secret
from aegis_secrets_hsm.errors import TokenRef
from click.testing import CliRunner
from pkcs11 import Attribute, ObjectClass

from aegis.cli import main
from aegis.errors import SecretNotFound, SecurityViolation


def add_data_object(softhsm, label: str, value: bytes, private: bool = True) -> None:
    with softhsm.raw_session() as session:
        session.create_object({Attribute.CLASS: ObjectClass.DATA, Attribute.TOKEN: True, Attribute.PRIVATE: private,
                               Attribute.LABEL: label, Attribute.VALUE: value})


def test_resolves_utf8_secrets(hsm_harness, softhsm):
    with hsm_harness() as h:
        for name, value in softhsm.secrets.items():
            assert h.host.resolve_secret(name) == value


def test_unknown_secret_names_label_token_and_the_command_that_stores_it(softhsm, hsm_harness):
    with hsm_harness() as h, pytest.raises(SecretNotFound) as excinfo:
        h.host.resolve_secret("consortium_key")
    assert str(excinfo.value) == (
        f"secret 'consortium_key' not found: token AegisToken has no data object labelled "
        f"'aegis-secret:consortium_key' (secrets backend hsm, library {softhsm.library}); store it with "
        f"`aegis hsm put-secret consortium_key --from-file FILE`")
    assert isinstance(excinfo.value, KeyError)


@pytest.mark.parametrize("name", ["", "a/b", "with space", "x#replacing"])
def test_invalid_secret_names_are_not_found(hsm_harness, name):
    with hsm_harness() as h, pytest.raises(SecretNotFound, match="a secret name may only contain"):
        h.host.resolve_secret(name)


def test_label_prefix_is_configurable(softhsm, hsm_harness):
    add_data_object(softhsm, "bank-a/api_key", b"prefixed value")
    with hsm_harness(secret_label_prefix="bank-a/") as h:
        assert h.host.resolve_secret("api_key") == "prefixed value"
        with pytest.raises(SecretNotFound, match="'bank-a/db_password'"):
            h.host.resolve_secret("db_password")


def test_stored_secrets_are_private_token_objects(softhsm):
    token = pkcs11.lib(str(softhsm.library)).get_token(token_label=softhsm.label)
    with token.open() as anonymous:  # no login: private objects are invisible
        assert list(anonymous.get_objects({Attribute.CLASS: ObjectClass.DATA})) == []
    with softhsm.raw_session() as session:
        [stored] = list(session.get_objects({Attribute.CLASS: ObjectClass.DATA,
                                             Attribute.LABEL: "aegis-secret:db_password"}))
        assert stored[Attribute.PRIVATE] is True and stored[Attribute.TOKEN] is True
        assert stored[Attribute.APPLICATION] == "aegis"


def test_public_data_object_is_refused_in_strict_mode_and_warned_about_in_permissive(softhsm, hsm_harness, caplog):
    add_data_object(softhsm, "aegis-secret:public_api_key", b"readable-without-pin", private=False)
    with hsm_harness(security_mode="strict") as h, pytest.raises(SecurityViolation) as excinfo:
        h.host.resolve_secret("public_api_key")
    assert "CKA_PRIVATE=False" in str(excinfo.value) and "put-secret public_api_key --replace" in str(excinfo.value)
    with caplog.at_level(logging.WARNING), hsm_harness(security_mode="permissive") as h:
        assert h.host.resolve_secret("public_api_key") == "readable-without-pin"
    assert any("public data object" in r.getMessage() for r in caplog.records)


def test_duplicate_labels_and_non_text_values_are_hsm_failures(softhsm, hsm_harness):
    add_data_object(softhsm, "aegis-secret:twice", b"one")
    add_data_object(softhsm, "aegis-secret:twice", b"two")
    add_data_object(softhsm, "aegis-secret:binary", b"\xff\xfe\x00binary")
    with hsm_harness() as h:
        with pytest.raises(HsmFailure, match="2 data objects are labelled 'aegis-secret:twice'"):
            h.host.resolve_secret("twice")
        with pytest.raises(HsmFailure, match=r"'binary' .* is not UTF-8 text") as excinfo:
            h.host.resolve_secret("binary")
    assert "binary\\x00" not in str(excinfo.value) and "\\xff" not in str(excinfo.value)


def test_store_refuses_to_overwrite_unless_replacing_and_lists_names_only(softhsm):
    ref = TokenRef(softhsm.label, softhsm.library)
    with softhsm.raw_session() as session:
        assert store_secret(session, ref, "test-store:", "api_key", "first", replace=False) is False
        with pytest.raises(SecretStoreError, match="exists already"):
            store_secret(session, ref, "test-store:", "api_key", "second", replace=False)
        assert store_secret(session, ref, "test-store:", "api_key", "second", replace=True) is True
        assert read_secret(session, ref, "test-store:", "api_key").value == "second"
        assert secret_names(session, "test-store:") == ["api_key"]  # the staging object is gone
        for name, value, problem in [("a b", "v", "may only contain"), ("ok", "", "value is empty")]:
            with pytest.raises(SecretStoreError, match=problem):
                store_secret(session, ref, "test-store:", name, value, replace=False)
        assert "second" not in repr(read_secret(session, ref, "test-store:", "api_key"))


def test_secret_value_never_appears_in_logs_output_or_errors(softhsm, hsm_harness, caplog):
    value = "VALUE-3b9f0c-must-never-leak"
    runner = CliRunner()
    environ = softhsm.environ()
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG):
        results = [
            runner.invoke(main, ["hsm", "put-secret", "leak_check"], input=value + "\n", env=environ),
            runner.invoke(main, ["hsm", "put-secret", "leak_check"], input=value + "\n", env=environ),  # exists
            runner.invoke(main, ["hsm", "put-secret", "leak_check", "--replace"], input=value, env=environ),
            runner.invoke(main, ["hsm", "list"], env=environ),
        ]
        add_data_object(softhsm, "aegis-secret:leak_public", value.encode(), private=False)
        add_data_object(softhsm, "aegis-secret:leak_twice", value.encode())
        add_data_object(softhsm, "aegis-secret:leak_twice", value.encode())
        with hsm_harness() as h:
            assert h.host.resolve_secret("leak_check") == value
            for name in ("leak_public", "leak_twice", "leak_check/other"):
                try:
                    h.host.resolve_secret(name)
                except Exception as exc:
                    errors.append(exc)
        with hsm_harness(security_mode="permissive") as h:
            assert h.host.resolve_secret("leak_public") == value  # warned about, not logged
    assert [r.exit_code for r in results] == [0, 1, 0, 0], [r.output for r in results]
    assert "exists already" in results[1].output and "leak_check" in results[3].output
    assert [type(e) for e in errors] == [SecurityViolation, HsmFailure, SecretNotFound]
    assert caplog.records, "the run logged nothing: the check would be empty"
    assert value not in caplog.text
    for result in results:
        assert value not in result.output
    for error in errors:
        assert value not in str(error) and value not in repr(error)
