import ipywidgets as w
import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

from spurlab import preset, run  # noqa: E402
from spurlab.exercises import check  # noqa: E402
from spurlab.plotting import OKABE_ITO, bars_with_spread, gallery, plot_result  # noqa: E402
from spurlab.widgets import Panel, slider  # noqa: E402


def _panel(fn=lambda x: x * 2):
    return Panel({"x": slider("x", 1.0, 0.0, 2.0, 0.1)}, fn, title="t", budget_s=5)


def test_panel_states_and_result():
    p = _panel()
    assert "not run yet" in p.status.value
    assert p.run() == 2.0 and "done in" in p.status.value and "budget 5" in p.status.value
    p.set(x=1.5)
    assert "stale" in p.status.value
    assert p.run() == 3.0
    with pytest.raises(KeyError, match="no control named"):
        p.set(y=1)


def test_panel_shows_errors_and_stays_usable():
    def compute(x):
        if x > 1:
            raise ValueError(f"x must be at most 1; got {x}")
        return x

    p = _panel(compute)
    p.set(x=1.5).run()
    assert isinstance(p.error, ValueError) and "error" in p.status.value
    assert not p.button.disabled
    assert p.set(x=0.5).run() == 0.5 and p.error is None


def test_panel_interrupt_is_caught():
    def compute(x):
        raise KeyboardInterrupt

    p = _panel(compute)
    p.run()
    assert isinstance(p.error, KeyboardInterrupt) and "interrupted" in p.status.value


def test_panel_output_goes_into_the_widget_state_without_the_capture_protocol():
    """Printed text lands in the Output widget's ``outputs`` (a plain state update), and the
    widget's ``msg_id`` (the capture protocol whose echo stalls nbclient) is never set."""
    import sys

    def compute(x):
        print("takeaway:", x)
        print("partial", end="")
        sys.stdout.writelines([" line\n"])
        assert sys.stdout.encoding == before[0].encoding     # the rest is the real stream's
        assert sys.stdout.fileno == before[0].fileno
        return x

    p = _panel(compute)
    ids = []
    p.output.observe(lambda ch: ids.append(ch["new"]), names="msg_id")
    before = sys.stdout, sys.stderr
    assert p.run() == 1.0
    assert (sys.stdout, sys.stderr) == before
    assert ids == []
    assert [o["output_type"] for o in p.output.outputs] == ["stream"]
    assert p.output.outputs[0]["text"] == "takeaway: 1.0\npartial line\n"
    p.set(x=0.5).run()                                   # a new run replaces the old outputs
    assert p.output.outputs[0]["text"].startswith("takeaway: 0.5")
    assert len(p.output.outputs) == 1

    p2 = _panel(lambda x: 1 / 0)                         # an error is shown there too
    p2.run()
    assert (sys.stdout, sys.stderr) == before
    assert "division by zero" in "".join(o["text"] for o in p2.output.outputs)
    p3 = _panel(lambda x: x)                             # nothing printed: the area is empty
    p3.output.outputs = ({"output_type": "stream", "name": "stdout", "text": "old"},)
    p3.run()
    assert p3.output.outputs == ()


