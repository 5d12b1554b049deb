"""The one way Cadence fetches a URL that an operator or user typed: `safe_get`.

Server-side requests to such URLs could otherwise reach the machine itself or its neighbours (a
cloud metadata service, an admin port on 127.0.0.1). So a URL is refused unless it is plain
http(s) with no userinfo and no backslash (parsers disagree about where the host of those ends);
its host is resolved once and every address must be public; the connection then goes to the very
address that was checked (the name still goes out as SNI, certificate name and Host header, so a
DNS answer that changes between check and connect can't redirect it). Redirects are not followed
unless asked for, and each hop is checked the same way.

The configured TikTok endpoints and the sandbox are not user input and don't go through here.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

__all__ = ["FetchError", "UnsafeURL", "address_problem", "safe_get"]

# What a guarded fetch raises when the server doesn't answer, so callers need no HTTP client.
FetchError = requests.RequestException

# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052 and 8215).
_EMBEDS_IPV4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# A label an inet_aton-style parser reads as a number: 127, 0177 (octal), 0x7f (hex).
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+", re.I)


class UnsafeURL(ValueError):
    """The URL is refused before any request leaves; the message says why, in words."""


def address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Return '' when the address is public, else what kind of address it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is None and any(address in net for net in _EMBEDS_IPV4):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(embedded)
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    # is_global is False for private, shared (100.64/10), reserved, documentation and the rest.
    if address.is_private or address.is_reserved or not address.is_global:
        return "a private address"
    return ""


def _host_problem(host: str) -> str:
    labels = host.rstrip(".").split(".")
    if all(_NUMERIC_LABEL.fullmatch(label) for label in labels):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            # 2130706433, 0177.0.0.1, 0x7f.1: some parsers read these as 127.0.0.1, others not.
            return f"{host} is an address written in an unusual form; write it as a.b.c.d"
    return ""


def _resolve(host: str, port: int, *, allow_private: bool) -> str:
    """Resolve host once and return the address to connect to, or raise UnsafeURL."""
    problem = _host_problem(host)
    if problem:
        raise UnsafeURL(problem)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeURL(f"{host} does not resolve") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not addresses:
        raise UnsafeURL(f"{host} does not resolve")
    if not allow_private:
        for address in addresses:
            kind = address_problem(address)
            if kind:
                raise UnsafeURL(
                    f"{host} points to {kind} ({address}), not a public one; it can't be checked "
                    "from here"
                )
    return str(addresses[0])


def _split(url: str) -> tuple[str, str, int, str]:
    """Return scheme, host, port and the path with query, or raise UnsafeURL."""
    if not isinstance(url, str) or "\\" in url or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise UnsafeURL("not a plain http(s) address (no spaces, control characters or \\)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("not an http(s) address") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UnsafeURL("not an http(s) address")
    if "@" in parts.netloc:
        raise UnsafeURL("an address with a user name or password in it can't be checked")
    host = parts.hostname
    if not host.isascii():
        # One spelling for the resolver, SNI and the Host header: the IDNA (xn--) form.
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeURL(f"{host} is not a valid host name") from None
    path = parts.path or "/"
    return (
        parts.scheme,
        host,
        port or (443 if parts.scheme == "https" else 80),
        (path + (f"?{parts.query}" if parts.query else "")),
    )


class _PinnedAdapter(HTTPAdapter):
    """Connects to an IP address while TLS checks the certificate against the host name."""

    def __init__(self, hostname: str):
        """Remember the name the certificate must carry."""
        self._hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        """Send the name as SNI and check the certificate against it (ignored for http)."""
        pool_kwargs.update(server_hostname=self._hostname, assert_hostname=self._hostname)
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)


def _get_once(
    url: str, *, timeout, allow_private: bool, stream: bool, ca_file: str = ""
) -> requests.Response:
    scheme, host, port, path = _split(url)
    address = _resolve(host, port, allow_private=allow_private)
    literal = f"[{address}]" if ":" in address else address
    default = 443 if scheme == "https" else 80
    host_header = host if port == default else f"{host}:{port}"
    if ":" in host:
        host_header = f"[{host}]" if port == default else f"[{host}]:{port}"
    with requests.Session() as session:
        session.trust_env = False  # a proxy from the environment would connect by name
        # A private CA replaces the bundled list (as SMTP_CA_FILE does for mail).
        session.verify = ca_file or True
        session.mount(f"{scheme}://", _PinnedAdapter(host))
        return session.get(
            f"{scheme}://{literal}:{port}{path}",
            headers={"Host": host_header},
            timeout=timeout,
            allow_redirects=False,
            stream=stream,
        )


def safe_get(
    url: str,
    *,
    timeout=(3, 3),
    allow_private: bool = False,
    max_redirects: int = 0,
    stream: bool = True,
    ca_file: str = "",
) -> requests.Response:
    """GET an operator- or user-supplied URL without reaching a private address.

    Raises UnsafeURL (before anything is sent) for a refused URL or redirect target, and
    requests.RequestException when the server doesn't answer. `allow_private` is for demo mode,
    where everything runs on 127.0.0.1. Redirects are returned as they are unless max_redirects
    is set; then each Location is checked like the first URL. `ca_file` names a PEM of the CA(s)
    to trust instead of the bundled list, for sites behind a private CA.
    """
    kwargs = {
        "timeout": timeout,
        "allow_private": allow_private,
        "stream": stream,
        "ca_file": ca_file,
    }
    response = _get_once(url, **kwargs)
    for _ in range(max_redirects):
        if not response.is_redirect:
            break
        location = urljoin(url, response.headers["Location"])
        response.close()
        url = location
        response = _get_once(url, **kwargs)
    return response
