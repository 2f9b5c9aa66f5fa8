"""URL-bound sessions: a page's state kept in a store under an id carried by the URL (``?fluxlit_sid=...``).

A Streamlit session lives in one process and dies with its WebSocket; the URL survives a refresh,
a new tab and a request that lands on another replica. With a shared store (Redis) the state does too.
"""

import functools
import logging
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ValidationError

from .settings import load_settings

log = logging.getLogger("fluxlit.url_session")

M = TypeVar("M", bound=BaseModel)

SID_STATE_KEY = "_fluxlit_sid"
HYDRATED_STATE_KEY = "_fluxlit_sid_hydrated"
WARNED_STATE_KEY = "_fluxlit_sid_store_warned"


class SessionStoreUnavailable(RuntimeError):
    """The store cannot be reached; the message names it and what still works."""


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


class InMemorySessionStore:
    """One process's store: bounded, least recently used entries evicted first, entries expire.

    Fine for one replica; with several, a request that lands on another replica finds nothing.
    """

    def __init__(self, max_entries: int = 5000, default_ttl_seconds: int = 86400) -> None:
        if max_entries < 1 or default_ttl_seconds < 1:
            raise ValueError("InMemorySessionStore needs max_entries >= 1 and default_ttl_seconds >= 1")
        self.max_entries = max_entries
        self.default_ttl_seconds = default_ttl_seconds
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str) -> dict[str, Any] | None:
        """The data, marked as recently used; ``None`` when unknown or expired."""
        with self._lock:
            entry = self._entries.get(session_id)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[session_id]
                return None
            self._entries.move_to_end(session_id)
            return dict(entry[1])

    def set(self, session_id: str, data: dict[str, Any], *, ttl_seconds: int | None = None) -> None:
        """Store a copy of ``data``; the least recently used entry goes when the store is full."""
        expires = time.monotonic() + (ttl_seconds or self.default_ttl_seconds)
        with self._lock:
            self._entries[session_id] = (expires, dict(data))
            self._entries.move_to_end(session_id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def delete(self, session_id: str) -> None:
        """Forget ``session_id``."""
        with self._lock:
            self._entries.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._entries)


@functools.cache
def default_query_param() -> str:
    """``FLUXLIT_URL_SESSION_QUERY_PARAM``, read once: the helpers run on every script run."""
    return load_settings().url_session_query_param


def new_session_id() -> str:
    """A fresh unguessable id (32 random bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


def ensure_url_session(
    st: Any,
    store: SessionStore,
    *,
    param: str | None = None,
    initial: dict[str, Any] | None = None,
    ttl_seconds: int | None = None,
) -> str:
    """This browser session's id: the URL's (or the one this session already had), else a new one
    stored with ``initial`` and put into the URL."""
    name = param or default_query_param()
    sid = st.query_params.get(name) or st.session_state.get(SID_STATE_KEY)
    if not sid or not _valid_id(sid):
        sid = new_session_id()
        _store_call(st, store.set, sid, dict(initial or {}), ttl_seconds=ttl_seconds)
    st.session_state[SID_STATE_KEY] = sid
    if st.query_params.get(name) != sid:
        st.query_params[name] = sid
    return sid


def load_url_session(st: Any, store: SessionStore, *, param: str | None = None) -> dict[str, Any]:
    """The stored state of this browser session's id, without touching ``st.session_state``.

    For widgets, pass the values as their defaults (``st.text_input("Name", value=state.get("name", ""),
    key="name")``): a fresh session (a reload, a deep link, another replica) shows the stored value,
    while a browser that reconnected keeps what it was showing, even an edit made while offline.
    """
    sid = ensure_url_session(st, store, param=param)
    return _store_call(st, store.get, sid) or {}


def hydrate_url_session(st: Any, store: SessionStore, *, param: str | None = None, merge: bool = True) -> dict[str, Any]:
    """Load the stored state into ``st.session_state``; returns it.

    The first run of a browser session (or of a new id) takes every stored value; later runs only
    restore keys Session State lost (Streamlit drops a widget's key on a page that does not draw it).
    ``merge=False`` also clears keys the stored state lacks. Keys starting with ``_`` are never touched.
    """
    sid = ensure_url_session(st, store, param=param)
    data = _store_call(st, store.get, sid) or {}
    first = st.session_state.get(HYDRATED_STATE_KEY) != sid
    if first and not merge:
        for key in [k for k in st.session_state if not str(k).startswith("_") and k not in data]:
            del st.session_state[key]
    for key, value in data.items():
        if not key.startswith("_") and (first or key not in st.session_state):
            st.session_state[key] = value
    st.session_state[HYDRATED_STATE_KEY] = sid
    return data


def persist_url_session(
    st: Any,
    store: SessionStore,
    *,
    keys: list[str] | None = None,
    param: str | None = None,
    ttl_seconds: int | None = None,
) -> None:
    """Save ``keys`` (default: every key not starting with ``_``) of ``st.session_state`` under the URL's id."""
    sid = ensure_url_session(st, store, param=param)
    names = keys if keys is not None else [k for k in st.session_state if not str(k).startswith("_")]
    data = {name: st.session_state[name] for name in names if name in st.session_state}
    _store_call(st, store.set, sid, data, ttl_seconds=ttl_seconds)


def hydrate_url_session_typed(st: Any, store: SessionStore, model: type[M], *, param: str | None = None, strict: bool = False) -> M:
    """The stored state as ``model`` (hydrating ``st.session_state`` too); invalid state → defaults and
    ``st.warning``, or ``ValidationError`` with ``strict=True``."""
    data = hydrate_url_session(st, store, param=param)
    try:
        return model.model_validate(data)
    except ValidationError:
        if strict:
            raise
        st.warning("The saved state of this page no longer fits it; starting from the defaults.")
        return model()


def keep_sid_in_url(st: Any, param: str) -> None:
    """Put the session's id back into the URL when a page switch dropped it (``st.navigation`` does)."""
    sid = st.session_state.get(SID_STATE_KEY)
    if sid and st.query_params.get(param) != sid:
        st.query_params[param] = sid


def _valid_id(sid: str) -> bool:
    return 16 <= len(sid) <= 128 and all(c.isalnum() or c in "-_" for c in sid)


def _store_call(st: Any, call: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the store; when it is down, say so once on the page and carry on without it."""
    try:
        return call(*args, **kwargs)
    except SessionStoreUnavailable as exc:
        log.warning("URL session store unavailable: %s", exc)
        if not st.session_state.get(WARNED_STATE_KEY):
            st.session_state[WARNED_STATE_KEY] = True
            st.warning(f"Saved state is unavailable right now ({exc}); this page keeps working without it.")
        return None