def test_panels_run_under_nbclient_with_their_output_in_the_widgets(tmp_path):
    """What nbconvert --execute, papermill and Voila do: nbclient over its default transport
    (TCP). Each panel's printed text and figure end up in its Output widget's saved state."""
    pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    from nbformat.v4 import new_code_cell, new_notebook

    cells = [new_code_cell("import matplotlib.pyplot as plt\n"
                           "from spurlab.widgets import Panel, slider\n"
                           "def f(x):\n"
                           "    print('first', x)\n"
                           "    plt.plot([0, x]); plt.title('t'); plt.show()\n"
                           "    print('takeaway', x)\n"
                           "    return x")]
    cells += [new_code_cell(f"p = Panel({{'x': slider('x', 0.{i}, 0, 1, 0.1)}}, f)\n"
                            f"display(p); p.run()") for i in range(1, 5)]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute(
        env={**__import__("os").environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline"})
    states = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [m["state"]["outputs"] for m in states.values() if m["model_name"] == "OutputModel"]
    assert len(outputs) == 4
    for i, outs in zip(range(1, 5), sorted(outputs, key=lambda o: o[0]["text"])):
        assert [o["output_type"] for o in outs] == ["stream", "display_data", "stream"]
        assert outs[0]["text"] == f"first 0.{i}\n" and outs[2]["text"] == f"takeaway 0.{i}\n"
        assert "image/png" in outs[1]["data"]
    for cell in nb.cells[1:]:                          # nothing leaked into the cells' own outputs
        assert not [o for o in cell.outputs if o.get("name") == "stdout"
                    or "image/png" in o.get("data", {})]


def test_auto_panel_recomputes_on_change():
    calls = []
    p = Panel({"x": w.IntSlider(value=1)}, lambda x: calls.append(x) or x, auto=True)
    p.set(x=3)
    assert calls == [3] and p.result == 3


def test_plot_helpers_draw_labelled_figures():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    means = bars_with_spread(ax, ["a", "b"], [[1, 2, 3], [2, 2, 2]], ylabel="y", title="T")
    assert means == [2.0, 2.0] and ax.get_ylabel() == "y" and ax.get_title() == "T"
    g = gallery(torch.rand(5, 1, 8, 8), titles=list("abcde"), edge_colors=[OKABE_ITO[0]] * 5,
                ncols=3, title="G")
    assert g._suptitle.get_text() == "G" and len(g.axes) == 6
    plt.close("all")


def test_plot_result_takeaway_uses_the_numbers():
    cfg = preset("quick", n_train=300, n_test=120, epochs=1, score_epoch=1)
    r = run(cfg, arms=["hardest"], reference=False)
    fig, take = plot_result(r)
    assert f"{r.baseline.smr:.1%}" in take and "hardest" in take
    assert all(a.get_ylabel() for a in fig.axes) and all(a.get_title() for a in fig.axes)


def test_exercise_check_pass_stub_and_wrong(capsys):
    ref = np.square
    cases = [(np.array([1.0, 2.0]),), (np.array([-3.0]),)]
    assert check(np.square, ref, cases, name="square", hint="multiply x by itself")
    assert "pass" in capsys.readouterr().out

    def stub(x):
        raise NotImplementedError("Exercise")

    assert not check(stub, ref, cases, name="square", hint="h")
    assert "not done yet" in capsys.readouterr().out
    assert not check(lambda x: x * 2, ref, cases, name="square", hint="multiply x by itself")
    out = capsys.readouterr().out
    assert "hint" in out and "multiply" in out
    assert not check(lambda x: 1 / 0, ref, cases, name="square", hint="h")
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_a_self_check_puts_the_panel_back_where_the_learner_left_it():
    calls = []

    def fn(x):
        calls.append(x)
        if x > 1.5:
            raise ValueError("x too big")
        print(f"x = {x}")
        return x * 2

    p = Panel({"x": slider("x", 1.0, 0.0, 2.0, 0.1)}, fn)
    result, error = p.check_with(x=0.5)                  # never run before: back to "not run yet"
    assert (result, error) == (1.0, None) and calls == [0.5]
    assert p.values() == {"x": 1.0} and p.result is None and p.output.outputs == ()
    assert "not run yet" in p.status.value
    p.run()
    shown = p.output.outputs
    result, error = p.check_with(x=1.8)                  # its error is returned, not left behind
    assert result is None and isinstance(error, ValueError) and "too big" in str(error)
    assert p.values() == {"x": 1.0} and p.error is None and p.result == 2.0
    assert p.output.outputs == shown and "stale" not in p.status.value
    assert calls == [0.5, 1.0, 1.8, 1.0]
    with pytest.raises(KeyError, match="no control named 'y'"):
        p.check_with(y=1)
    assert p.values() == {"x": 1.0}
