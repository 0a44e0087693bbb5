"""The fabric's certificates, issued by the program and kept only as Pulumi secrets.

No TLS provider plugin can be had on these machines, so issuing is a Pulumi
dynamic resource using `cryptography`: the key is made once, at create, and
lives in the stack's state as a secret output; later runs read it back, so no
`up` makes a new key unless the certificate's identity changes (its subject,
its issuer, or its renewal count: then it is replaced, as a new identity must
be). Validity comes from fabric.yaml (`certificates:`) and holds from issue;
where a rotation stands is components/model/rotation.py's.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

from ..contract import certificates_output
from ..model.certificates import CertificateSettings, fabric_ca_name, peer_certificate_name
from ..model.rotation import RotationState

SECRET_OUTPUTS = ["key_pem"]


def _key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _pem(key) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


SERVER, CLIENT = "server", "client"
BOTH = (SERVER, CLIENT)


def issue(name: str, days: int, is_ca: bool, issuer_cert_pem: str | None, issuer_key_pem: str | None, *,
          dns_names: list[str] | None = None, ip_addresses: list[str] | None = None,
          organization: str | None = None, usages: tuple[str, ...] | list[str] = BOTH) -> dict[str, str]:
    """A certificate for `name` (CN, and DNS SAN unless `dns_names` says otherwise), self-signed when no
    issuer is given, in the profile ClusterLink's CLI issues (`pkg/bootstrap/crypt.go`): a CA has key usages
    certSign and cRLSign; a leaf has its SANs and the extended usages `usages` (server, client) only. The
    key is ECDSA P-256 where the CLI makes RSA-4096 (the binaries take either; a 4096-bit key costs seconds
    to make). The local control plane uses the extra names: IP SANs for its loopback API server, and an
    organization, which Kubernetes reads as a client certificate's group."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]
                        + ([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []))
    if issuer_cert_pem and issuer_key_pem:
        issuer = x509.load_pem_x509_certificate(issuer_cert_pem.encode())
        signer = serialization.load_pem_private_key(issuer_key_pem.encode(), password=None)
        issuer_name, issuer_public = issuer.subject, issuer.public_key()
    else:
        signer, issuer_name, issuer_public = key, subject, key.public_key()
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        # As Go's x509 writes them: verifiers find the issuer by these.
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False)
    )
    if is_ca:
        builder = (
            builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
        )
    else:
        alternative_names = ([x509.DNSName(n) for n in (dns_names if dns_names is not None else [name])]
                             + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses or []])
        if alternative_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
        extended = {SERVER: ExtendedKeyUsageOID.SERVER_AUTH, CLIENT: ExtendedKeyUsageOID.CLIENT_AUTH}
        builder = builder.add_extension(x509.ExtendedKeyUsage([extended[u] for u in usages]), critical=False)
    cert = builder.sign(signer, hashes.SHA256())
    return {"cert_pem": cert.public_bytes(serialization.Encoding.PEM).decode(), "key_pem": _pem(key)}


class _CertificateProvider(ResourceProvider):
    """Issues on create; keeps the certificate while its subject, issuer and renewal count stay the same."""

    # Inputs whose change means a new identity (and so a new key), with the value a certificate issued
    # before the input existed has (release 0.2 issued every leaf for both ends, named by its CN; none was renewed).
    IDENTITY = {"name": None, "is_ca": None, "issuer_cert_pem": None, "dns_names": None, "usages": list(BOTH),
                "renewal": None}

    def create(self, props: dict[str, Any]) -> CreateResult:
        issued = issue(props["name"], int(props["days"]), bool(props["is_ca"]),
                       props.get("issuer_cert_pem"), props.get("issuer_key_pem"),
                       dns_names=props.get("dns_names"), usages=props.get("usages") or BOTH)
        outs = {k: v for k, v in props.items() if k != "issuer_key_pem"}
        fingerprint = hashlib.sha256(issued["cert_pem"].encode()).hexdigest()[:16]
        return CreateResult(id_=f"{props['name']}-{fingerprint}", outs={**outs, **issued})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [k for k, default in self.IDENTITY.items() if olds.get(k, default) != news.get(k, default)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)


