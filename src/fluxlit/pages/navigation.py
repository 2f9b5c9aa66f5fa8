"""Runs inside the Streamlit child: load the app, build ``st.Page``s, run ``st.navigation``."""

import functools
import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..runtime.target import load_app, parse_target
from ..settings import load_settings
from ..url_session import keep_sid_in_url
from .di import Overrides, PageInputError, PageRun
from .harness import HARNESS_KEY, PageHarness
from .meta import PageMeta
from .plan import PageError
from .registry import PageSpec
from .request import PageRequest

if TYPE_CHECKING:
    from ..app import FluxLit

log = logging.getLogger("fluxlit.pages")


def page_runner(spec: PageSpec, st: Any, app: "FluxLit", harness: PageHarness | None) -> Callable[[], None]:
    """A no-argument callable for ``st.Page`` that runs the handler with everything it declared."""

    configured = tuple(app.settings.test_page_overrides.items())
    if configured:
        _announce_overrides(configured)

    def run() -> None:
        request = PageRequest.current(
            st,
            headers=harness.headers if harness else None,
            cookies=harness.cookies if harness else None,
            reaches_pages=app.header_reaches_pages,
        )
        overrides = {**env_overrides(configured), **(harness.overrides if harness else {})}
        breadcrumb = st.empty()
        with PageRun(app, st, request=request, overrides=overrides) as page_run:
            try:
                result = page_run.call(spec.plan)
            except PageInputError as exc:
                st.error(str(exc))
                return
            if isinstance(result, PageMeta):
                result.apply(st, breadcrumb)

    run.__name__ = f"fluxlit_page_{spec.slug.replace('-', '_')}"
    return run


def run_navigation() -> None:
    """The entry script's body: one Streamlit rerun of the app's navigation."""
    import streamlit as st

    harness: PageHarness | None = st.session_state.get(HARNESS_KEY)
    app = harness.app if harness is not None else load_app(parse_target(load_settings().app, Path.cwd()))
    st.set_page_config(page_title=app.settings.title)
    specs = list(app.pages)
    if not specs:
        st.info("This FluxLit app has no pages yet: add one with @app.page('/').")
        return
    wanted = app.pages.get(harness.page).path if harness is not None and harness.page is not None else None
    # A test's first page is the default one, so the query parameters it set survive (switch_page drops them).
    default = wanted if wanted is not None and not harness.ran else "/"
    pages = {
        spec.path: st.Page(page_runner(spec, st, app, harness), title=spec.title, icon=spec.icon, url_path=spec.slug, default=spec.path == default)
        for spec in specs
    }
    current = st.navigation(list(pages.values()))
    keep_sid_in_url(st, app.settings.url_session_query_param)
    if harness is not None:
        switch = wanted is not None and harness.ran
        harness.page, harness.ran = None, True
        if switch and pages[wanted].url_path != current.url_path:
            st.switch_page(pages[wanted])
    current.run()


@functools.cache
def env_overrides(spec: tuple[tuple[str, str], ...]) -> Overrides:
    """``FLUXLIT_TEST_PAGE_OVERRIDES`` as callables: each dotted dependency name mapped to its dotted fake."""
    if not spec:
        return {}
    return {_imported(name, "dependency"): _imported(fake, "fake") for name, fake in spec}


@functools.cache
def _announce_overrides(spec: tuple[tuple[str, str], ...]) -> None:
    log.warning("page dependencies replaced by FLUXLIT_TEST_PAGE_OVERRIDES: %s", ", ".join(f"{n} -> {f}" for n, f in spec))


def _imported(dotted: str, role: str) -> Callable[..., Any]:
    module_name, sep, attr = dotted.partition(":")
    if not sep:
        module_name, _, attr = dotted.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise PageError(f"FLUXLIT_TEST_PAGE_OVERRIDES names the {role} {dotted!r}, which cannot be imported ({exc}); use 'package.module.name'") from None
    if not callable(found):
        raise PageError(f"FLUXLIT_TEST_PAGE_OVERRIDES names the {role} {dotted!r}, which is not callable")
    return found

