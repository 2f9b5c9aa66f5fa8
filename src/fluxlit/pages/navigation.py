"""Runs inside the Streamlit child: load the app, build ``st.Page``s, run ``st.navigation``."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..client import ApiClient
from ..runtime.target import load_app, parse_target
from ..settings import load_settings
from .registry import PageSpec

CLIENT_STATE_KEY = "_fluxlit_api_client"


def _session_client(st: Any) -> ApiClient:
    # One client per browser session: its connection pool is reused across reruns.
    if CLIENT_STATE_KEY not in st.session_state:
        st.session_state[CLIENT_STATE_KEY] = ApiClient()
    return st.session_state[CLIENT_STATE_KEY]


def page_runner(spec: PageSpec, st: Any) -> Callable[[], None]:
    """A no-argument callable for ``st.Page`` that calls the handler with what it declared."""

    def run() -> None:
        spec.handler(**{name: st if name == "st" else _session_client(st) for name in spec.inject})

    run.__name__ = f"fluxlit_page_{spec.slug.replace('-', '_')}"
    return run


def run_navigation() -> None:
    """The entry script's body: one Streamlit rerun of the app's navigation."""
    import streamlit as st

    app = load_app(parse_target(load_settings().app, Path.cwd()))
    st.set_page_config(page_title=app.settings.title)
    specs = list(app.pages)
    if not specs:
        st.info("This FluxLit app has no pages yet: add one with @app.page('/').")
        return
    pages = [
        st.Page(page_runner(spec, st), title=spec.title, icon=spec.icon, url_path=spec.slug, default=spec.is_default)
        for spec in specs
    ]
    st.navigation(pages).run()
