"""Reaching the token: wrong PIN, missing token or library, PIN file rules in strict and permissive mode."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from aegis_secrets_hsm import HsmFailure, HsmSecrets

from aegis.errors import SecurityViolation
from aegis.signing import verify

WRONG_PIN = "wrong-pin-5150"


def start_error(hsm_harness, exception: type[Exception], security_mode: str = "strict", **config) -> Exception:
    with pytest.raises(exception) as excinfo, hsm_harness(security_mode=security_mode, **config):
        pass
    return excinfo.value


# -- token and library ----------------------------------------------------------------


def test_wrong_pin_says_so_and_never_shows_the_pin(softhsm, hsm_harness, pin_file):
    path = pin_file(WRONG_PIN + "\n")
    error = start_error(hsm_harness, HsmFailure, pin_file=path)
    assert str(error) == (f"HSM Failure: Wrong PIN: the token refused the PIN read from {path} "
                          f"(label AegisToken, library {softhsm.library})")
    assert WRONG_PIN not in str(error) and WRONG_PIN not in repr(error)
    with hsm_harness() as h:  # no lockout: the right PIN still works
        assert verify(h.host.public_key("audit"), b"x", h.host.sign(b"x", "audit"))


def test_missing_token_names_label_library_and_the_tokens_present(softhsm, hsm_harness):
    error = start_error(hsm_harness, HsmFailure, token_label="NoSuchToken")
    assert str(error) == (f"HSM Failure: Token not found (label NoSuchToken, library {softhsm.library}); "
                          f"tokens present: 'AegisToken'")
    assert error.exit_code != 0


def test_token_label_longer_than_pkcs11_allows_is_a_config_error():
    with pytest.raises(ValueError, match="token_label"):
        HsmSecrets.Config(token_label="x" * 33)


def test_missing_library(hsm_harness, tmp_path):
    library = tmp_path / "libvendor-pkcs11.so"
    error = start_error(hsm_harness, HsmFailure, library=library)
    assert str(error).startswith(f"HSM Failure: PKCS#11 library not loadable: {library} does not exist "
                                 f"(label AegisToken, library {library})")
    assert "AEGIS_HSM_LIB" in str(error)


def test_file_that_is_no_pkcs11_library(hsm_harness, tmp_path):
    library = tmp_path / "not-a-library.so"
    library.write_text("this is a text file, not a shared object\n" * 20)
    error = start_error(hsm_harness, HsmFailure, library=library)
    assert str(error).startswith("HSM Failure: PKCS#11 library not loadable:")
    assert "invalid ELF header" in str(error) and str(library) in str(error)


# -- PIN file -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_strict_mode_refuses_a_pin_file_others_can_access(softhsm, hsm_harness, pin_file, mode):
    path = pin_file(mode=mode)
    error = start_error(hsm_harness, SecurityViolation, pin_file=path)
    message = str(error)
    assert message.startswith("FATAL: Security Violation: HSM PIN file")
    assert str(path) in message and f"mode {mode:04o}" in message and f"chmod 600 {path}" in message
    assert f"label AegisToken, library {softhsm.library}" in message
    assert error.exit_code == 78


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_strict_mode_accepts_an_owner_only_pin_file(hsm_harness, pin_file, mode):
    with hsm_harness(pin_file=pin_file(mode=mode)) as h:
        assert h.host.public_key("audit").startswith(b"-----BEGIN PUBLIC KEY-----")


def test_permissive_mode_warns_about_an_open_pin_file_and_works(hsm_harness, pin_file, caplog):
    path = pin_file(mode=0o644)
    with caplog.at_level(logging.WARNING), hsm_harness(security_mode="permissive", pin_file=path) as h:
        signature = h.host.sign(b"data", "audit")
        assert verify(h.host.public_key("audit"), b"data", signature)
    warnings = [r.getMessage() for r in caplog.records if "PIN file" in r.getMessage()]
    assert len(warnings) == 1
    assert str(path) in warnings[0] and "mode 0644" in warnings[0] and "strict mode refuses it" in warnings[0]


def test_missing_pin_file(hsm_harness, tmp_path):
    path = tmp_path / "absent"
    error = start_error(hsm_harness, HsmFailure, pin_file=path)
    assert str(error).startswith(f"HSM Failure: PIN file {path} does not exist (label AegisToken")
    assert "AEGIS_HSM_PIN_FILE" in str(error)


@pytest.mark.parametrize("content, problem", [("", "is empty"), ("\n", "is empty"), ("x" * 2000, "larger than")])
def test_unusable_pin_file_content(hsm_harness, pin_file, content, problem):
    error = start_error(hsm_harness, HsmFailure, pin_file=pin_file(content))
    assert problem in str(error)


def test_pin_file_that_is_a_directory(hsm_harness, tmp_path):
    directory = tmp_path / "pin.d"
    directory.mkdir(mode=0o700)
    error = start_error(hsm_harness, HsmFailure, pin_file=directory)
    assert "is not a regular file" in str(error)


def test_pin_file_with_crlf_line_end(hsm_harness, pin_file):
    with hsm_harness(pin_file=pin_file("1234\r\n")) as h:
        h.host.sign(b"data", "audit")


# -- config from the operator guide's environment variables ----------------------------------


def test_config_defaults_come_from_the_environment_at_validation_time(monkeypatch):
    monkeypatch.setenv("AEGIS_HSM_LIB", "/opt/nfast/toolkits/pkcs11/libcknfast.so")
    monkeypatch.setenv("AEGIS_HSM_TOKEN", "AegisProductionToken")
    monkeypatch.setenv("AEGIS_HSM_PIN_FILE", "/run/secrets/hsm_pin_prod")
    config = HsmSecrets.Config()
    assert config.library == Path("/opt/nfast/toolkits/pkcs11/libcknfast.so")
    assert config.token_label == "AegisProductionToken" and config.pin_file == Path("/run/secrets/hsm_pin_prod")
    for variable in ("AEGIS_HSM_LIB", "AEGIS_HSM_TOKEN", "AEGIS_HSM_PIN_FILE"):
        monkeypatch.delenv(variable)
    config = HsmSecrets.Config()
    assert (config.library, config.token_label, config.pin_file) == (
        Path("/usr/lib/softhsm/libsofthsm2.so"), "AegisToken", Path("/run/secrets/hsm_pin"))
    assert config.key_type == "ec-p256" and config.secret_label_prefix == "aegis-secret:"
    assert HsmSecrets.Config(token_label="Explicit").token_label == "Explicit"  # YAML wins over the environment
