"""``RedisSessionStore``: URL sessions shared by every replica (extra ``fluxlit[redis]``)."""

import json
from typing import Any, Literal

try:
    import redis
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("RedisSessionStore needs the redis extra: pip install 'fluxlit[redis]'") from exc

from .settings import load_settings, redact_value
from .url_session import SessionStoreUnavailable

Codec = Literal["json", "msgpack"]


class RedisSessionStore:
    """URL-session data in Redis under ``{prefix}{id}`` with a TTL, through a connection pool.

    Values are JSON (default) or msgpack. When Redis cannot be reached, calls raise
    ``SessionStoreUnavailable`` (pages show a message and keep working; the gateway is unaffected).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: "redis.Redis | None" = None,
        prefix: str = "fluxlit:sid:",
        default_ttl_seconds: int = 86400,
        codec: Codec = "json",
        socket_timeout_s: float = 2.0,
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError("RedisSessionStore needs a url (redis://host:6379/0) or a redis.Redis client, not both")
        self.where = redact_value("redis_url", url) if url else "the given Redis client"
        self.client = client if client is not None else redis.Redis.from_url(url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s)
        self.prefix = prefix
        self.default_ttl_seconds = default_ttl_seconds
        if codec == "msgpack":
            import msgpack

            self._dumps, self._loads = msgpack.packb, msgpack.unpackb
        else:
            self._dumps, self._loads = (lambda data: json.dumps(data, separators=(",", ":")).encode()), json.loads

    @classmethod
    def from_fluxlit_settings(cls, **options: Any) -> "RedisSessionStore":
        """A store at ``FLUXLIT_REDIS_URL`` with ``FLUXLIT_URL_SESSION_TTL_SECONDS``."""
        settings = load_settings()
        if not settings.redis_url:
            raise ValueError("FLUXLIT_REDIS_URL is not set; set it to redis://host:6379/0 for RedisSessionStore")
        options.setdefault("default_ttl_seconds", settings.url_session_ttl_seconds)
        return cls(settings.redis_url, **options)

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The data for ``session_id``, or ``None`` when unknown or expired."""
        raw = self._call(self.client.get, self.prefix + session_id)
        return None if raw is None else self._loads(raw)

    def set(self, session_id: str, data: dict[str, Any], *, ttl_seconds: int | None = None) -> None:
        """Store ``data`` for ``session_id``, expiring after ``ttl_seconds`` (default: the store's)."""
        self._call(self.client.set, self.prefix + session_id, self._dumps(data), ex=ttl_seconds or self.default_ttl_seconds)

    def delete(self, session_id: str) -> None:
        """Forget ``session_id``."""
        self._call(self.client.delete, self.prefix + session_id)

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise SessionStoreUnavailable(f"Redis at {self.where} is unreachable: {exc}") from None
