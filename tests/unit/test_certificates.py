"""The certificates, in the profile ClusterLink's CLI issues (`pkg/bootstrap/crypt.go`): a fabric CA and
peer certificates named by the peer for both ends; a cluster CA and its control plane (server) and data
plane (client) certificates."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from clusterfabric.components.clusterlink.certificates import CLIENT, SERVER, _CertificateProvider, issue, issuer_of


def load(issued: dict[str, str]) -> x509.Certificate:
    return x509.load_pem_x509_certificate(issued["cert_pem"].encode())


def dns_names(cert: x509.Certificate) -> list[str]:
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


def extended_usages(cert: x509.Certificate) -> set:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_peer_certificate_names_the_peer_and_serves_both_ends():
    ca = issue("example fabric CA", 3650, True, None, None)
    cert = load(issue("east", 1825, False, ca["cert_pem"], ca["key_pem"]))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "east"
    assert dns_names(cert) == ["east"]
    assert extended_usages(cert) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}


def test_leaf_certificates_carry_no_ca_constraint_or_key_usage_as_the_cli_writes_them():
    ca = issue("cl-ca", 3650, True, None, None)
    extensions = {type(e.value) for e in load(issue("cl-controlplane", 1825, False, ca["cert_pem"], ca["key_pem"]))
                  .extensions}
    assert x509.BasicConstraints not in extensions and x509.KeyUsage not in extensions


def test_controlplane_certificate_serves_only_under_its_service_name():
    ca = issue("cl-ca", 3650, True, None, None)
    cert = load(issue("cl-controlplane", 1825, False, ca["cert_pem"], ca["key_pem"], dns_names=["cl-controlplane"],
                      usages=(SERVER,)))
    assert dns_names(cert) == ["cl-controlplane"]
    assert extended_usages(cert) == {ExtendedKeyUsageOID.SERVER_AUTH}


def test_dataplane_certificate_is_a_client_certificate_only():
    ca = issue("cl-ca", 3650, True, None, None)
    cert = load(issue("cl-dataplane", 1825, False, ca["cert_pem"], ca["key_pem"], dns_names=["cl-dataplane"],
                      usages=(CLIENT,)))
    assert extended_usages(cert) == {ExtendedKeyUsageOID.CLIENT_AUTH}


def test_ca_certificate_signs_certificates_and_revocation_lists_only():
    ca = load(issue("example fabric CA", 3650, True, None, None))
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (usage.key_cert_sign, usage.crl_sign, usage.digital_signature) == (True, True, False)


def test_peer_certificate_is_signed_by_the_fabric_ca():
    ca = issue("example fabric CA", 3650, True, None, None)
    cert = load(issue("east", 1825, False, ca["cert_pem"], ca["key_pem"]))
    cert.verify_directly_issued_by(load(ca))
    assert cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == \
        load(ca).extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def test_certificate_is_kept_while_its_identity_is_unchanged():
    provider = _CertificateProvider()
    olds = {"name": "east", "is_ca": False, "issuer_cert_pem": "CA", "years": 5}
    assert provider.diff("id", olds, dict(olds)).changes is False
    renamed = provider.diff("id", olds, {**olds, "name": "west"})
    assert (renamed.changes, renamed.replaces) == (True, ["name"])


def test_a_certificate_issued_before_usages_were_inputs_is_kept_as_a_peer_certificate():
    provider = _CertificateProvider()
    olds = {"name": "east", "is_ca": False, "issuer_cert_pem": "CA", "years": 5}
    assert provider.diff("id", olds, {**olds, "usages": [SERVER, CLIENT]}).changes is False
    narrowed = provider.diff("id", olds, {**olds, "usages": [SERVER]})
    assert (narrowed.changes, narrowed.replaces) == (True, ["usages"])


def test_a_changed_validity_keeps_the_certificate_it_applies_from_the_next_one_issued():
    provider = _CertificateProvider()
    olds = {"name": "east", "is_ca": False, "issuer_cert_pem": "CA", "years": 5}
    assert provider.diff("id", olds, {**olds, "days": 30}).changes is False


def test_a_renewal_replaces_the_certificate_and_one_never_renewed_is_kept():
    provider = _CertificateProvider()
    olds = {"name": "east", "is_ca": False, "issuer_cert_pem": "CA", "days": 1825}
    renewed = provider.diff("id", olds, {**olds, "renewal": 1})
    assert (renewed.changes, renewed.replaces) == (True, ["renewal"])
    assert provider.diff("id", {**olds, "renewal": 1}, {**olds, "renewal": 1}).changes is False


def test_private_key_is_pkcs8_ec_p256():
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(issue("east", 1825, False, None, None)["key_pem"].encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"


def test_a_peers_chain_names_the_ca_of_the_bundle_that_issued_it():
    old, new = issue("fabric CA", 10, True, None, None), issue("fabric CA 2", 10, True, None, None)
    peer = issue("east", 10, False, new["cert_pem"], new["key_pem"])
    assert issuer_of(peer["cert_pem"], old["cert_pem"] + new["cert_pem"]) == new["cert_pem"]


def test_a_bundle_of_one_ca_is_the_issuer_as_it_is_written():
    ca = issue("fabric CA", 10, True, None, None)
    peer = issue("east", 10, False, ca["cert_pem"], ca["key_pem"])
    assert issuer_of(peer["cert_pem"], ca["cert_pem"]) == ca["cert_pem"]
