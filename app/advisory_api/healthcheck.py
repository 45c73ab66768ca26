"""Container HEALTHCHECK probe: `python -m advisory_api.healthcheck` exits 0 when /healthz answers ok."""

from __future__ import annotations

import ipaddress
import http.client
import json
import sys

from .config import ConfigError, load_settings


def probe_host(bind_host: str) -> str:
    # A wildcard bind is reachable on loopback; any specific address is probed as it is.
    try:
        address = ipaddress.ip_address(bind_host)
    except ValueError:
        return bind_host
    if address.is_unspecified:
        return "127.0.0.1" if address.version == 4 else "::1"
    return str(address)


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1
    host = probe_host(settings.host)
    connection = http.client.HTTPConnection(host, settings.port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        healthy = response.status == 200 and json.load(response).get("status") == "ok"
    except (OSError, ValueError) as exc:
        print(f"healthcheck: http://{host}:{settings.port}/healthz: {exc}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
