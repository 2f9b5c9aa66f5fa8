"""ApiClient: call the app's own API from a page, with paths relative to the API mount."""

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from .logging import page_request_id
from .runtime.address import internal_api_base
from .settings import load_settings

AuthHeaderFactory = Callable[[], Mapping[str, str]]


class ApiClient:
    """A small synchronous client for the in-process API: ``client.get("/hello").json()``.

    The base URL defaults to ``FLUXLIT_INTERNAL_API_BASE``, which the runtime sets for the
    Streamlit child to the gateway's loopback address plus the API prefix.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        auth_header_factory: AuthHeaderFactory | None = None,
        transport: httpx.BaseTransport | None = None,
        forward_request_id: bool | None = None,
    ) -> None:
        self.base_url = (base_url or internal_api_base(load_settings())).rstrip("/")
        # Debug mode ties a page's API calls to its session in the access log (default: FLUXLIT_DEBUG).
        self.forward_request_id = load_settings().debug if forward_request_id is None else forward_request_id
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.auth_header_factory = auth_header_factory
        self._transport = transport
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def url(self, path: str) -> str:
        """Absolute URL for an API path such as ``/users`` (never ``/api/users`` or a full URL)."""
        if not path.startswith("/") or path.startswith("//"):
            raise ValueError(f"ApiClient paths are relative to the API mount and start with one '/', got {path!r}")
        return self.base_url + path

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; ``kwargs`` are httpx's (``params``, ``json``, ``content``, ``headers`` ...)."""
        headers = dict(self.headers)
        if self.auth_header_factory is not None:
            headers.update(self.auth_header_factory())
        headers.update(kwargs.pop("headers", None) or {})
        if self.forward_request_id and not any(k.lower() == "x-request-id" for k in headers) and (rid := page_request_id()):
            headers["X-Request-ID"] = rid
        return self._http.request(method, self.url(path), headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """``GET`` an API path."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """``POST`` to an API path."""
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        """``PUT`` to an API path."""
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        """``PATCH`` an API path."""
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        """``DELETE`` an API path."""
        return self.request("DELETE", path, **kwargs)

    def with_bearer(self, token: str) -> "ApiClient":
        """A new client that sends ``Authorization: Bearer <token>`` on every request."""
        return ApiClient(
            self.base_url,
            timeout=self.timeout,
            headers={**self.headers, "Authorization": f"Bearer {token}"},
            auth_header_factory=self.auth_header_factory,
            transport=self._transport,
            forward_request_id=self.forward_request_id,
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
