"""Two or more replicas behind a load balancer: a form whose state follows the URL, in Redis when configured.

Run each replica with the same FLUXLIT_REDIS_URL (see nginx.conf and docs/scaling.md); without it
every replica keeps sessions in its own memory and a request that lands elsewhere starts empty.
"""

import os
import socket

from fluxlit import FluxLit, SessionStore
from fluxlit.url_session import InMemorySessionStore, load_url_session, persist_url_session
from fluxlit.settings import load_settings

REPLICA = os.environ.get("REPLICA_NAME") or f"{socket.gethostname()}:{os.getpid()}"


def session_store() -> SessionStore:
    """Redis when ``FLUXLIT_REDIS_URL`` is set (state shared by every replica), else this process's memory."""
    if load_settings().redis_url:
        from fluxlit.redis_store import RedisSessionStore

        return RedisSessionStore.from_fluxlit_settings()
    return InMemorySessionStore()


app = FluxLit(title="Order form", session_store=session_store())
FIELDS = ["name", "cups"]


@app.page("/", title="Order", icon="☕")
def order(st, store: SessionStore) -> None:
    saved = load_url_session(st, store)
    st.title("Coffee order")
    # Stored values are the widgets' defaults: a new session starts from them, a reconnected browser keeps its own.
    st.text_input("Name", value=saved.get("name", ""), key="name")
    st.number_input("Cups", value=saved.get("cups", 0), key="cups", min_value=0, max_value=20, step=1)
    persist_url_session(st, store, keys=FIELDS)
    st.caption(f"served by replica {REPLICA}")


@app.page("/summary", title="Summary", icon="🧾")
def summary(st, store: SessionStore) -> None:
    state = load_url_session(st, store)
    st.title("Summary")
    st.write(f"{state.get('name') or 'Nobody'} ordered {state.get('cups', 0)} cups.")
    st.caption(f"served by replica {REPLICA}")