class Certificate(Resource):
    """An X.509 certificate and its private key (a secret output).

    `cert_pem` is the certificate alone; `chain_pem` is it followed by its issuer's certificate, the form
    ClusterLink's CLI writes into its Secrets and files (`Certificate.RawCert` upstream)."""

    cert_pem: pulumi.Output[str]
    key_pem: pulumi.Output[str]

    def __init__(self, name: str, common_name: str, validity: CertificateSettings, *, is_ca: bool = False,
                 issuer: "Certificate | None" = None, dns_names: list[str] | None = None,
                 usages: tuple[str, ...] | None = None, renewal: int = 0,
                 opts: pulumi.ResourceOptions | None = None):
        props = {
            "name": common_name,
            "is_ca": is_ca,
            "days": validity.caValidityDays if is_ca else validity.validityDays,
            "issuer_cert_pem": issuer.cert_pem if issuer else None,
            "issuer_key_pem": pulumi.Output.secret(issuer.key_pem) if issuer else None,
            "cert_pem": None,
            "key_pem": None,
        }
        # Written only when given, so certificates issued before these inputs existed see no change.
        if dns_names is not None:
            props["dns_names"] = list(dns_names)
        if usages is not None:
            props["usages"] = list(usages)
        if renewal:
            props["renewal"] = renewal
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=SECRET_OUTPUTS))
        super().__init__(_CertificateProvider(), name, props, opts)
        self.chain_pem = chain(self.cert_pem, issuer.cert_pem) if issuer else self.cert_pem

    def not_after(self) -> pulumi.Output[str | None]:
        return self.cert_pem.apply(not_after)


def chain(cert_pem: Any, issuer_cert_pem: Any) -> pulumi.Output[str]:
    """A certificate followed by its issuer's."""
    return pulumi.Output.concat(cert_pem, issuer_cert_pem)


def _certificates(pem: str) -> list[Any]:
    from cryptography import x509

    return x509.load_pem_x509_certificates(pem.encode())


def not_after(cert_pem: str) -> str | None:
    """The certificate's notAfter, ISO 8601 in UTC (None for what is no certificate: an offline plan's placeholder)."""
    try:
        return _certificates(cert_pem)[0].not_valid_after_utc.isoformat()
    except ValueError:
        return None


def issuer_of(cert_pem: str, bundle_pem: str) -> str:
    """The certificate in CA bundle `bundle_pem` that issued `cert_pem`, as it is written there: during a rollover
    the bundle holds two fabric CAs, and a peer's chain is its certificate and its issuer's (as upstream writes it).
    A bundle of one CA, or what cannot be read (an offline placeholder), is returned whole."""
    from cryptography.hazmat.primitives import serialization

    try:
        issuer, cas = _certificates(cert_pem)[0].issuer, _certificates(bundle_pem)
    except ValueError:
        return bundle_pem
    found = [ca for ca in cas if ca.subject == issuer]
    if len(cas) == 1 or len(found) != 1:
        return bundle_pem
    return found[0].public_bytes(serialization.Encoding.PEM).decode()


class FabricCertificates(pulumi.ComponentResource):
    """The fabric CA (two during a rollover) and one certificate per ClusterLink peer, owned by one stack."""

    cas: dict[int, Certificate]
    """By generation: the one CA, or during a rollover the old and the new."""
    ca: Certificate
    """The CA that issues the peers' certificates."""
    peers: dict[str, Certificate]

    def __init__(self, name: str, fabric: str, peers: list[str], validity: CertificateSettings,
                 rotation: RotationState = RotationState(), opts: pulumi.ResourceOptions | None = None):
        super().__init__("clusterfabric:clusterlink:FabricCertificates", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # The first CA keeps the name it always had; each rollover's CA is named by its generation.
        self.cas = {g: Certificate(f"{name}-ca" if g == 0 else f"{name}-ca-{g}", f"{fabric} {fabric_ca_name(g)}",
                                   validity, is_ca=True, opts=child) for g in rotation.trusted}
        self.ca = self.cas[rotation.signer]
        self.peers = {peer: Certificate(f"{name}-{peer}", peer, validity, issuer=self.ca,
                                        renewal=rotation.renewal(peer), opts=child) for peer in peers}
        self.trusted = pulumi.Output.concat(*(ca.cert_pem for ca in self.cas.values()))
        """The CA bundle every peer trusts (`ca.pem`)."""
        self.register_outputs({"ca": self.ca.cert_pem, "peers": sorted(self.peers)})

    def bundle(self) -> pulumi.Output[dict[str, Any]]:
        """What the other stacks read: the CA bundle and each peer's certificate and key (secret)."""
        return pulumi.Output.secret(certificates_output(self.trusted, {p: (c.cert_pem, c.key_pem)
                                                                       for p, c in self.peers.items()}))

    def expiry(self) -> dict[str, pulumi.Output[str | None]]:
        """Each CA's and each peer certificate's notAfter (not secret), by the names warnings use."""
        return {**{fabric_ca_name(g): ca.not_after() for g, ca in self.cas.items()},
                **{peer_certificate_name(p): c.not_after() for p, c in self.peers.items()}}
