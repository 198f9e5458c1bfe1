"""Auto-checks for the notebooks' exercises (Neuromatch style).

Each exercise in a notebook is a function stub that raises ``NotImplementedError``; the cell
after it calls a checker from here, e.g. ``nb01.check_accuracy(accuracy)``, which runs the
learner's function on small cases, compares with spurlab's own implementation and prints
``pass`` or a hint. Checkers return ``True`` on pass, ``False`` otherwise; they never raise.
Solutions live in ``notebooks/solutions/``, out of the learner's way, and are tested to pass.
"""

from __future__ import annotations

import numpy as np
import torch


def _same(got, want, atol):
    if isinstance(want, (list, tuple)) and not isinstance(got, (list, tuple, np.ndarray,
                                                                  torch.Tensor)):
        return False
    g = got.detach().cpu().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    w = want.detach().cpu().numpy() if isinstance(want, torch.Tensor) else np.asarray(want)
    if g.shape != w.shape:
        return False
    if w.dtype == bool or np.issubdtype(w.dtype, np.integer):
        return bool(np.array_equal(g.astype(w.dtype), w))
    return bool(np.allclose(g.astype(float), w.astype(float), atol=atol, equal_nan=True))


def check(fn, reference, cases, *, name, hint, atol=1e-5):
    """Run ``fn(*case)`` against ``reference(*case)`` for every case; print pass or a hint.

    Parameters
    ----------
    fn : callable
        The learner's function.
    reference : callable
        The correct implementation.
    cases : list of tuple
        Arguments to try.
    name : str
        Exercise name, printed.
    hint : str or (str, str)
        Printed when an answer is wrong. A pair is a staged hint: the nudge after the first wrong
        try in a row, the fuller hint (which may spell the answer out) from the second on.
    """
    if isinstance(hint, tuple):
        nudge, full = hint
        _TRIES[name] = _TRIES.get(name, 0) + 1
        hint = (f"{nudge} (Run the check again after a change: a second wrong try shows a fuller "
                "hint.)" if _TRIES[name] == 1 else full)
    for i, case in enumerate(cases):
        try:
            got = fn(*case)
        except NotImplementedError:
            print(f"not done yet: {name} still raises NotImplementedError; replace that line "
                  "with your code and run the cell again.")
            _TRIES.pop(name, None)                      # a stub is not a wrong try
            return False
        except Exception as exc:  # the learner's code: report, never crash the notebook
            print(f"hint for {name}: your function raised {type(exc).__name__}: {exc}\n  {hint}")
            return False
        want = reference(*case)
        if not _same(got, want, atol):
            shown = got if np.size(np.asarray(got, dtype=object)) <= 8 else "(large)"
            print(f"hint for {name}: on test case {i + 1} you returned {shown}, expected "
                  f"{want if np.size(np.asarray(want, dtype=object)) <= 8 else '(large)'}.\n  {hint}")
            return False
    print(f"pass: {name} is correct on all {len(cases)} test cases.")
    _TRIES.pop(name, None)
    return True


_TRIES = {}             # wrong tries in a row, per exercise of check() (staged hints)


NOT_DONE = object()     # what call_answer returns when the learner's function gave no answer


def call_answer(answer, not_done, *args):
    """The learner's ``answer(*args)``, or :data:`NOT_DONE` after printing why there is none:
    ``not_done`` (the "not done yet" line) for a stub that still raises NotImplementedError,
    the error for any other exception. Never raises: a checker must not crash the notebook.

    Examples
    --------
    >>> def stub():
    ...     raise NotImplementedError
    >>> call_answer(stub, "not done yet: return a number.") is NOT_DONE
    not done yet: return a number.
    True
    >>> call_answer(lambda x: x + 1, "", 1)
    2
    """
    try:
        return answer(*args)
    except NotImplementedError:
        print(not_done)
    except Exception as exc:  # the learner's code: report, never crash the notebook
        print(f"hint: your function raised {type(exc).__name__}: {exc}")
    return NOT_DONE


def spelled(pick, spellings):
    """``pick`` as its canonical answer in ``spellings`` (keys: lower-case letters and digits
    only, so case, spaces and punctuation do not matter), or None when it is not one.

    Examples
    --------
    >>> spelled("Non-carriers", {"noncarriers": "non-carriers"}), spelled(3, {"3": "x"})
    ('non-carriers', None)
    """
    if not isinstance(pick, str):
        return None
    return spellings.get("".join(ch for ch in pick.lower() if ch.isalnum()))


def picked(answer, name, choices, spellings):
    """The learner's pick as one of ``choices`` (read through ``spellings``, see
    :func:`spelled`), or :data:`NOT_DONE` after printing why there is none: the stub's "not done
    yet" line, the error it raised, or the choices when the pick is none of them.

    Examples
    --------
    >>> picked(lambda: "Both", "which_line", ["A", "B", "both"], {"both": "both"})
    'both'
    >>> picked(lambda: "C", "which_line", ["A", "B"], {"a": "A"}) is NOT_DONE
    hint: return one of 'A', 'B'; got 'C'.
    True
    """
    listed = ", ".join(map(repr, choices))
    pick = call_answer(answer, f"not done yet: {name} still raises NotImplementedError; return "
                               f"one of {listed}.")
    if pick is NOT_DONE:
        return NOT_DONE
    choice = spelled(pick, spellings)
    if choice is None:
        print(f"hint: return one of {listed}; got {pick!r}.")
        return NOT_DONE
    return choice


def staged_hint(tries, nudge, idea, answer):
    """The second part of a hint after the ``tries``-th wrong answer in a row: the nudge, then
    the idea, then ``answer`` (the answer itself, spelled out)."""
    return (nudge, idea)[tries - 1] if tries <= 2 else answer
