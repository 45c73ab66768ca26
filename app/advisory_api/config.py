"""Settings read from the environment, validated once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# Loopback by default: a process started by hand is not reachable from the network.
# Containers opt in to every interface through APP_HOST in their environment (Bandit B104).
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    log_level: str


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    host = env.get("APP_HOST", "").strip() or DEFAULT_HOST
    port = _parse_port(env.get("APP_PORT", "").strip())
    log_level = (env.get("APP_LOG_LEVEL", "").strip() or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"APP_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
    return Settings(host=host, port=port, log_level=log_level)


def _parse_port(raw: str) -> int:
    if raw == "":
        return DEFAULT_PORT
    if not raw.isdigit() or int(raw) > 65535:
        raise ConfigError(f"APP_PORT must be an integer from 0 to 65535, got {raw!r}")
    return int(raw)
