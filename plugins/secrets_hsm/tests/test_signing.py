"""Signing keys in the token: sign/verify, non-extractability, lookup errors, session re-open, threads."""

from __future__ import annotations

import logging
import threading

import pkcs11
import pytest
from aegis_secrets_hsm import HsmFailure, HsmSecrets, SigningKeyError
from aegis_secrets_hsm.keys import P256_PARAMS, der_ecdsa_signature, signing_mechanism
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

from aegis.context import Context
from aegis.errors import SecretNotFound, SecurityViolation
from aegis.signing import verify

DATA = b"checkpoint 0042 merkle root 9f86d081884c7d659a2feaa0c55ad015"


# -- signatures verify independently ---------------------------------------------


def test_ecdsa_signature_is_der_and_verifies_with_cryptography(hsm_harness):
    with hsm_harness() as h:
        signature = h.host.sign(DATA, "audit")
        pem = h.host.public_key("audit")
        again = h.host.sign(DATA, "audit")
    assert verify(pem, DATA, signature) and verify(pem, DATA, again)
    assert not verify(pem, DATA + b"!", signature)
    r, s = decode_dss_signature(signature)  # DER ECDSA-Sig-Value, not PKCS#11's raw r || s
    assert 0 < r and 0 < s and signature != again  # ECDSA is randomised
    public_key = serialization.load_pem_public_key(pem)
    assert isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1)
    public_key.verify(signature, DATA, ec.ECDSA(hashes.SHA256()))  # raises if it does not verify


def test_rsa_pss_signature_verifies_with_pss_sha256_and_digest_length_salt(hsm_harness):
    with hsm_harness(key_type="rsa-2048") as h:
        signature = h.host.sign(DATA, "audit-rsa")
        pem = h.host.public_key("audit-rsa")
    assert len(signature) == 256 and verify(pem, DATA, signature)
    public_key = serialization.load_pem_public_key(pem)
    assert isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size == 2048
    public_key.verify(signature, DATA, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                      hashes.SHA256())


def test_distinct_keys_sign_distinctly(hsm_harness):
    with hsm_harness() as h:
        audit, timestamp = h.host.public_key("audit"), h.host.public_key("timestamp")
        assert audit != timestamp
        assert not verify(timestamp, DATA, h.host.sign(DATA, "audit"))


