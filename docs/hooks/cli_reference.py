"""The CLI reference page: every command's ``--help`` exactly as click renders it, 80 columns wide."""

from collections.abc import Iterator
from typing import Any

from typer.main import get_command

from fluxlit.cli import cli

WIDTH = 80


def _context(command: Any, name: str, parent: Any = None) -> Any:
    # The command's own click context class: typer may carry its own copy of click.
    return command.context_class(command, info_name=name, parent=parent, terminal_width=WIDTH, max_content_width=WIDTH)


def commands() -> Iterator[tuple[str, Any, Any]]:
    """``(path, command, context)`` for the program and every command under it, depth first."""
    root = get_command(cli)
    stack = [("fluxlit", root, _context(root, "fluxlit"))]
    while stack:
        path, command, ctx = stack.pop()
        yield path, command, ctx
        children = [(name, command.get_command(ctx, name)) for name in command.list_commands(ctx)] if hasattr(command, "commands") else []
        stack += [(f"{path} {name}", child, _context(child, name, ctx)) for name, child in reversed(children) if child is not None and not child.hidden]


def markdown() -> str:
    """One section per command: its path as the heading, its help as a text block."""
    return "\n\n".join(f"## {path}\n\n```text\n{command.get_help(ctx)}\n```" for path, command, ctx in commands()) + "\n"
