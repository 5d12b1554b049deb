"""Email: TLS before any password, a verified certificate, and failures that are logged, not lost.

A real SMTP server runs in the test process on 127.0.0.1 with a throwaway CA and certificate,
offering STARTTLS (or TLS from the start) and AUTH PLAIN; it records every line it receives and
whether the connection was encrypted at that moment.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import logging
import socketserver
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from webapp import config as cfg
from webapp import mail

USER, PASSWORD = "cadence@example.com", "s3cret p@ss"
SMTP_PASSWORD_IN_URL = "s3cret%20p%40ss"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(folder, name: str = "localhost") -> dict:
    """Write a throwaway CA and a certificate it signed for name (and 127.0.0.1); return paths."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Cadence test CA"))
        .issuer_name(_name("Cadence test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """Write a throwaway CA and a localhost certificate it signed; return their paths."""
    return make_certificates(tmp_path_factory.mktemp("smtp-tls"))


class _SMTPHandler(socketserver.StreamRequestHandler):
    """SMTP with STARTTLS, implicit TLS and AUTH PLAIN, recording (encrypted?, line)."""

    def _encrypt(self):
        self.connection = self.server.tls.wrap_socket(self.request, server_side=True)
        self.rfile = self.connection.makefile("rb")
        self.wfile = self.connection.makefile("wb", buffering=0)
        self.encrypted = True

    def _reply(self, text: str):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.encrypted = False
        try:
            if self.server.mode == "implicit":
                self._encrypt()
            self._conversation()
        except (OSError, ssl.SSLError) as exc:  # e.g. the client rejected our certificate
            self.server.errors.append(type(exc).__name__)

    def _conversation(self):
        self._reply("220 localhost ESMTP test")
        in_data, body = False, []
        while line := self.rfile.readline():
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    self.server.messages.append((self.encrypted, b"".join(body).decode()))
                    self._reply("250 queued")
                else:
                    body.append(line)
                continue
            self.server.lines.append((self.encrypted, line.decode().rstrip()))
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb in {b"EHLO", b"HELO"}:
                offers = ["localhost", "AUTH PLAIN", "SIZE 1000000"]
                if self.server.mode == "starttls" and not self.encrypted:
                    offers.insert(1, "STARTTLS")
                for offer in offers[:-1]:
                    self._reply(f"250-{offer}")
                self._reply(f"250 {offers[-1]}")
            elif verb == b"STARTTLS" and self.server.mode == "starttls":
                self._reply("220 go ahead")
                self._encrypt()
            elif verb == b"AUTH":
                _, user, password = base64.b64decode(line.split()[2]).decode().split("\0")
                self.server.logins.append((self.encrypted, user, password))
                self._reply("235 ok")
            elif verb == b"DATA":
                in_data, body = True, []
                self._reply("354 end with .")
            elif verb == b"QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 ok")


def _start(mode: str, certificates) -> socketserver.ThreadingTCPServer:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.mode = mode
    server.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.tls.load_cert_chain(certificates["cert"], certificates["key"])
    server.lines, server.logins, server.messages, server.errors = [], [], [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def smtp_server(request, certificates):
    """Start an SMTP server in the mode given by indirect parametrization (default starttls)."""
    server = _start(getattr(request, "param", "starttls"), certificates)
    yield server
    server.shutdown()
    server.server_close()


def _url(scheme: str, server, *, login: bool = True) -> str:
    """Return SMTP_URL for the test server, with the test credentials unless login is False."""
    credentials = f"{USER}:{SMTP_PASSWORD_IN_URL}@" if login else ""
    return f"{scheme}://{credentials}localhost:{server.server_address[1]}"


def _configure(monkeypatch, url: str, ca_file: str = "") -> None:
    for key in mail._config:
        monkeypatch.setitem(mail._config, key, mail._config[key])  # restored after the test
    mail.configure(
        cfg.load({"SMTP_URL": url, "MAIL_FROM": "cadence@example.com", "SMTP_CA_FILE": ca_file})
    )


def _no_secret_logged(caplog) -> None:
    for record in caplog.records:
        text = record.getMessage()
        assert PASSWORD not in text and SMTP_PASSWORD_IN_URL not in text


def test_smtp_greets_before_asking_for_starttls_and_logs_in_only_over_tls(
    smtp_server, certificates, monkeypatch, caplog
):
    _configure(monkeypatch, _url("smtp", smtp_server), str(certificates["ca"]))
    assert mail.send(
        ["maya@example.com"],
        "A post failed",
        "Open it in Cadence: https://cadence.example.com/w/main/posts/1\n",
    )
    in_clear = [line for encrypted, line in smtp_server.lines if not encrypted]
    assert [line.split()[0] for line in in_clear] == ["ehlo", "STARTTLS"]
    assert smtp_server.logins == [(True, USER, PASSWORD)]
    assert len(smtp_server.messages) == 1
    encrypted, message = smtp_server.messages[0]
    assert encrypted and "Subject: A post failed" in message and "To: maya@example.com" in message
    _no_secret_logged(caplog)


@pytest.mark.parametrize("smtp_server", ["plain"], indirect=True)
def test_smtp_refuses_to_send_a_password_to_a_server_without_starttls(
    smtp_server, certificates, monkeypatch, caplog
):
    _configure(monkeypatch, _url("smtp", smtp_server), str(certificates["ca"]))
    with caplog.at_level(logging.WARNING, logger="webapp.mail"):
        assert mail.send(["maya@example.com"], "A post failed", "body") is False
    assert smtp_server.logins == [] and smtp_server.messages == []
    assert [line.split()[0].upper() for _, line in smtp_server.lines] in (
        ["EHLO"],
        ["EHLO", "QUIT"],
    )
    assert "offers no STARTTLS" in caplog.text and "not sent" in caplog.text
    _no_secret_logged(caplog)


@pytest.mark.parametrize("smtp_server", ["implicit"], indirect=True)
def test_smtps_delivers_over_tls_from_the_start(smtp_server, certificates, monkeypatch, caplog):
    _configure(monkeypatch, _url("smtps", smtp_server), str(certificates["ca"]))
    assert mail.send(["maya@example.com"], "A post failed", "body")
    assert all(encrypted for encrypted, _ in smtp_server.lines)
    assert smtp_server.logins == [(True, USER, PASSWORD)]
    assert [encrypted for encrypted, _ in smtp_server.messages] == [True]
    _no_secret_logged(caplog)


@pytest.mark.parametrize("smtp_server", ["starttls", "implicit"], indirect=True)
def test_smtp_certificate_is_verified_by_default(smtp_server, monkeypatch, caplog):
    # No SMTP_CA_FILE: the throwaway CA isn't trusted, so no password and no message go out.
    scheme = "smtps" if smtp_server.mode == "implicit" else "smtp"
    _configure(monkeypatch, _url(scheme, smtp_server))
    with caplog.at_level(logging.WARNING, logger="webapp.mail"):
        assert mail.send(["maya@example.com"], "A post failed", "body") is False
    assert smtp_server.logins == [] and smtp_server.messages == []
    assert "certificate could not be verified" in caplog.text and "SMTP_CA_FILE" in caplog.text
    _no_secret_logged(caplog)


def test_smtp_without_a_password_still_uses_starttls_when_offered(
    smtp_server, certificates, monkeypatch
):
    _configure(monkeypatch, _url("smtp", smtp_server, login=False), str(certificates["ca"]))
    assert mail.send(["maya@example.com"], "A post failed", "body")
    assert smtp_server.logins == []
    assert [encrypted for encrypted, _ in smtp_server.messages] == [True]
