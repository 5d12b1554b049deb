"""netguard.safe_get: operator- and user-supplied URLs never reach a private address.

A real HTTP server on 127.0.0.1 stands in for what an attacker wants to reach; the tests assert
it saw no request. Where a test needs a server the guard allows, it replaces the OS resolver
(socket.getaddrinfo) so a made-up public name and its public address lead to that local server:
the guard itself runs unchanged.
"""

from __future__ import annotations

import http.server
import socket
import ssl
import threading

import pytest
import requests

from tests.test_mail import make_certificates
from webapp import netguard
from webapp.auditkit import readiness


class _Server(http.server.BaseHTTPRequestHandler):
    hits: list[tuple[str, str]] = []
    redirect_to = ""

    def do_GET(self):  # noqa: N802 - http.server's name
        _Server.hits.append((self.path, self.headers.get("Host", "")))
        if _Server.redirect_to:
            self.send_response(302)
            self.send_header("Location", _Server.redirect_to)
        else:
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def _server_port():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture
def local_server(_server_port):
    """Yield the port of an HTTP server on 127.0.0.1 that records each request."""
    _Server.hits, _Server.redirect_to = [], ""
    return _server_port


PUBLIC_NAME, PUBLIC_ADDRESS = "cadence-public.example", "1.2.3.4"


@pytest.fixture
def public_name(monkeypatch, local_server):
    """Make PUBLIC_NAME resolve to a public address that leads to the local server."""
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        if host == PUBLIC_NAME:  # what the guard asks and checks: a public address
            local = real("127.0.0.1", port, *args, **kwargs)
            return [(*info[:4], (PUBLIC_ADDRESS, info[4][1])) for info in local]
        if host == PUBLIC_ADDRESS:  # where the connection goes: the "network" routes it here
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return f"http://{PUBLIC_NAME}:{local_server}"


BYPASSES = [
    # urlsplit reads 8.8.8.8 as the host; urllib3 connects to 127.0.0.1.
    "http://127.0.0.1:{port}\\@8.8.8.8/x",
    "http://evil@127.0.0.1:{port}/x",
    "http://2130706433:{port}/x",  # decimal 127.0.0.1
    "http://0177.0.0.1:{port}/x",  # octal
    "http://0x7f.0.0.1:{port}/x",  # hex
    "http://0x7f000001:{port}/x",
    "http://127.1:{port}/x",
    "http://[::ffff:127.0.0.1]:{port}/x",  # IPv4-mapped IPv6
    "http://[64:ff9b::7f00:1]:{port}/x",  # NAT64 of 127.0.0.1
    "http://[::1]:{port}/x",
    "http://localhost:{port}/x",  # a name (in /etc/hosts) for the loopback address
    "http://0.0.0.0:{port}/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/x",
    "http://100.64.0.1/x",  # carrier-grade NAT
    "http://224.0.0.1/x",
    "http://240.0.0.1/x",  # reserved
    "ftp://example.com/x",
    "http:///x",
]


@pytest.mark.parametrize("template", BYPASSES)
def test_ssrf_bypass_forms_are_refused_before_any_request(local_server, template):
    url = template.format(port=local_server)
    with pytest.raises(netguard.UnsafeURL):
        netguard.safe_get(url)
    problem = readiness.probe(url)
    assert problem and "no answer" not in problem
    assert _Server.hits == []


def test_safe_get_connects_to_the_checked_address_and_keeps_the_host_header(public_name):
    response = netguard.safe_get(f"{public_name}/privacy?x=1")
    assert response.status_code == 200
    host = public_name.removeprefix("http://")
    assert _Server.hits == [("/privacy?x=1", host)]
    assert readiness.probe(f"{public_name}/terms") == ""


def test_ssrf_redirect_to_the_metadata_address_is_not_followed(public_name):
    _Server.redirect_to = "http://169.254.169.254/latest/meta-data/"
    # The probe follows no redirect: a 3xx is an answer, and nothing else is fetched.
    assert readiness.probe(f"{public_name}/privacy") == ""
    response = netguard.safe_get(f"{public_name}/privacy")
    assert response.status_code == 302
    # Asked to follow redirects, each hop is checked like the first and this one is refused.
    with pytest.raises(netguard.UnsafeURL, match="169.254.169.254"):
        netguard.safe_get(f"{public_name}/privacy", max_redirects=3)
    _Server.redirect_to = "http://127.0.0.1:9/x"
    with pytest.raises(netguard.UnsafeURL, match="loopback"):
        netguard.safe_get(f"{public_name}/again", max_redirects=3)
    assert [path for path, _ in _Server.hits] == ["/privacy", "/privacy", "/privacy", "/again"]


def test_ssrf_dns_rebinding_cannot_swap_the_address_after_the_check(public_name, monkeypatch):
    # The first answer is public; any later lookup of the name would say 127.0.0.1. The guard
    # resolves once and connects to the address it checked, so the second answer is never used.
    lookups: list[str] = []
    patched = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        lookups.append(host)
        if host == PUBLIC_NAME and len(lookups) > 1:
            return patched("127.0.0.1", port, *args, **kwargs)
        return patched(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    assert readiness.probe(f"{public_name}/x") == ""
    assert lookups.count(PUBLIC_NAME) == 1
    # The next fetch gets the rebound answer, and that answer is what gets checked.
    with pytest.raises(netguard.UnsafeURL, match="loopback"):
        netguard.safe_get(f"{public_name}/y")
    assert [path for path, _ in _Server.hits] == ["/x"]


@pytest.mark.parametrize("certificate_name", [PUBLIC_NAME, "someone-else.example"])
def test_ssrf_pinned_https_still_checks_the_certificate_against_the_name(
    public_name, local_server, tmp_path, monkeypatch, certificate_name
):
    # Connecting to the checked IP address must not loosen TLS: SNI and the certificate check
    # still use the name from the URL. The throwaway CA stands in for the system's list.
    paths = make_certificates(tmp_path, certificate_name)
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(paths["ca"]))
    server = http.server.HTTPServer(("127.0.0.1", 0), _Server)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(paths["cert"], paths["key"])
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://{PUBLIC_NAME}:{server.server_address[1]}/privacy"
    try:
        if certificate_name == PUBLIC_NAME:
            assert netguard.safe_get(url).status_code == 200
            assert _Server.hits == [("/privacy", f"{PUBLIC_NAME}:{server.server_address[1]}")]
        else:
            with pytest.raises(requests.exceptions.SSLError):
                netguard.safe_get(url)
            assert _Server.hits == []
    finally:
        server.shutdown()
