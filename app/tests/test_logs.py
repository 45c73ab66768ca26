import io
import json
import logging

from advisory_api.logs import JsonFormatter, configure


def test_records_are_single_line_json_with_extra_fields():
    stream = io.StringIO()
    configure("DEBUG", stream)
    try:
        logging.getLogger("t").info("hello %s", "world", extra={"port": 8080})
        logging.getLogger("t").debug("multi\nline")
    finally:
        logging.getLogger().handlers.clear()
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["msg"] == "hello world" and first["level"] == "info" and first["logger"] == "t" and first["port"] == 8080
    assert first["ts"].endswith("+00:00")
    assert second["msg"] == "multi\nline"


def test_exceptions_are_kept_inside_the_json_object():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.getLogger("t").makeRecord("t", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "RuntimeError: boom" in entry["exc"]
