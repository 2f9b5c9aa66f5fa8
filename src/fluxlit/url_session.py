"""URL-bound sessions: the store protocol a FluxLit app and its pages share."""

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class SessionStore(Protocol):
    """Where URL-session data lives between requests and replicas: a mapping of id to JSON-able dict."""

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The data for ``session_id``, or ``None`` when unknown or expired."""
        ...

    def set(self, session_id: str, data: dict[str, Any], *, ttl_seconds: int | None = None) -> None:
        """Store ``data`` for ``session_id`` (replacing it), expiring after ``ttl_seconds`` if given."""
        ...

    def delete(self, session_id: str) -> None:
        """Forget ``session_id``."""
        ...
