import pytest

from advisory_api.config import DEFAULT_HOST, DEFAULT_PORT, ConfigError, load_settings


def test_defaults_bind_loopback_only():
    settings = load_settings({})
    assert settings.host == "127.0.0.1" == DEFAULT_HOST
    assert settings.port == DEFAULT_PORT == 8080
    assert settings.log_level == "INFO"


def test_environment_overrides_host_port_and_level():
    settings = load_settings({"APP_HOST": "::1", "APP_PORT": "9000", "APP_LOG_LEVEL": "debug"})
    assert (settings.host, settings.port, settings.log_level) == ("::1", 9000, "DEBUG")


def test_blank_values_fall_back_to_defaults():
    settings = load_settings({"APP_HOST": "  ", "APP_PORT": ""})
    assert (settings.host, settings.port) == (DEFAULT_HOST, DEFAULT_PORT)


@pytest.mark.parametrize("raw", ["abc", "-1", "65536", "80.5", "8080x"])
def test_invalid_port_is_rejected_with_the_value(raw):
    with pytest.raises(ConfigError, match=r"APP_PORT must be an integer from 0 to 65535, got '" + raw.replace(".", r"\.")):
        load_settings({"APP_PORT": raw})


def test_unknown_log_level_is_rejected():
    with pytest.raises(ConfigError, match="APP_LOG_LEVEL must be one of"):
        load_settings({"APP_LOG_LEVEL": "verbose"})
