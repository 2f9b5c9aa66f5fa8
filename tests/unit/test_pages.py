"""Page registry, parameter injection plan and discovery."""

import sys
import textwrap
from pathlib import Path

import pytest

from fluxlit import ApiClient, FluxLit
from fluxlit.pages import PageError


def test_pages_keep_order_title_icon_and_injection_plan() -> None:
    app = FluxLit()

    @app.page("/", icon="🏠")
    def home_page(st, client: ApiClient) -> None: ...

    @app.page("reports/monthly/", title="Monthly")
    def monthly(st, api: ApiClient, limit: int = 5) -> None: ...

    specs = list(app.pages)
    assert [s.path for s in specs] == ["/", "/reports/monthly"]
    assert [s.slug for s in specs] == ["home", "reports-monthly"]
    assert (specs[0].title, specs[0].icon, specs[0].is_default) == ("Home Page", "🏠", True)
    assert specs[1].title == "Monthly" and specs[1].inject == ("st", "api")


def test_undeclarable_parameter_is_refused_at_registration() -> None:
    app = FluxLit()
    with pytest.raises(PageError, match="asks for 'user', which FluxLit cannot provide"):

        @app.page("/x")
        def page(st, user) -> None: ...


def test_duplicate_paths_and_slugs_are_refused() -> None:
    app = FluxLit()
    app.page("/a")(lambda st: None)
    with pytest.raises(PageError, match="registered twice"):
        app.page("/a/")(lambda st: None)
    app.page("/b/c")(lambda st: None)
    with pytest.raises(PageError, match="same Streamlit URL"):
        app.page("/b-c")(lambda st: None)


def test_discover_pages_calls_register_in_each_public_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "mypages"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "_private.py").write_text("raise RuntimeError('must not be imported')")
    for name in ("alpha", "beta"):
        (package / f"{name}.py").write_text(
            textwrap.dedent(
                f"""
                def register(app):
                    @app.page("/{name}")
                    def {name}(st):
                        st.write("{name}")
                """
            )
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    app = FluxLit().discover_pages("mypages")
    assert [s.path for s in app.pages] == ["/alpha", "/beta"]
    sys.modules.pop("mypages", None)
