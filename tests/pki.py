"""A small certificate authority for TLS tests, made with `cryptography` in a temp folder.

Shared by the bus (nats-server `tls {}`) and the Winlogbeat (Lumberjack over TLS) tests, so
both build certificates the way real deployments do: a CA with key-cert-sign and a subject key
id; leaf certificates with an extended key usage (server or client auth), the CA's authority
key id, and for the server, subject alternative names for 127.0.0.1 and one DNS name. A second,
unrelated CA and a client certificate it signed give the "someone else's CA" cases.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class Pki:
    """Where the files are: PEM certificates, PKCS#8 keys (mode 0600)."""

    dir: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # an unrelated CA
    other_client_cert: Path  # signed by other_ca
    other_client_key: Path


def make_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """A P-256 key, written as unencrypted PKCS#8 PEM readable by its owner only."""
    k = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    path.chmod(0o600)
    return k


def make_cert(path: Path, subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None,
              issuer_key: ec.EllipticCurvePrivateKey, usage: str = "ca",
              server_name: str = "localhost") -> x509.Certificate:
    """A certificate for `key`, valid from an hour ago for a day, written as PEM.

    `usage` is "ca" (self-signed when `issuer` is None), "server" (SANs 127.0.0.1 and
    `server_name`) or "client"."""
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    b = (x509.CertificateBuilder().subject_name(name)
         .issuer_name(issuer.subject if issuer is not None else name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
         .add_extension(x509.BasicConstraints(ca=usage == "ca", path_length=None), critical=True))
    if usage == "ca":
        b = b.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                          content_commitment=False, key_encipherment=False,
                                          data_encipherment=False, key_agreement=False,
                                          encipher_only=False, decipher_only=False), critical=True)
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        assert usage in ("server", "client") and issuer is not None, usage
        b = b.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH if usage == "server" else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False)
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                            critical=False)
    if usage == "server":
        b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                         x509.DNSName(server_name)]), critical=False)
    c = b.sign(issuer_key, hashes.SHA256())
    path.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    return c


def make_pki(d: Path, *, ca_name: str, server_name: str, client_name: str) -> Pki:
    """A CA, a server and a client certificate it signed, and another CA with its own client,
    in `d` (ca.pem/.key, server.pem/.key, client.pem/.key, other-ca.pem/.key,
    other-client.pem/.key). The server certificate's CN and DNS name are `server_name`."""
    ca_key = make_key(d / "ca.key")
    ca = make_cert(d / "ca.pem", ca_name, ca_key, None, ca_key)
    srv_key = make_key(d / "server.key")
    make_cert(d / "server.pem", server_name, srv_key, ca, ca_key, "server", server_name)
    cl_key = make_key(d / "client.key")
    make_cert(d / "client.pem", client_name, cl_key, ca, ca_key, "client")
    other_ca_key = make_key(d / "other-ca.key")
    other_ca = make_cert(d / "other-ca.pem", "someone else's CA", other_ca_key, None, other_ca_key)
    ot_key = make_key(d / "other-client.key")
    make_cert(d / "other-client.pem", client_name, ot_key, other_ca, other_ca_key, "client")
    return Pki(d, d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem", d / "client.key",
               d / "other-ca.pem", d / "other-client.pem", d / "other-client.key")
