"""A self-signed certificate for ``serve --tls-self-signed`` and ``--tls-dir``, for clients
that only speak https. It is valid for localhost, 127.0.0.1 and ::1, for 30 days; the
client must be told to trust it (its path is printed at start-up). ``--tls-self-signed``
makes a pair in a temporary directory, removed at shutdown; ``--tls-dir`` keeps one at a
fixed path and reuses it."""

from __future__ import annotations

import datetime
import ipaddress
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed_pair(directory: str | Path | None = None) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem``; their paths."""
    folder = Path(directory or tempfile.mkdtemp(prefix="segmentation-mock-tls-"))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "segmentation-mock")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def kept_pair(directory: str | Path) -> tuple[Path, Path]:
    """The pair kept in ``directory`` (``--tls-dir``): made on first use, reused after, so
    that clients can trust one fixed path; made again when it is missing, unreadable or
    within a day of expiring."""
    folder = Path(directory)
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    if cert_path.exists() and key_path.exists():
        try:
            certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
            serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            remaining = certificate.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
            if remaining > datetime.timedelta(days=1):
                return cert_path, key_path
        except ValueError:
            pass
    folder.mkdir(parents=True, exist_ok=True)
    return self_signed_pair(folder)