def test_der_conversion_matches_cryptography():
    private_key = ec.generate_private_key(ec.SECP256R1())
    der = private_key.sign(DATA, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    assert der_ecdsa_signature(r.to_bytes(32, "big") + s.to_bytes(32, "big")) == der
    with pytest.raises(ValueError, match="equal length"):
        der_ecdsa_signature(b"\x01" * 63)


# -- keys never leave the token --------------------------------------------------------


def test_generated_private_key_cannot_be_read_out(softhsm):
    with softhsm.raw_session() as session:
        key = session.get_key(ObjectClass.PRIVATE_KEY, label="audit")
        flags = key.get_attributes([Attribute.SENSITIVE, Attribute.EXTRACTABLE, Attribute.ALWAYS_SENSITIVE,
                                    Attribute.NEVER_EXTRACTABLE, Attribute.TOKEN, Attribute.PRIVATE])
        assert flags == {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False, Attribute.ALWAYS_SENSITIVE: True,
                         Attribute.NEVER_EXTRACTABLE: True, Attribute.TOKEN: True, Attribute.PRIVATE: True}
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            key[Attribute.VALUE]
        wrapping_key = session.generate_key(KeyType.AES, 256, template={Attribute.TOKEN: False})
        with pytest.raises(pkcs11.exceptions.KeyUnextractable):
            wrapping_key.wrap_key(key)
        for attribute in (Attribute.EXTRACTABLE, Attribute.SENSITIVE):
            with pytest.raises(pkcs11.exceptions.AttributeReadOnly):
                key[attribute] = attribute == Attribute.EXTRACTABLE
        with pytest.raises(pkcs11.exceptions.AttributeReadOnly):
            key.copy({Attribute.EXTRACTABLE: True})
        assert key[Attribute.EXTRACTABLE] is False


def _import_extractable_key(softhsm, name: str) -> bytes:
    """Put a software-made P-256 key pair into the token as sensitive=False, extractable=True."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    point = private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                  serialization.PublicFormat.UncompressedPoint)
    common = {Attribute.KEY_TYPE: KeyType.EC, Attribute.TOKEN: True, Attribute.LABEL: name, Attribute.ID: b"imported"}
    with softhsm.raw_session() as session:
        session.create_object({**common, Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.EC_PARAMS: P256_PARAMS,
                               Attribute.VALUE: private_key.private_numbers().private_value.to_bytes(32, "big"),
                               Attribute.PRIVATE: True, Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True,
                               Attribute.SIGN: True})
        session.create_object({**common, Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.EC_PARAMS: P256_PARAMS,
                               Attribute.EC_POINT: b"\x04\x41" + point, Attribute.VERIFY: True})
    return private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)


def test_extractable_key_is_refused_in_strict_mode_and_warned_about_in_permissive(softhsm, hsm_harness, caplog):
    pem = _import_extractable_key(softhsm, "imported-soft")
    with hsm_harness(security_mode="strict") as h, pytest.raises(SecurityViolation) as excinfo:
        h.host.sign(DATA, "imported-soft")
    message = str(excinfo.value)
    assert "'imported-soft'" in message and "CKA_EXTRACTABLE=True" in message
    assert "aegis hsm init-keys --key imported-soft --rotate" in message

    with caplog.at_level(logging.WARNING), hsm_harness(security_mode="permissive") as h:
        signature = h.host.sign(DATA, "imported-soft")
        assert h.host.public_key("imported-soft") == pem
    assert verify(pem, DATA, signature)
    assert any("can be read out of the token" in r.getMessage() for r in caplog.records)


# -- lookup errors ----------------------------------------------------------------------


def test_missing_key_names_token_key_and_the_command_that_creates_it(hsm_harness):
    with hsm_harness() as h, pytest.raises(SecretNotFound) as excinfo:
        h.host.sign(DATA, "no-such-key")
    message = str(excinfo.value)
    assert "'no-such-key'" in message and "token AegisToken" in message
    assert "`aegis hsm init-keys --key no-such-key`" in message


@pytest.mark.parametrize("key", ["../audit", "a/b", "", "audit key", "audit\x00"])
def test_invalid_key_names_are_refused(hsm_harness, key):
    with hsm_harness() as h, pytest.raises(SigningKeyError, match="invalid signing key name"):
        h.host.sign(DATA, key)


def test_key_of_another_type_than_configured_is_refused(hsm_harness):
    with hsm_harness(key_type="rsa-2048") as h, pytest.raises(SigningKeyError) as excinfo:
        h.host.sign(DATA, "audit")
    assert "'audit'" in str(excinfo.value) and "is ec-p256 but key_type is rsa-2048" in str(excinfo.value)


def test_mechanism_choice_and_missing_mechanism():
    assert signing_mechanism("ec-p256", {Mechanism.ECDSA, Mechanism.RSA_PKCS_PSS}) == Mechanism.ECDSA
    assert signing_mechanism("ec-p256", {Mechanism.ECDSA_SHA256}) is None  # the token must sign a digest
    assert signing_mechanism("rsa-2048", {Mechanism.RSA_PKCS_PSS, Mechanism.SHA256_RSA_PKCS_PSS}) \
        == Mechanism.RSA_PKCS_PSS
    assert signing_mechanism("rsa-2048", {Mechanism.SHA256_RSA_PKCS_PSS}) == Mechanism.SHA256_RSA_PKCS_PSS
    assert signing_mechanism("rsa-2048", {Mechanism.RSA_PKCS}) is None


def test_softhsm_offers_what_the_backend_uses(hsm_harness):
    with hsm_harness() as h:
        mechanisms = h.plugin._token.mechanisms
    assert {Mechanism.ECDSA, Mechanism.RSA_PKCS_PSS, Mechanism.EC_KEY_PAIR_GEN} <= mechanisms
    assert Mechanism.ECDSA_SHA256 not in mechanisms  # hence the digest on the host


def test_missing_mechanism_is_an_hsm_failure(softhsm, hsm_harness):
    with hsm_harness() as h:
        token = h.plugin._token
        token._mechanisms = frozenset(token.mechanisms - {Mechanism.ECDSA})  # a token without CKM_ECDSA
        with pytest.raises(HsmFailure) as excinfo:
            h.host.sign(DATA, "timestamp")
    assert str(excinfo.value).startswith("HSM Failure: Mechanism missing: ECDSA P-256 signatures need CKM_ECDSA "
                                         f"(label AegisToken, library {softhsm.library})")


# -- session loss -------------------------------------------------------------------------


def test_session_is_reopened_after_it_was_lost(hsm_harness, caplog):
    with hsm_harness() as h:
        pem = h.host.public_key("audit")
        h.plugin._token._session.close()  # the session dies under the plugin (as on a token reset)
        with caplog.at_level(logging.WARNING):
            signature = h.host.sign(DATA, "audit")
        assert verify(pem, DATA, signature)
        h.plugin._token._session.close()
        assert h.host.resolve_secret("db_password") == "correct horse battery staple"  # a search after a loss
        assert h.host.public_key("audit") == pem
    lost = [r.getMessage() for r in caplog.records if "HSM session unusable" in r.getMessage()]
    assert len(lost) == 2 and "while signing with key 'audit'" in lost[0] and "while reading secret" in lost[1]
    assert all("re-opening it (label AegisToken" in message for message in lost)


def test_reopening_reads_the_pin_file_again_and_reports_its_failure(hsm_harness, pin_file):
    path = pin_file()
    with hsm_harness(pin_file=path) as h:
        h.host.sign(DATA, "audit")
        h.plugin._token._session.close()
        path.write_text("wrong-pin-7d41\n")
        with pytest.raises(HsmFailure) as excinfo:
            h.host.sign(DATA, "audit")
    assert str(excinfo.value).startswith("HSM Failure: Wrong PIN")
    assert "wrong-pin-7d41" not in str(excinfo.value)


def test_concurrent_signing_from_threads(hsm_harness):
    results: list[tuple[bytes, bytes]] = []
    errors: list[BaseException] = []
    with hsm_harness() as h:
        pem = h.host.public_key("audit")

        def work(worker: int) -> None:
            try:
                for i in range(25):
                    data = f"worker {worker} record {i}".encode()
                    results.append((data, h.host.sign(data, "audit")))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors and len(results) == 100
    assert all(verify(pem, data, signature) for data, signature in results)


# -- lifecycle ------------------------------------------------------------------------------


def test_self_test_reports_token_round_trip_and_protection(hsm_harness, caplog):
    with caplog.at_level(logging.INFO), hsm_harness() as h:
        results = h.host.self_test()
    assert [r.check for r in results] == ["token reachable", "sign/verify round trip with key 'audit'",
                                          "key 'audit' cannot leave the token"]
    assert all(r.ok for r in results), results
    assert results[0].plugin == "secrets (hsm)" and "SoftHSM" in results[0].detail
    assert "CKM_ECDSA" in results[1].detail and "sha256:" in results[1].detail
    assert "SoftHSM2, a software token" in caplog.text  # the startup warning


def test_self_test_reports_a_missing_key(hsm_harness):
    with hsm_harness(self_test_key="never-generated") as h:
        token, round_trip = h.host.self_test()
    assert token.ok
    assert not round_trip.ok and "SecretNotFound" in round_trip.detail and "never-generated" in round_trip.detail


def test_shutdown_logs_out_and_hooks_before_startup_open_lazily(softhsm):
    plugin = HsmSecrets(HsmSecrets.Config.model_validate(softhsm.config()))
    context = Context(security_mode="strict")
    plugin.aegis_shutdown(context=context)  # never opened: no error
    signature = plugin.aegis_secrets_sign(context=context, data=DATA, key="audit")
    assert verify(plugin.aegis_secrets_public_key(context=context, key="audit"), DATA, signature)
    plugin.aegis_shutdown(context=context)
    token = pkcs11.lib(str(softhsm.library)).get_token(token_label=softhsm.label)
    with token.open(user_pin=softhsm.pin) as session:  # UserAlreadyLoggedIn if shutdown had not logged out
        assert session.get_key(ObjectClass.PRIVATE_KEY, label="audit")


def test_capabilities():
    assert HsmSecrets.capabilities == {"non_extractable_keys": True, "signing": True}
