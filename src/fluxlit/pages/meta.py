"""``PageMeta``: what a page handler may return to set its browser title, icon, layout and breadcrumb."""

from dataclasses import dataclass
from typing import Any, Literal

Layout = Literal["centered", "wide"]
SidebarState = Literal["auto", "expanded", "collapsed"]


@dataclass(frozen=True)
class PageMeta:
    """Applied after the handler ran: page config first, then the breadcrumb at the top of the page."""

    page_title: str | None = None
    page_icon: str | None = None
    layout: Layout | None = None
    initial_sidebar_state: SidebarState | None = None
    breadcrumb: tuple[str, ...] = ()

    def page_config(self) -> dict[str, Any]:
        """Keyword arguments for ``st.set_page_config`` (only the fields that are set)."""
        fields = {
            "page_title": self.page_title,
            "page_icon": self.page_icon,
            "layout": self.layout,
            "initial_sidebar_state": self.initial_sidebar_state,
        }
        return {k: v for k, v in fields.items() if v is not None}

    def apply(self, st: Any, breadcrumb_slot: Any) -> None:
        """Set the page config and fill ``breadcrumb_slot`` (an ``st.empty()`` made before the handler ran)."""
        if config := self.page_config():
            st.set_page_config(**config)
        if self.breadcrumb:
            breadcrumb_slot.caption(" › ".join(self.breadcrumb))
