"""ApiClient: call the app's own API from a page, with paths relative to the API mount."""

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import TypeAdapter

from .logging import page_forward_headers
from .runtime.address import internal_api_base
from .settings import load_settings

AuthHeaderFactory = Callable[[], Mapping[str, str]]
T = TypeVar("T")


class ApiClient:
    """A small synchronous client for the in-process API: ``client.get("/hello").json()``.

    The base URL defaults to ``FLUXLIT_INTERNAL_API_BASE``, which the runtime sets for the
    Streamlit child to the gateway's loopback address plus the API prefix. ``http`` lets tests
    pass any ``httpx.Client`` (``FluxLitTestClient`` passes its in-process one).
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
        http: httpx.Client | None = None,
    ) -> None:
        settings = load_settings()
        self.base_url = (base_url or internal_api_base(settings)).rstrip("/")
        base_path = urlsplit(self.base_url).path
        self.mount = settings.api_mount_path if base_path.endswith(settings.api_mount_path) else None
        """The API mount the base URL ends in; paths starting with it are refused (they would double it)."""
        # Debug mode ties a page's API calls to its session's request id in the access log (default: FLUXLIT_DEBUG).
        self.forward_request_id = settings.debug if forward_request_id is None else forward_request_id
        self.traced = settings.otel_tracing
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.auth_header_factory = auth_header_factory
        self._http = http if http is not None else httpx.Client(timeout=timeout, transport=transport)
        self._owns_http = http is None

    @classmethod
    def for_fluxlit(
        cls,
        *,
        bearer_token: str | None = None,
        auth_header_factory: AuthHeaderFactory | None = None,
        **options: Any,
    ) -> "ApiClient":
        """A client for this app's API that authenticates with ``bearer_token`` or ``auth_header_factory``."""
        if bearer_token is not None and auth_header_factory is not None:
            raise ValueError("pass bearer_token or auth_header_factory, not both")
        client = cls(auth_header_factory=auth_header_factory, **options)
        return client.with_bearer(bearer_token) if bearer_token is not None else client

    def url(self, path: str) -> str:
        """Absolute URL for an API path such as ``/users`` (never ``/api/users`` or a full URL)."""
        if not path.startswith("/") or path.startswith("//"):
            raise ValueError(f"ApiClient paths are relative to the API mount and start with one '/', got {path!r}")
        if self.mount and (path == self.mount or path.startswith(self.mount + "/")):
            raise ValueError(
                f"ApiClient paths are relative to the API mount {self.mount!r}: "
                f"call {path[len(self.mount):] or '/'!r} instead of {path!r}"
            )
        return self.base_url + path

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a request; ``kwargs`` are httpx's (``params``, ``json``, ``content``, ``headers`` ...)."""
        headers = dict(self.headers)
        if self.auth_header_factory is not None:
            headers.update(self.auth_header_factory())
        headers.update(kwargs.pop("headers", None) or {})
        present = {k.lower() for k in headers}
        for name, value in page_forward_headers().items():
            # Trace context always continues into the API; the request id only in debug mode (or when asked).
            if name not in present and (name != "x-request-id" or self.forward_request_id):
                headers[name] = value
        url = self.url(path)
        with self._span(method, url, headers):
            return self._http.request(method, url, headers=headers, **kwargs)

    def _span(self, method: str, url: str, headers: dict[str, str]) -> AbstractContextManager[None]:
        if not self.traced:
            return nullcontext()
        from .tracing import client_span  # OpenTelemetry is imported only when tracing is on

        return client_span(method, url, headers)

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

    def get_model(self, path: str, model: type[T], **kwargs: Any) -> T:
        """``GET`` and parse the JSON body as ``model`` (any pydantic-readable type: a model, ``list[Model]`` ...).

        A non-2xx answer raises ``httpx.HTTPStatusError``; a body that does not fit raises ``ValidationError``.
        """
        return _parsed(self.get(path, **kwargs), model)

    def post_model(self, path: str, body: Any, model: type[T], **kwargs: Any) -> T:
        """``POST`` ``body`` (a pydantic model or JSON-able value) and parse the answer as ``model``."""
        payload = TypeAdapter(type(body)).dump_python(body, mode="json")
        return _parsed(self.post(path, json=payload, **kwargs), model)

    def with_bearer(self, token: str) -> "ApiClient":
        """A new client that sends ``Authorization: Bearer <token>`` on every request (same connection pool)."""
        clone = ApiClient(
            self.base_url,
            timeout=self.timeout,
            headers={**self.headers, "Authorization": f"Bearer {token}"},
            auth_header_factory=self.auth_header_factory,
            forward_request_id=self.forward_request_id,
            http=self._http,
        )
        clone.mount = self.mount
        clone.traced = self.traced
        clone._owns_http = False
        return clone

    def close(self) -> None:
        """Close pooled connections (unless they belong to another client)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parsed(response: httpx.Response, model: type[T]) -> T:
    response.raise_for_status()
    return TypeAdapter(model).validate_json(response.content)
