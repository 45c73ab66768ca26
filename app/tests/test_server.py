import json
import logging

from advisory_api import logs


def test_healthz_reports_ok_and_the_data_size(client):
    status, headers, body = client.request("GET", "/healthz")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert body == {"status": "ok", "advisories": 6}


def test_server_header_does_not_leak_the_python_version(client):
    _, headers, _ = client.request("GET", "/healthz")
    assert headers["Server"].startswith("advisory-api/")
    assert "Python" not in headers["Server"]


def test_lookup_of_a_vulnerable_version(client):
    status, _, body = client.request("GET", "/v1/advisories?package=PyYAML&version=5.3.1")
    assert status == 200
    assert body["package"] == "pyyaml" and body["version"] == "5.3.1" and body["vulnerable"] is True
    assert [a["id"] for a in body["advisories"]] == ["CVE-2020-14343"]
    assert body["advisories"][0]["fixed"] == "5.4"


def test_lookup_of_a_fixed_version(client):
    status, _, body = client.request("GET", "/v1/advisories?package=requests&version=2.32.3")
    assert (status, body["vulnerable"], body["advisories"]) == (200, False, [])


def test_missing_parameters_are_a_bad_request(client):
    status, _, body = client.request("GET", "/v1/advisories?package=requests")
    assert status == 400
    assert "'package' and 'version' are required" in body["error"]


def test_invalid_version_is_a_bad_request(client):
    status, _, body = client.request("GET", "/v1/advisories?package=requests&version=not-a-version")
    assert status == 400
    assert "not a valid PEP 440 version" in body["error"]


def test_unknown_route_is_404(client):
    status, _, body = client.request("GET", "/admin")
    assert (status, body) == (404, {"error": "no route for /admin"})


def test_other_methods_are_405_with_allow(client):
    status, headers, _ = client.request("POST", "/v1/advisories")
    assert status == 405 and headers["Allow"] == "GET"


def test_each_request_is_one_json_access_log_line(client, capsys):
    logs.configure("INFO")
    try:
        client.request("GET", "/v1/advisories?package=requests&version=2.19.1")
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    access = [entry for entry in lines if entry["logger"] == "advisory_api.access"]
    assert len(access) == 1
    assert access[0]["msg"] == "request" and access[0]["level"] == "info"
    assert access[0]["method"] == "GET" and access[0]["path"] == "/v1/advisories" and access[0]["status"] == 200
    assert access[0]["remote"] == "127.0.0.1" and access[0]["duration_ms"] >= 0
