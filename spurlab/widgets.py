"""A small widget panel for the notebooks: controls, a Run button, a visible state, one output.

Built on core ipywidgets only (no ipympl: it breaks on Colab). Controls use
``continuous_update=False``; changing one marks the result *stale* until Run is pressed; while
computing the state reads *recomputing...*; errors (bad input, diverged training, Ctrl-C) are
shown in the output area and the panel stays usable.

Tests drive panels without a browser: ``panel.set(salience=0.3)``, then ``panel.run()`` returns
what the compute function returned.

Examples
--------
>>> import ipywidgets as w
>>> p = Panel({"x": w.FloatSlider(value=1.0, min=0, max=2)}, lambda x: x * 2, title="double")
>>> p.set(x=1.5).run()
3.0
"""

from __future__ import annotations

import os
import time

import ipywidgets as w
from IPython.display import display

from . import __version__
from .cache import ResultCache, cache_key
from .experiment import Config, Result
from .experiment import run as run_experiment

_CACHE = {}


def cached_run(config, arms, *, reference=True, progress=True, cache_dir=None):
    """:func:`spurlab.run` with a cache keyed by the config string, the arms and the version:
    re-displaying a setting already computed returns the same numbers at once.

    Results are kept in memory, and also on disk as checksummed JSON when ``cache_dir`` (or the
    environment variable ``SPURLAB_CACHE_DIR``) names a folder; a corrupt cache file is
    recomputed with a warning. An interrupted run (Ctrl-C) caches nothing.
    """
    key = cache_key(config.to_string(), list(arms), bool(reference), __version__)
    if key in _CACHE:
        return _CACHE[key]
    folder = cache_dir or os.environ.get("SPURLAB_CACHE_DIR")
    disk = ResultCache(folder) if folder else None
    stored = disk.get(key) if disk else None
    if stored is not None:
        result = Result.from_dict(stored)
    else:
        result = run_experiment(config, arms=list(arms), reference=reference, progress=progress)
        if disk:
            disk.put(key, result.to_dict())
    _CACHE[key] = result
    return result


def run_seeds(config, seeds, arms, *, reference=True, progress=True, cache_dir=None):
    """Run ``config`` for each seed (cached); return the list of results."""
    return [cached_run(config.replace(seed=s), arms, reference=reference, progress=progress,
                       cache_dir=cache_dir) for s in seeds]


def slider(description, value, low, high, step, fmt=".2f"):
    """A FloatSlider with ``continuous_update=False`` and a readable label width."""
    return w.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                         continuous_update=False, readout_format=fmt,
                         style={"description_width": "initial"},
                         layout=w.Layout(width="420px"))


class Panel:
    """Controls + Run button + status line + output area around ``compute(**values)``.

    Parameters
    ----------
    controls : dict of str -> ipywidgets.ValueWidget
        Keyword name -> widget; ``compute`` receives the widgets' values by these names.
    compute : callable
        Does the work and draws into the current output (plots, prints); its return value is
        kept in ``panel.result``.
    title : str
    budget_s : float, optional
        Time budget printed in the status line ("done in 3.1 s (budget 5 s)").
    auto : bool
        Compute on every control change (for cheap computations) instead of waiting for Run.
    """

    def __init__(self, controls, compute, *, title="", budget_s=None, auto=False):
        self.controls = dict(controls)
        self.compute = compute
        self.budget_s = budget_s
        self.auto = auto
        self.result = None
        self.error = None
        self.button = w.Button(description="Run", button_style="primary", icon="play")
        self.status = w.HTML()
        self.output = w.Output()
        self.button.on_click(lambda _: self.run())
        for c in self.controls.values():
            c.observe(self._changed, names="value")
        header = [w.HTML(f"<b>{title}</b>")] if title else []
        self.box = w.VBox(header + list(self.controls.values())
                          + [w.HBox([self.button, self.status]), self.output])
        self._set_status("not run yet: press Run" if not auto else "")

    def _set_status(self, text, colour="#555"):
        self.status.value = f"<span style='color:{colour}'>{text}</span>"

    def _changed(self, change):
        if self.auto:
            self.run()
        else:
            self._set_status("stale: settings changed, press Run to recompute", "#D55E00")

    def values(self):
        return {k: c.value for k, c in self.controls.items()}

    def set(self, **values):
        """Set control values by name (unknown names raise ``KeyError``); returns the panel."""
        for k, v in values.items():
            if k not in self.controls:
                raise KeyError(f"no control named {k!r}; controls: {', '.join(self.controls)}")
            self.controls[k].value = v
        return self

    def run(self):
        """Compute with the current values, drawing into the output area; return the result."""
        import matplotlib.pyplot as plt

        self.button.disabled = True
        self._set_status("recomputing...", "#0072B2")
        self.error = None
        t = time.perf_counter()
        self.output.clear_output(wait=True)
        with self.output:
            try:
                self.result = self.compute(**self.values())
                plt.show()
                dt = time.perf_counter() - t
                budget = f" (budget {self.budget_s:g} s)" if self.budget_s else ""
                self._set_status(f"done in {dt:.1f} s{budget}", "#009E73")
            except (ValueError, TypeError, RuntimeError) as exc:
                self.error = exc
                print(f"error: {exc}")
                self._set_status("error: see below; change the settings and press Run", "#D55E00")
            except KeyboardInterrupt:
                self.error = KeyboardInterrupt()
                print("interrupted: nothing was kept; press Run to start again")
                self._set_status("interrupted", "#D55E00")
            finally:
                self.button.disabled = False
        return self.result

    def _ipython_display_(self):
        display(self.box)


__all__ = ["Panel", "cached_run", "run_seeds", "slider", "Config"]
