"""Settings: defaults, normalisation, and errors that name the variable."""

import pytest

from fluxlit.settings import SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert (settings.gateway_host, settings.gateway_port, settings.api_mount_path, settings.root_path) == ("127.0.0.1", 8000, "/api", "")
    assert settings.gateway_upstream_connect_timeout_s == 5 and settings.gateway_upstream_read_timeout_s == 60


def test_prefixes_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUXLIT_ROOT_PATH", "apps/my-app/")
    monkeypatch.setenv("FLUXLIT_API_MOUNT_PATH", "/v1/")
    settings = load_settings()
    assert settings.root_path == "/apps/my-app" and settings.api_mount_path == "/v1"
    assert settings.api_prefix == "/apps/my-app/v1"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("FLUXLIT_GATEWAY_PORT", "abc", "FLUXLIT_GATEWAY_PORT='abc'"),
        ("FLUXLIT_GATEWAY_PORT", "70000", "less than or equal to 65535"),
        ("FLUXLIT_STREAMLIT_UPSTREAM", "localhost:8501", "absolute http:// or https:// URL"),
        ("FLUXLIT_LOG_LEVEL", "loud", "FLUXLIT_LOG_LEVEL='loud'"),
    ],
)
def test_bad_values_name_the_variable_and_the_accepted_form(monkeypatch: pytest.MonkeyPatch, name, value, expected) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=expected.replace("(", r"\(").replace("+", r"\+")):
        load_settings()


def test_test_page_overrides_are_a_json_object_or_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUXLIT_TEST_PAGE_OVERRIDES", '{"app.fetch": "fakes.fetch"}')
    assert load_settings().test_page_overrides == {"app.fetch": "fakes.fetch"}
    monkeypatch.setenv("FLUXLIT_TEST_PAGE_OVERRIDES", "app.fetch=fakes.fetch")
    with pytest.raises(SettingsError, match=r"FLUXLIT_TEST_PAGE_OVERRIDES='app.fetch=fakes.fetch' must be a JSON object mapping dependencies to fakes"):
        load_settings()
