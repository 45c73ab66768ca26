from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator

import pytest

from advisory_api.server import AdvisoryServer, make_server


class Client:
    def __init__(self, server: AdvisoryServer) -> None:
        self.host, self.port = server.server_address[:2]

    def request(self, method: str, path: str) -> tuple[int, dict[str, str], dict]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
        try:
            connection.request(method, path)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), json.loads(response.read())
        finally:
            connection.close()


@pytest.fixture
def server() -> Iterator[AdvisoryServer]:
    # Port 0: the kernel picks a free port, so tests never collide with each other or a running service.
    instance = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=instance.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield instance
    instance.shutdown()
    instance.server_close()
    thread.join(timeout=5)


@pytest.fixture
def client(server: AdvisoryServer) -> Client:
    return Client(server)
