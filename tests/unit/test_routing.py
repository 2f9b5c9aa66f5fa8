"""Routing: API prefix stripping, probes, Streamlit paths, both edge-proxy styles."""

import pytest

from fluxlit.gateway.routing import Dispatch, Router

plain = Router(root_path="", api_mount="/api")
sub = Router(root_path="/apps/my-app", api_mount="/api")


@pytest.mark.parametrize(
    ("path", "dispatch", "api_path", "root"),
    [
        ("/api/hello", Dispatch.API, "/api/hello", "/api"),
        ("/api", Dispatch.API, "/api", "/api"),
        ("/api/docs", Dispatch.API, "/api/docs", "/api"),
        ("/api/healthz", Dispatch.HEALTHZ, "/api/healthz", "/api"),
        ("/api/readyz", Dispatch.READYZ, "/api/readyz", "/api"),
    ],
)
def test_api_paths_keep_the_prefix_in_root_path(path, dispatch, api_path, root) -> None:
    route = plain.route(path, path.encode())
    assert (route.dispatch, route.path, route.root_path) == (dispatch, api_path, root)


@pytest.mark.parametrize("path", ["/", "/apix", "/_stcore/stream", "/static/js/main.js", "/media/x.png", "/about"])
def test_other_paths_go_to_streamlit_unchanged(path: str) -> None:
    route = plain.route(path, path.encode())
    assert route.dispatch is Dispatch.STREAMLIT and route.raw_path == path.encode()


def test_raw_target_is_forwarded_as_received() -> None:
    route = plain.route("/a/%2e/b", b"/a/%252e/b")
    assert route.raw_path == b"/a/%252e/b"


def test_api_raw_path_keeps_percent_encoding() -> None:
    route = plain.route("/api/items/a b", b"/api/items/a%20b")
    assert route.raw_path == b"/api/items/a%20b" and route.path == "/api/items/a b"


@pytest.mark.parametrize("path", ["/apps/my-app/api/hello", "/api/hello"])
def test_subpath_api_works_with_full_and_stripped_paths(path: str) -> None:
    route = sub.route(path, path.encode())
    assert route.dispatch is Dispatch.API
    assert route.path == "/apps/my-app/api/hello" and route.root_path == "/apps/my-app/api"


@pytest.mark.parametrize("path", ["/apps/my-app/_stcore/health", "/_stcore/health"])
def test_subpath_streamlit_target_always_carries_the_prefix(path: str) -> None:
    route = sub.route(path, path.encode())
    assert route.dispatch is Dispatch.STREAMLIT and route.raw_path == b"/apps/my-app/_stcore/health"


def test_subpath_probe_is_recognised() -> None:
    assert sub.route("/apps/my-app/api/readyz", None).dispatch is Dispatch.READYZ
