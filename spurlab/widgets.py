"""A small widget panel for the notebooks: controls, a Run button, a visible state, one output.

Built on core ipywidgets only (no ipympl: it breaks on Colab). Controls use
``continuous_update=False``; changing one marks the result *stale* until Run is pressed; while
computing the state reads *recomputing...*; errors (bad input, diverged training, Ctrl-C) are
shown in the output area and the panel stays usable.

Panels compute through the engine (:func:`spurlab.run`, :func:`spurlab.run_seeds`), whose
cache makes a setting already computed instant.

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

import inspect
import math
import sys
import time

import ipywidgets as w
from IPython.display import display
from traitlets import TraitError

from ._validate import check_bool, check_fraction, check_int


def slider(description, value, low, high, step, fmt=".2f"):
    """A FloatSlider with ``continuous_update=False`` and a readable label width.

    ``low < high``, ``step > 0`` and ``low <= value <= high`` are checked (ipywidgets would
    clamp an out-of-range value silently).
    """
    if not isinstance(description, str):
        raise TypeError(f"description must be a string; got {description!r}")
    low = check_fraction("low", low, low=-math.inf, high=math.inf)
    high = check_fraction("high", high, low=-math.inf, high=math.inf)
    for name, v in (("low", low), ("high", high)):
        if not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number; got {v}")
    if not low < high:
        raise ValueError(f"low must be below high; got low={low:g}, high={high:g}")
    step = check_fraction("step", step, low=0, high=high - low, low_open=True)
    value = check_fraction("value", value, low=low, high=high)
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be a format string such as '.2f'; got {fmt!r}")
    return w.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                         continuous_update=False, readout_format=fmt,
                         style={"description_width": "initial"},
                         layout=w.Layout(width="420px"))


class _OutputSink:
    """Send ``print`` and IPython ``display`` into an Output widget by setting its ``outputs``
    (what ``Output.append_stdout`` and ``append_display_data`` do), not through ``with output:``.

    Why not the widget's own capture: ``with output:`` asks the frontend to redirect the cell's
    messages, and the frontend echoes each captured output back to the kernel. nbclient (what
    ``jupyter nbconvert --execute``, papermill and Voila run) mimics that echo by sending on the
    shell socket while it is waiting on that same socket for the cell's reply; over TCP the
    reply's wake-up is then sometimes lost and the cell sits idle until its timeout
    (jupyter/nbclient#312; measured here on notebook 04). Setting ``outputs`` is a plain state
    update from the kernel, the same in ipywidgets 7.7 and 8, and nothing comes back.

    As ``clear_output(wait=True)`` did, the old outputs stay until the first new one arrives;
    text is sent a line at a time.
    """

    def __init__(self, output):
        self.output = output
        self._fresh = True   # the next output replaces what the widget shows
        self._text = {"stdout": "", "stderr": ""}

    def _append(self, item):
        outputs = () if self._fresh else tuple(self.output.outputs)
        self._fresh = False
        last = outputs[-1] if outputs else None
        if (item["output_type"] == "stream" and last and last["output_type"] == "stream"
                and last["name"] == item["name"]):
            outputs = outputs[:-1] + ({**last, "text": last["text"] + item["text"]},)
        else:
            outputs = outputs + (item,)
        self.output.outputs = outputs

    def _flush(self, name=None):
        for stream in [name] if name else list(self._text):
            if self._text[stream]:
                text, self._text[stream] = self._text[stream], ""
                self._append({"output_type": "stream", "name": stream, "text": text})

    def _stream(self, name, original):
        sink = self

        class Stream:
            """Text goes to the widget; anything else (fileno, encoding, ...) is the original's."""

            def write(self, text):
                sink._text[name] += text
                if "\n" in text:
                    sink._flush(name)
                return len(text)

            def writelines(self, lines):
                for line in lines:
                    self.write(line)

            def flush(self):
                sink._flush(name)

            def isatty(self):
                return False

            def __getattr__(self, attr):
                return getattr(original, attr)

        return Stream()

    def _display(self, data, metadata):
        self._flush()
        self._append({"output_type": "display_data", "data": data, "metadata": metadata or {}})

    def _clear(self, wait):
        self._flush()
        if wait:
            self._fresh = True
        else:
            self.output.outputs = ()

    def _publisher(self):
        from IPython.core.displaypub import DisplayPublisher

        sink = self

        class Publisher(DisplayPublisher):
            def publish(self, data, metadata=None, source=None, *, transient=None,
                        update=False, **_):
                sink._display(data, metadata)

            def clear_output(self, wait=False):
                sink._clear(wait)

        return Publisher(shell=self._shell)

    def __enter__(self):
        from IPython import get_ipython

        self._saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = (self._stream("stdout", sys.stdout),
                                  self._stream("stderr", sys.stderr))
        self._shell = get_ipython()
        if self._shell is not None:
            self._saved_pub, self._shell.display_pub = self._shell.display_pub, self._publisher()
        return self

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self._saved
        if self._shell is not None:
            self._shell.display_pub = self._saved_pub
        self._flush()
        if self._fresh:                  # nothing was shown: the old outputs go
            self.output.outputs = ()
        return False


def _check_control_value(name, control, value):
    """Check ``value`` against what ``control`` allows (its options, its range, its type)
    before it is set: ipywidgets would clamp a slider value or fail with a TraitError."""
    from ipywidgets.widgets.widget_selection import _MultipleSelection, _Selection

    if isinstance(control, (_Selection, _MultipleSelection)):
        allowed = tuple(control._options_values)
        chosen = value if isinstance(control, _MultipleSelection) else (value,)
        if isinstance(control, _MultipleSelection) and not isinstance(value, (tuple, list)):
            raise TypeError(f"{name} must be a tuple of options; got {value!r}")
        for v in chosen:
            if not any(v is a or (type(v) is type(a) and v == a) for a in allowed):
                raise ValueError(f"{name} must be one of "
                                 f"{', '.join(repr(a) for a in allowed)}; got {v!r}")
        return tuple(value) if isinstance(control, _MultipleSelection) else value
    current = control.value
    if isinstance(current, bool):
        return check_bool(name, value)
    if isinstance(current, str):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string; got {value!r} ({type(value).__name__})")
        return value
    lo, hi = getattr(control, "min", None), getattr(control, "max", None)
    if isinstance(control, w.FloatLogSlider):
        lo, hi = control.base ** lo, control.base ** hi
    bounded = lo is not None and hi is not None
    lo = -math.inf if lo is None else lo
    hi = math.inf if hi is None else hi
    if isinstance(current, tuple):                       # range sliders: (lower, upper)
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise TypeError(f"{name} must be a (lower, upper) pair; got {value!r}")
        pair = tuple(_check_number(name, v, current[0], lo, hi, bounded) for v in value)
        if pair[0] > pair[1]:
            raise ValueError(f"{name} must be a (lower, upper) pair with lower <= upper; got "
                             f"{value!r}")
        return pair
    if isinstance(current, (int, float)):
        return _check_number(name, value, current, lo, hi, bounded)
    return value


def _check_number(name, value, current, lo, hi, bounded):
    if isinstance(current, int):
        if bounded:
            return check_int(name, value, low=lo, high=hi)
        return check_int(name, value)
    return check_fraction(name, value, low=lo, high=hi)


class Panel:
    """Controls + Run button + status line + output area around ``compute(**values)``.

    Parameters
    ----------
    controls : dict of str -> ipywidgets.ValueWidget
        Keyword name -> widget; ``compute`` receives the widgets' values by these names.
    compute : callable
        Does the work and draws into the current output (plots, prints); its return value is
        kept in ``panel.result``. Any exception it raises is shown in the output area and kept
        in ``panel.error``; the panel stays usable.
    title : str
    budget_s : float, optional
        Time budget printed in the status line ("done in 3.1 s (budget 5 s)").
    auto : bool
        Compute on every control change (for cheap computations) instead of waiting for Run.
    """

    def __init__(self, controls, compute, *, title="", budget_s=None, auto=False):
        if not isinstance(controls, dict):
            raise TypeError(f"controls must be a dict of name -> widget; got "
                            f"{type(controls).__name__}")
        for k, c in controls.items():
            if not isinstance(k, str) or not k.isidentifier():
                raise ValueError(f"controls must be keyed by keyword names; got {k!r}")
            if not isinstance(c, w.ValueWidget):
                raise TypeError(f"controls[{k!r}] must be an ipywidgets value widget (a slider, "
                                f"dropdown, ...); got {type(c).__name__}")
        if not callable(compute):
            raise TypeError(f"compute must be callable; got {type(compute).__name__}")
        try:
            inspect.signature(compute).bind(**{k: c.value for k, c in controls.items()})
        except TypeError as exc:
            raise TypeError(f"compute must accept the controls' names "
                            f"({', '.join(controls) or 'none'}) as keywords: {exc}") from None
        except ValueError:  # no signature (builtins): checked when it runs
            pass
        if not isinstance(title, str):
            raise TypeError(f"title must be a string; got {title!r}")
        if budget_s is not None:
            budget_s = check_fraction("budget_s", budget_s, low=0, high=math.inf, low_open=True)
        auto = check_bool("auto", auto)
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
        """Set control values by name; returns the panel.

        Every value is checked against its control first (a slider's range, a dropdown's
        options, the type), and nothing is set if one is wrong: unknown names raise
        ``KeyError``, bad values ``ValueError``/``TypeError`` naming the control, the value and
        what it allows.
        """
        checked = {}
        for k, v in values.items():
            if k not in self.controls:
                raise KeyError(f"no control named {k!r}; controls: {', '.join(self.controls)}")
            checked[k] = _check_control_value(k, self.controls[k], v)
        for k, v in checked.items():
            try:
                self.controls[k].value = v
            except TraitError as exc:
                raise ValueError(f"{k} cannot be set to {v!r}: {exc}") from None
        return self

    def run(self):
        """Compute with the current values, drawing into the output area; return the result.

        Whatever ``compute`` raises is caught and shown (``panel.error``); the status line
        never stays at *recomputing...*.
        """
        import matplotlib.pyplot as plt

        self.button.disabled = True
        self._set_status("recomputing...", "#0072B2")
        self.error = None
        settled = False
        t = time.perf_counter()
        with _OutputSink(self.output):
            try:
                self.result = self.compute(**self.values())
                plt.show()
                dt = time.perf_counter() - t
                budget = f" (budget {self.budget_s:g} s)" if self.budget_s else ""
                self._set_status(f"done in {dt:.1f} s{budget}", "#009E73")
                settled = True
            except KeyboardInterrupt:
                self.error = KeyboardInterrupt()
                print("interrupted: nothing was kept; press Run to start again")
                self._set_status("interrupted", "#D55E00")
                settled = True
            except Exception as exc:  # noqa: BLE001 - any error of compute is shown, not raised
                self.error = exc
                kind = "" if isinstance(exc, (ValueError, TypeError)) else f"{type(exc).__name__}: "
                print(f"error: {kind}{exc}")
                self._set_status("error: see below; change the settings and press Run", "#D55E00")
                settled = True
            finally:
                self.button.disabled = False
                if not settled:  # SystemExit and the like: say so, then let it propagate
                    self._set_status("stopped: the computation was aborted; press Run", "#D55E00")
        return self.result

    def check_with(self, **values):
        """Run the panel at ``values`` as a learner would (set the controls, press Run), then
        put it back: the controls at their values before, the output and status as they were
        (computed again from the engine's cache, or "not run yet" when it had not run). For
        self-check cells, so Run All leaves every widget where the text says.

        Returns
        -------
        result, error
            What ``compute`` returned at ``values`` (None when it raised) and what it raised
            there (None if nothing).

        Examples
        --------
        >>> # result, error = panel.check_with(salience=0.8); assert error is None
        """
        before, ran = self.values(), self.result is not None or self.error is not None
        try:
            self.set(**values)
            result, error = self.run(), self.error
            if error is not None:             # run() keeps the last good result: not this one
                result = None
        finally:
            for k, v in before.items():                      # no "stale" status on the way back
                c = self.controls[k]
                c.unobserve(self._changed, names="value")
                c.value = v
                c.observe(self._changed, names="value")
        if ran:
            self.run()
        else:
            self.result = self.error = None
            self.output.outputs = ()
            self._set_status("not run yet: press Run" if not self.auto else "")
        return result, error

    def _ipython_display_(self):
        display(self.box)


__all__ = ["Panel", "slider"]
