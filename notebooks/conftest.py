"""nbval settings for the notebooks: a non-interactive matplotlib backend and quick mode."""

import os

os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
os.environ.setdefault("SPURLAB_MODE", "quick")
