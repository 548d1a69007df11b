"""The host names the server answers for (``KG_TRUSTED_HOSTS``).

The ``Host`` header of a request becomes the address in VoID, the service description, the
sitemap, the reconciliation manifest and redirects. A request naming another host is
refused with 400 before any view runs, so that those only ever show a trusted host. Names
are compared without the port, case-insensitively; a name with a leading dot also takes
its subdomains (``.example.org``); IPv6 addresses are written without brackets (``::1``).

``kg serve`` on a loopback address trusts the loopback names by default
(:func:`default_trusted_hosts`); on another interface without the setting every host is
answered, and ``kg serve`` says so when it starts. (Werkzeug's own ``TRUSTED_HOSTS`` check
cannot match an IPv6 address, hence this one.)
"""

from __future__ import annotations

import ipaddress

from flask import Flask, Response, request

from kg.config import Config

#: what a server on a loopback address trusts when ``KG_TRUSTED_HOSTS`` is not set
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_trusted_hosts(bind_host: str) -> tuple[str, ...]:
    """The trusted hosts of a server bound to ``bind_host`` without ``KG_TRUSTED_HOSTS``:
    the loopback names (and the address itself) on a loopback address, else none (any
    host is answered)."""
    if not _is_loopback(bind_host):
        return ()
    own = bind_host.strip("[]").lower()
    return LOOPBACK_NAMES if own in LOOPBACK_NAMES else (*LOOPBACK_NAMES, own)


def untrusted_warning(bind_host: str) -> str:
    return (f"warning: serving on {bind_host} without KG_TRUSTED_HOSTS: any Host header is "
            "answered, and VoID, the service description, the sitemap and redirects show "
            "whatever host a client names; set KG_TRUSTED_HOSTS to this server's names "
            "(space-separated)")


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without its port and IPv6 brackets, in lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


def trusted(name: str, hosts: tuple[str, ...]) -> bool:
    return any(name == host or (host.startswith(".") and
                                (name == host[1:] or name.endswith(host)))
               for host in hosts)


def install(app: Flask, config: Config) -> None:
    hosts = tuple(h.lower() for h in config.trusted_hosts)
    if not hosts:
        return

    @app.before_request
    def _trusted_host() -> Response | None:
        header = request.headers.get("Host")
        if header is None or trusted(host_name(header), hosts):
            return None
        return Response(f"this server does not answer for the host {header[:100]!r}: ask "
                        "for it by one of its own names (its operator lists them in "
                        "KG_TRUSTED_HOSTS)\n", status=400, mimetype="text/plain")
