"""The restart policy of the Streamlit supervisor: doubling backoff, at most 5 restarts a minute."""

import time

from fluxlit.gateway.config import GatewayConfig
from fluxlit.gateway.upstream import Upstream
from fluxlit.runtime.supervisor import FIRST_BACKOFF_S, MAX_RESTARTS_PER_MINUTE, StreamlitSupervisor
from fluxlit.settings import FluxlitSettings


def supervisor() -> StreamlitSupervisor:
    upstream = Upstream(GatewayConfig.from_settings(FluxlitSettings()), "http://127.0.0.1:8501", managed=True)
    return StreamlitSupervisor(lambda: None, upstream, restart=True, startup_timeout_s=1.0)  # type: ignore[arg-type,return-value]


def test_backoff_doubles_with_each_restart_in_the_minute() -> None:
    watcher = supervisor()
    delays = []
    for _ in range(MAX_RESTARTS_PER_MINUTE):
        delays.append(watcher._backoff())
        watcher.restarts.append(time.monotonic())
    assert delays == [FIRST_BACKOFF_S * 2**n for n in range(MAX_RESTARTS_PER_MINUTE)]


def test_past_the_cap_the_next_restart_waits_for_the_oldest_to_age_out() -> None:
    watcher = supervisor()
    now = time.monotonic()
    watcher.restarts.extend(now - age for age in (50, 40, 30, 20, 10))
    assert 9 < watcher._backoff() <= 10


def test_restarts_older_than_a_minute_no_longer_count() -> None:
    watcher = supervisor()
    watcher.restarts.extend([time.monotonic() - 120] * MAX_RESTARTS_PER_MINUTE)
    assert watcher._backoff() == FIRST_BACKOFF_S and not watcher.restarts
