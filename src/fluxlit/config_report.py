"""Consistency checks on effective settings, shared by ``fluxlit config`` (warnings) and ``fluxlit doctor`` (rows)."""

import importlib
import ipaddress
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .runtime.address import internal_api_base
from .settings import FluxlitSettings, Source, sources

Level = Literal["warning", "error"]
READ_TIMEOUT_FLOOR_S = 5.0


@dataclass(frozen=True)
class Finding:
    """One problem: a stable code users grep for, ``error`` (always fails) or ``warning``, and the fix."""

    level: Level
    code: str
    message: str


@dataclass(frozen=True)
class CheckResult:
    """A named check: what is fine (``detail``) or what is wrong (``findings``)."""

    name: str
    detail: str
    findings: tuple[Finding, ...] = ()
    strict: bool = False
    """``doctor --strict`` turns this check's warnings into failures."""


def _module_available(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def check_internal_api_base(s: FluxlitSettings) -> CheckResult:
    """The child's API base must reach this gateway's API: its path is the API prefix (or the bare mount)."""
    if not s.internal_api_base:
        return CheckResult("internal_api_base", f"not set; the Streamlit child calls {internal_api_base(s)}")
    path = urlsplit(s.internal_api_base).path.rstrip("/")
    if path in (s.api_prefix, s.api_mount_path):
        return CheckResult("internal_api_base", f"{s.internal_api_base} matches the API prefix {s.api_prefix}")
    finding = Finding(
        "error",
        "internal_api_base_mismatch",
        f"FLUXLIT_INTERNAL_API_BASE={s.internal_api_base!r} has path {path or '/'!r} but the API is served at "
        f"{s.api_prefix!r}: pages' ApiClient calls would miss it; set it to http://127.0.0.1:{s.gateway_port}{s.api_prefix} or unset it",
    )
    return CheckResult("internal_api_base", "", (finding,))


def check_metrics_extra(s: FluxlitSettings) -> CheckResult:
    """Metrics need prometheus-client (``fluxlit[metrics]``)."""
    name = "fluxlit_metrics_extra"
    if not s.enable_gateway_prometheus_metrics:
        return CheckResult(name, "metrics off (FLUXLIT_ENABLE_GATEWAY_PROMETHEUS_METRICS)")
    if _module_available("prometheus_client"):
        return CheckResult(name, f"metrics on at {s.root_path}{s.gateway_prometheus_metrics_path}; prometheus-client installed")
    finding = Finding(
        "error",
        "metrics_extra_missing",
        "FLUXLIT_ENABLE_GATEWAY_PROMETHEUS_METRICS is on but prometheus-client is not installed; "
        "pip install 'fluxlit[metrics]' or turn metrics off",
    )
    return CheckResult(name, "", (finding,))


def check_root_path(s: FluxlitSettings) -> CheckResult:
    """A subpath means an edge proxy; without proxy trust its X-Forwarded-* are thrown away."""
    if not s.root_path:
        return CheckResult("root_path", "no subpath: served at /")
    if s.trust_proxy:
        return CheckResult("root_path", f"served under {s.root_path} with proxy trust on", strict=True)
    finding = Finding(
        "warning",
        "subpath_without_trust_proxy",
        f"FLUXLIT_ROOT_PATH={s.root_path!r} implies an edge proxy, but FLUXLIT_TRUST_PROXY is off: its X-Forwarded-Proto/-Host "
        "are replaced, so Streamlit sees the gateway's own scheme and host; set FLUXLIT_TRUST_PROXY=1 and "
        "FLUXLIT_FORWARDED_ALLOW_IPS to the proxy's address (or use --proxy-headers)",
    )
    return CheckResult("root_path", "", (finding,), strict=True)


def check_public_base_url(s: FluxlitSettings) -> CheckResult:
    """The public URL's path must end with the root path."""
    if not s.public_base_url:
        return CheckResult("public_base_url", "not set")
    path = urlsplit(s.public_base_url).path.rstrip("/")
    if not s.root_path or path.endswith(s.root_path):
        return CheckResult("public_base_url", f"{s.public_base_url} is consistent with root path {s.root_path or '/'!r}", strict=True)
    finding = Finding(
        "warning",
        "public_base_url_path_mismatch",
        f"FLUXLIT_PUBLIC_BASE_URL={s.public_base_url!r} does not end with FLUXLIT_ROOT_PATH={s.root_path!r}; "
        f"links built from it miss the subpath; use https://<public host>{s.root_path}",
    )
    return CheckResult("public_base_url", "", (finding,), strict=True)


def check_public_base_url_precedence(s: FluxlitSettings) -> CheckResult:
    """Plain ``PUBLIC_BASE_URL`` is only a fallback; two different values are a deployment mistake."""
    # Both names are read from the environment on purpose: the setting only ever holds the winner.
    ours, plain = os.environ.get("FLUXLIT_PUBLIC_BASE_URL", "").strip(), os.environ.get("PUBLIC_BASE_URL", "").strip()
    name = "public_base_url_precedence"
    if not (ours and plain) or ours.rstrip("/") == plain.rstrip("/"):
        winner = "FLUXLIT_PUBLIC_BASE_URL" if ours else "PUBLIC_BASE_URL" if plain else "neither variable"
        return CheckResult(name, f"{winner} set; no conflict", strict=True)
    finding = Finding(
        "error" if s.strict_public_base_url else "warning",
        "public_base_url_precedence",
        f"FLUXLIT_PUBLIC_BASE_URL={ours!r} and PUBLIC_BASE_URL={plain!r} differ; FluxLit uses FLUXLIT_PUBLIC_BASE_URL. "
        "Make them equal or unset one (FLUXLIT_STRICT_PUBLIC_BASE_URL=1 makes this an error)",
    )
    return CheckResult(name, "", (finding,), strict=True)


def _trusts_everyone(entry: str) -> bool:
    return entry == "*" or ipaddress.ip_network(entry, strict=False).prefixlen == 0


def check_forwarded_allow_ips(s: FluxlitSettings) -> CheckResult:
    """Trusting every peer lets any client spoof X-Forwarded-*."""
    ips = ",".join(s.forwarded_allow_ips)
    if not s.trust_proxy:
        return CheckResult("forwarded_allow_ips", "proxy trust off: X-Forwarded-* from every peer are replaced", strict=True)
    if not any(_trusts_everyone(entry) for entry in s.forwarded_allow_ips):
        return CheckResult("forwarded_allow_ips", f"trusting X-Forwarded-* from {ips or 'nobody'}", strict=True)
    finding = Finding(
        "warning",
        "forwarded_allow_ips_broad",
        f"FLUXLIT_TRUST_PROXY is on and FLUXLIT_FORWARDED_ALLOW_IPS={ips!r} trusts every peer: any client can spoof "
        "X-Forwarded-For/-Proto/-Host; list only your proxies' addresses or CIDRs",
    )
    return CheckResult("forwarded_allow_ips", "", (finding,), strict=True)


def check_forward_rejected_names(s: FluxlitSettings) -> CheckResult:
    """Allowlisted browser headers that FluxLit refuses to forward."""
    name = "gateway_forward_rejected_names"
    if not s.refused_forward_headers:
        if not s.forward_client_headers:
            return CheckResult(name, "no allowlist: every end-to-end browser header except credentials goes to Streamlit", strict=True)
        listed = ", ".join(s.forward_client_headers)
        return CheckResult(name, f"allowlist: Streamlit's own headers plus {listed}", strict=True)
    refused = ", ".join(f"{header} ({reason})" for header, reason in s.refused_forward_headers.items())
    finding = Finding(
        "warning",
        "gateway_forward_blocked_names",
        f"FLUXLIT_GATEWAY_FORWARD_CLIENT_HEADERS_TO_STREAMLIT lists {refused}; these are never forwarded: remove them from the list",
    )
    return CheckResult(name, "", (finding,), strict=True)


def check_upstream_timeouts(s: FluxlitSettings) -> CheckResult:
    """A short read timeout turns slow Streamlit responses into 502s."""
    name = "gateway_upstream_timeouts"
    posture = f"connect {s.gateway_upstream_connect_timeout_s:g}s, read {s.gateway_upstream_read_timeout_s:g}s"
    if s.gateway_upstream_read_timeout_s >= READ_TIMEOUT_FLOOR_S:
        return CheckResult(name, posture, strict=True)
    finding = Finding(
        "warning",
        "gateway_upstream_read_timeout_short",
        f"FLUXLIT_GATEWAY_UPSTREAM_READ_TIMEOUT_S={s.gateway_upstream_read_timeout_s:g} is under {READ_TIMEOUT_FLOOR_S:g}s: "
        "slow Streamlit responses will fail with 502; use 30-60",
    )
    return CheckResult(name, "", (finding,), strict=True)


def check_body_cap(s: FluxlitSettings) -> CheckResult:
    """No body cap behind a trusted proxy leaves upload limits to a proxy that may not set one."""
    name = "gateway_max_body_unlimited_trust_proxy"
    cap = s.gateway_max_proxy_request_body_bytes
    if cap or not s.trust_proxy:
        return CheckResult(name, f"proxied request bodies capped at {cap} bytes" if cap else "no body cap (proxy trust off)", strict=True)
    finding = Finding(
        "warning",
        "gateway_max_body_unlimited_trust_proxy",
        "FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES=0 (unlimited) with FLUXLIT_TRUST_PROXY on: only the edge proxy limits "
        "uploads; set a cap (default 209715200) or make sure the proxy enforces one",
    )
    return CheckResult(name, "", (finding,), strict=True)


SETTINGS_CHECKS: tuple[Callable[[FluxlitSettings], CheckResult], ...] = (
    check_internal_api_base,
    check_metrics_extra,
    check_root_path,
    check_public_base_url,
    check_public_base_url_precedence,
    check_forwarded_allow_ips,
    check_forward_rejected_names,
    check_upstream_timeouts,
    check_body_cap,
)


def settings_checks(settings: FluxlitSettings) -> list[CheckResult]:
    """Every consistency check, in report order."""
    return [check(settings) for check in SETTINGS_CHECKS]


def settings_findings(settings: FluxlitSettings) -> list[Finding]:
    """The warnings and errors of every check, flattened."""
    return [finding for result in settings_checks(settings) for finding in result.findings]


def effective_settings(settings: FluxlitSettings, cwd: Path | None = None, *, from_app: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """``{name: {value, source}}`` with secrets redacted; ``from_app`` names values the app set in code."""
    origin: dict[str, Source] = {**sources(settings, cwd), **dict.fromkeys(from_app, "app")}
    if origin["public_base_url"] == "default" and settings.public_base_url:
        origin["public_base_url"] = "env"  # the plain PUBLIC_BASE_URL fallback
    values = settings.redacted()
    return {name: {"value": values[name], "source": origin[name]} for name in values}


def config_payload(target: str, project_file: Path | None, settings: FluxlitSettings, app_settings: FluxlitSettings | None = None, app_error: str | None = None) -> dict[str, Any]:
    """What ``fluxlit config --json`` prints: the app's effective settings when it imports, else the environment's."""
    effective = app_settings or settings
    from_app = frozenset(n for n in type(effective).model_fields if app_settings is not None and getattr(app_settings, n) != getattr(settings, n, None))
    return {
        "target": target,
        "app": {"imported": True} if app_settings is not None else {"imported": False, "error": app_error},
        "project_file": str(project_file) if project_file else None,
        "settings": effective_settings(effective, from_app=from_app),
        "warnings": [asdict(f) for f in settings_findings(effective)],
    }


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "[]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value != "" else '""'


def render_config(payload: dict[str, Any]) -> str:
    """The text form of ``fluxlit config``."""
    rows = [(name, _shown(entry["value"]), entry["source"]) for name, entry in payload["settings"].items()]
    width = max(len(name) for name, _, _ in rows)
    value_width = min(48, max(len(value) for _, value, _ in rows))
    app = "imported (values it sets in code show source app)" if payload["app"]["imported"] else f"not imported ({payload['app']['error']}); showing the environment's settings"
    lines = [f"target:       {payload['target']}", f"app:          {app}", f"project file: {payload['project_file'] or 'none'}", ""]
    lines += [f"{'setting':<{width}}  {'value':<{value_width}}  source"]
    lines += [f"{name:<{width}}  {value:<{value_width}}  {source}" for name, value, source in rows]
    lines.append("")
    if not payload["warnings"]:
        lines.append("no warnings")
    lines += [f"{w['level'].upper()} {w['code']}: {w['message']}" for w in payload["warnings"]]
    return "\n".join(lines)
