"""URL-session stores: the in-memory one is bounded, LRU and expiring; ids are unguessable."""

import time

import pytest

from fluxlit.url_session import InMemorySessionStore, SessionStore, new_session_id


def test_the_least_recently_used_entry_goes_first() -> None:
    store = InMemorySessionStore(max_entries=2)
    store.set("a", {"n": 1})
    store.set("b", {"n": 2})
    assert store.get("a") == {"n": 1}  # "a" is now the most recently used
    store.set("c", {"n": 3})
    assert (store.get("a"), store.get("b"), store.get("c")) == ({"n": 1}, None, {"n": 3})
    assert len(store) == 2


def test_entries_expire_and_can_be_deleted() -> None:
    store = InMemorySessionStore(default_ttl_seconds=60)
    store.set("short", {"x": 1}, ttl_seconds=1)
    store.set("long", {"x": 2})
    store.delete("long")
    time.sleep(1.05)
    assert store.get("short") is None and store.get("long") is None and len(store) == 0


def test_stored_data_is_a_copy() -> None:
    store = InMemorySessionStore()
    data = {"k": 1}
    store.set("s", data)
    data["k"] = 2
    got = store.get("s")
    got["k"] = 3
    assert store.get("s") == {"k": 1}


def test_it_satisfies_the_protocol_and_rejects_nonsense_bounds() -> None:
    assert isinstance(InMemorySessionStore(), SessionStore)
    with pytest.raises(ValueError, match="max_entries >= 1"):
        InMemorySessionStore(max_entries=0)


def test_session_ids_are_long_url_safe_and_unique() -> None:
    ids = {new_session_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 43 and all(c.isalnum() or c in "-_" for c in i) for i in ids)
