"""Query-parameter models: read a pydantic model from the page URL and write one back into it."""

import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

SEQUENCES = (list, tuple, set, frozenset)


def parse_query_params(st: Any, model: type[M], *, strict: bool = False) -> M:
    """``model`` from ``st.query_params``.

    Invalid values show ``st.error`` naming each one and fall back to the field's default, keeping
    the valid ones; with ``strict=True`` the ``ValidationError`` is raised instead. A required field
    that is missing or invalid stops the page after the error.
    """
    raw = query_values(st, model)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        if strict:
            raise
        bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        st.error("Ignored invalid URL parameters: " + "; ".join(_explain(err) for err in exc.errors()))
        try:
            return model.model_validate({k: v for k, v in raw.items() if k not in bad})
        except ValidationError as still:
            st.error("This page needs URL parameters it did not get: " + "; ".join(_explain(err) for err in still.errors()))
            st.stop()
            raise  # st.stop raises; this satisfies type checkers outside Streamlit


def write_query_params(st: Any, value: BaseModel, *, exclude_defaults: bool = True) -> None:
    """Put ``value``'s fields into the URL (other parameters stay); defaults are left out unless asked."""
    fields = value.model_dump(mode="json", by_alias=True)
    defaults = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for key, item in fields.items():
        if exclude_defaults and key not in defaults:
            if key in st.query_params:
                del st.query_params[key]
            continue
        st.query_params[key] = [_text(v) for v in item] if isinstance(item, list) else _text(item)


def query_values(st: Any, model: type[BaseModel]) -> dict[str, Any]:
    """The URL's values for ``model``'s fields, lists for sequence fields; absent keys left out."""
    found: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in st.query_params:
            found[key] = st.query_params.get_all(key) if is_sequence(field.annotation) else st.query_params.get(key)
    return found


def is_sequence(annotation: Any) -> bool:
    """A list-like annotation (optionally ``| None``), read from repeated query keys."""
    if typing.get_origin(annotation) in SEQUENCES:
        return True
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return len(args) == 1 and typing.get_origin(args[0]) in SEQUENCES


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _explain(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"]) or "(model)"
    shown = f" (got {err['input']!r})" if err.get("type") != "missing" and not isinstance(err.get("input"), dict) else ""
    return f"{where}: {err['msg']}{shown}"
