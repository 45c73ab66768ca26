"""HTTP API on the standard library's ThreadingHTTPServer, with graceful shutdown."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import __version__
from .advisories import AdvisoryIndex, InvalidQuery

log = logging.getLogger("advisory_api")
access_log = logging.getLogger("advisory_api.access")


class AdvisoryServer(ThreadingHTTPServer):
    # Request threads are waited for by drain() with a deadline, never unboundedly on close:
    # a client that connects and sends nothing must not keep the process past Docker's stop timeout.
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], index: AdvisoryIndex) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.index = index
        self._in_flight = 0
        self._idle = threading.Condition()
        super().__init__(address, RequestHandler)

    def process_request_thread(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        with self._idle:
            self._in_flight += 1
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def drain(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for connections in progress; returns how many are still open."""
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout)
            return self._in_flight


class RequestHandler(BaseHTTPRequestHandler):
    server: AdvisoryServer
    server_version = f"advisory-api/{__version__}"
    sys_version = ""  # do not advertise the interpreter version
    timeout = 5  # a client that never sends its request cannot hold a thread (or shutdown) for long

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._started = time.monotonic()
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self._send_json(HTTPStatus.OK, {"status": "ok", "advisories": len(self.server.index)})
        elif url.path == "/v1/advisories":
            self._advisories(parse_qs(url.query))
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": f"no route for {url.path}"})

    def do_POST(self) -> None:  # noqa: N802
        self._started = time.monotonic()
        self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "only GET is supported"}, {"Allow": "GET"})

    do_PUT = do_DELETE = do_PATCH = do_POST

    def _advisories(self, query: dict[str, list[str]]) -> None:
        package = query.get("package", [""])[0]
        version = query.get("version", [""])[0]
        if not package or not version:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": "query parameters 'package' and 'version' are required"})
            return
        try:
            name, parsed, matches = self.server.index.lookup(package, version)
        except InvalidQuery as exc:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self._send_json(
            HTTPStatus.OK,
            {
                "package": name,
                "version": str(parsed),
                "vulnerable": bool(matches),
                "advisories": [advisory.to_json() for advisory in matches],
            },
        )

    def _send_json(self, status: HTTPStatus, body: dict[str, object], headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        started = getattr(self, "_started", None)
        access_log.info(
            "request",
            extra={
                "method": self.command,
                "path": urlsplit(self.path).path,
                "status": int(code) if str(code).isdigit() else code,
                "duration_ms": round((time.monotonic() - started) * 1000, 2) if started else None,
                "remote": self.client_address[0],
            },
        )

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        # http.server's own errors (malformed requests, timeouts) as structured warnings.
        log.warning(format % args, extra={"remote": self.client_address[0]})


def make_server(host: str, port: int, index: AdvisoryIndex | None = None) -> AdvisoryServer:
    return AdvisoryServer((host, port), index or AdvisoryIndex.bundled())


def request_shutdown(server: AdvisoryServer, reason: str) -> None:
    """Stop serve_forever from any thread, including a signal handler (shutdown() blocks, so it gets its own)."""

    def stop() -> None:
        log.info("shutting down", extra={"reason": reason})
        server.shutdown()

    threading.Thread(target=stop, name="shutdown", daemon=True).start()
