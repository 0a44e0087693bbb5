"""The fabric's certificates: a CA, and peer certificates with the peer's name as CN and DNS SAN."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from components.clusterlink.certificates import _CertificateProvider, issue


def test_peer_certificate_names_the_peer_and_serves_both_ends():
    ca = issue("example fabric CA", 10, True, None, None)
    peer = issue("east", 5, False, ca["cert_pem"], ca["key_pem"])
    cert = x509.load_pem_x509_certificate(peer["cert_pem"].encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "east"
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == ["east"]
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_peer_certificate_is_signed_by_the_fabric_ca():
    ca = issue("example fabric CA", 10, True, None, None)
    peer = issue("east", 5, False, ca["cert_pem"], ca["key_pem"])
    ca_cert = x509.load_pem_x509_certificate(ca["cert_pem"].encode())
    cert = x509.load_pem_x509_certificate(peer["cert_pem"].encode())
    cert.verify_directly_issued_by(ca_cert)
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_certificate_is_kept_while_its_identity_is_unchanged():
    provider = _CertificateProvider()
    olds = {"name": "east", "is_ca": False, "issuer_cert_pem": "CA", "years": 5}
    assert provider.diff("id", olds, dict(olds)).changes is False
    renamed = provider.diff("id", olds, {**olds, "name": "west"})
    assert (renamed.changes, renamed.replaces) == (True, ["name"])


def test_private_key_is_pkcs8_ec_p256():
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(issue("east", 5, False, None, None)["key_pem"].encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
