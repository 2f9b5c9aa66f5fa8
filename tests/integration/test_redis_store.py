"""RedisSessionStore against a real redis-server: TTLs, codecs, a shared view, and a clear error when Redis is down."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from fluxlit.redis_store import RedisSessionStore
from fluxlit.url_session import SessionStore, SessionStoreUnavailable
from tests.support.processes import free_port
from tests.support.redis_server import redis_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.mark.parametrize("codec", ["json", "msgpack"])
def test_values_round_trip_with_a_ttl_in_each_codec(redis_url: str, codec: str) -> None:
    store = RedisSessionStore(redis_url, codec=codec, default_ttl_seconds=120)
    assert isinstance(store, SessionStore)
    store.set("sid-1", {"name": "Ada", "cups": 3, "tags": ["a", "b"], "ok": True})
    assert store.get("sid-1") == {"name": "Ada", "cups": 3, "tags": ["a", "b"], "ok": True}
    raw = redis.Redis.from_url(redis_url)
    assert 0 < raw.ttl("fluxlit:sid:sid-1") <= 120
    store.set("sid-1", {"name": "Ada"}, ttl_seconds=5)
    assert 0 < raw.ttl("fluxlit:sid:sid-1") <= 5
    store.delete("sid-1")
    assert store.get("sid-1") is None and raw.exists("fluxlit:sid:sid-1") == 0


def test_two_stores_on_one_redis_see_the_same_session(redis_url: str) -> None:
    replica_a, replica_b = RedisSessionStore(redis_url), RedisSessionStore(redis_url)
    replica_a.set("shared", {"step": 2})
    assert replica_b.get("shared") == {"step": 2}


def test_from_fluxlit_settings_reads_the_url_and_ttl(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUXLIT_REDIS_URL", redis_url)
    monkeypatch.setenv("FLUXLIT_URL_SESSION_TTL_SECONDS", "77")
    store = RedisSessionStore.from_fluxlit_settings()
    assert store.default_ttl_seconds == 77
    monkeypatch.delenv("FLUXLIT_REDIS_URL")
    with pytest.raises(ValueError, match="FLUXLIT_REDIS_URL is not set"):
        RedisSessionStore.from_fluxlit_settings()


def test_an_unreachable_redis_raises_one_clear_error_without_the_password(tmp_path: Path) -> None:
    store = RedisSessionStore(f"redis://:hunter2@127.0.0.1:{free_port()}/0", socket_timeout_s=0.5)
    with pytest.raises(SessionStoreUnavailable, match=r"Redis at redis://\*\*\*@127.0.0.1:\d+/0 is unreachable") as caught:
        store.get("x")
    assert "hunter2" not in str(caught.value)
