"""Where the OIDC BFF keeps what must stay server-side: login states, one-time codes and provider tokens.

Every entry expires, and the login state and the one-time code are read with ``take`` so each is used
once. ``InMemoryOIDCBFFTokenStore`` serves one process; with several replicas use
``RedisOIDCBFFTokenStore``, or a login that starts on one replica fails on another.
"""

import json
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol, runtime_checkable

from ..settings import redact_value


class TokenStoreUnavailable(RuntimeError):
    """The token store cannot be reached; the message names it."""


@runtime_checkable
class OIDCBFFTokenStore(Protocol):
    """A map of key to JSON-able dict whose entries expire; ``take`` reads and deletes in one step."""

    def put(self, key: str, value: dict[str, Any], *, ttl_seconds: int) -> None:
        """Store ``value`` under ``key`` (replacing it) for ``ttl_seconds``."""
        ...

    def get(self, key: str) -> dict[str, Any] | None:
        """The value, or ``None`` when unknown or expired."""
        ...

    def take(self, key: str) -> dict[str, Any] | None:
        """The value, deleted at once so a second ``take`` finds nothing; ``None`` when unknown or expired."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        ...


class InMemoryOIDCBFFTokenStore:
    """One process's store: at most ``max_entries`` (the oldest goes first), each expiring after its TTL."""

    def __init__(self, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError(f"InMemoryOIDCBFFTokenStore needs max_entries >= 1, got {max_entries}")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, key: str, value: dict[str, Any], *, ttl_seconds: int) -> None:
        """Store a JSON copy of ``value``; when full, the oldest entry is dropped."""
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be 1 or more, got {ttl_seconds}")
        entry = (time.monotonic() + ttl_seconds, json.dumps(value))
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get(self, key: str) -> dict[str, Any] | None:
        """The value, or ``None`` when unknown or expired."""
        with self._lock:
            return self._live(key, remove=False)

    def take(self, key: str) -> dict[str, Any] | None:
        """The value, removed under the lock so two concurrent takes cannot both get it."""
        with self._lock:
            return self._live(key, remove=True)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)

    def _live(self, key: str, *, remove: bool) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expired = entry[0] <= time.monotonic()
        if remove or expired:
            del self._entries[key]
        return None if expired else json.loads(entry[1])


class RedisOIDCBFFTokenStore:
    """Entries in Redis under ``{prefix}{key}`` with a TTL (``SET EX``); ``take`` is ``GETDEL`` (Redis 6.2+).

    Every replica pointing at the same Redis sees the same login states and codes.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        prefix: str = "fluxlit:oidc:",
        socket_timeout_s: float = 2.0,
    ) -> None:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError("RedisOIDCBFFTokenStore needs the redis extra: pip install 'fluxlit[redis]'") from exc
        if (url is None) == (client is None):
            raise ValueError("RedisOIDCBFFTokenStore needs a url (redis://host:6379/0) or a redis.Redis client, not both")
        self._errors = (redis.ConnectionError, redis.TimeoutError)
        self.where = redact_value("redis_url", url) if url else "the given Redis client"
        self.client = client if client is not None else redis.Redis.from_url(url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s)
        self.prefix = prefix

    def put(self, key: str, value: dict[str, Any], *, ttl_seconds: int) -> None:
        """Store ``value`` as JSON, expiring after ``ttl_seconds``."""
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be 1 or more, got {ttl_seconds}")
        self._call(self.client.set, self.prefix + key, json.dumps(value, separators=(",", ":")), ex=ttl_seconds)

    def get(self, key: str) -> dict[str, Any] | None:
        """The value, or ``None`` when unknown or expired."""
        raw = self._call(self.client.get, self.prefix + key)
        return None if raw is None else json.loads(raw)

    def take(self, key: str) -> dict[str, Any] | None:
        """The value, deleted atomically (``GETDEL``), so only one replica ever gets it."""
        raw = self._call(self.client.getdel, self.prefix + key)
        return None if raw is None else json.loads(raw)

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        self._call(self.client.delete, self.prefix + key)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except self._errors as exc:
            raise TokenStoreUnavailable(f"Redis at {self.where} is unreachable: {exc}") from None
