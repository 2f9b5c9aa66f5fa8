"""Streamlit entry script started by the FluxLit runtime (``streamlit run`` executes it on every rerun)."""

import os
import sys

app_dir = os.environ.get("FLUXLIT_APP_DIR", os.getcwd())
if sys.path[:1] != [app_dir]:
    # Streamlit puts this script's folder first; the user's project must win imports.
    if app_dir in sys.path:
        sys.path.remove(app_dir)
    sys.path.insert(0, app_dir)

from fluxlit.pages.navigation import run_navigation  # noqa: E402

run_navigation()
