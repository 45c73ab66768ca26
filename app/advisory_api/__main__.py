"""Entry point: `python -m advisory_api`. Exit 0 after a graceful stop, 2 on bad configuration."""

from __future__ import annotations

import logging
import signal
import sys

from . import __version__, logs
from .advisories import AdvisoryDataError
from .config import ConfigError, load_settings
from .server import make_server, request_shutdown

log = logging.getLogger("advisory_api")

# Requests in flight get this long to finish after SIGTERM, so the service stops well inside a 2 s grace period.
DRAIN_SECONDS = 1.0


def main() -> int:
    logs.configure("INFO")
    try:
        settings = load_settings()
        logs.configure(settings.log_level)
        server = make_server(settings.host, settings.port)
    except (ConfigError, AdvisoryDataError) as exc:
        log.error("cannot start", extra={"error": str(exc)})
        return 2
    except OSError as exc:
        log.error("cannot listen", extra={"error": str(exc)})
        return 2

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda s, _frame: request_shutdown(server, signal.Signals(s).name))

    host, port = server.server_address[:2]
    log.info("listening", extra={"host": host, "port": port, "version": __version__, "advisories": len(server.index)})
    try:
        server.serve_forever(poll_interval=0.2)
        left = server.drain(DRAIN_SECONDS)
    finally:
        server.server_close()
    log.info("stopped", extra={"abandoned_connections": left})
    return 0


if __name__ == "__main__":
    sys.exit(main())
