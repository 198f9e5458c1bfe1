"""The notebook run times and memory peaks the README and the instructor guide quote are the ones
``python3 benchmarks/notebook_memory.py`` measured and wrote to benchmarks/notebook_memory.json
(a learner's first run: quick mode, nbclient, no disk cache, one notebook at a time)."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = json.loads((ROOT / "benchmarks" / "notebook_memory.json").read_text())


def seconds_text(s):
    """How the docs write a run time: '9 s', '48 s', '1 min 45 s'."""
    s = round(s)
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def gb_text(b):
    return f"{b / 1e9:.2f} GB"


def test_the_measurement_covers_this_series_at_a_commit():
    names = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    assert sorted(r["notebook"] for r in BENCH["rows"]) == names
    assert all(r["ok"] and r["peak_bytes"] for r in BENCH["rows"])
    assert BENCH["mode"] == "quick" and BENCH["disk_cache"] is None
    assert BENCH["git"] and not BENCH["git"]["dirty"], "measure a committed tree"


@pytest.mark.parametrize("doc", ["README.md", "docs/instructor.md"])
def test_the_notebook_tables_quote_the_measurement(doc):
    text = (ROOT / doc).read_text()
    for r in BENCH["rows"]:
        row = re.search(rf"^\| {r['notebook'][:2]} [^|]*\|.*$", text, re.M)
        assert row, f"{doc}: no table row for {r['notebook']}"
        cells = [c.strip() for c in row[0].strip().strip("|").split("|")]
        assert seconds_text(r["seconds"]) in cells, (doc, r["notebook"], cells)
        assert gb_text(r["peak_bytes"]) in cells, (doc, r["notebook"], cells)


def test_the_guides_per_notebook_sections_quote_it_too():
    text = (ROOT / "docs" / "instructor.md").read_text()
    quoted = re.findall(r"^Machine time (\d+ (?:min \d\d )?s) \(", text, re.M)
    assert quoted == [seconds_text(r["seconds"]) for r in sorted(BENCH["rows"],
                                                                   key=lambda r: r["notebook"])]


def _plan_minutes(path):
    """A notebook's learner time from its own plan: the stated total, else the plan table's sum."""
    nb = json.loads(path.read_text())
    text = "\n".join("".join(c["source"]) for c in nb["cells"][:3] if c["cell_type"] == "markdown")
    about = re.search(r"about (\d+) minutes", text)
    if about:
        return int(about[1])
    return sum(int(m) for m in re.findall(r"^\|[^|\n]+\|\s*(\d+) min\s*\|\s*$", text, re.M))


def test_the_guides_learner_times_are_the_notebooks_own_plans():
    text = (ROOT / "docs" / "instructor.md").read_text()
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        minutes = _plan_minutes(path)
        assert minutes > 0, f"{path.name}: no plan with minutes at its top"
        row = re.search(rf"^\| {path.name[:2]} [^|]*\|.*$", text, re.M)
        cells = [c.strip() for c in row[0].strip().strip("|").split("|")]
        assert cells[3].startswith(f"about {minutes} min"), (path.name, cells[3])


def test_the_gpu_figures_quoted_are_the_shipped_gpu_check():
    """The README and RESULTS.md quote benchmarks/gpu_check.json, the one GPU run on record."""
    gpu = json.loads((ROOT / "benchmarks" / "gpu_check.json").read_text())
    fig = gpu["figures"]
    assert gpu["dry_run"] is False and gpu["device"] == "cuda"
    assert all(r["ok"] for r in gpu["results"]), gpu["results"]
    n = len(gpu["results"])
    epoch = next(v for k, v in fig.items() if "the faster" in k)
    ips = f"{round(fig['ResNet-18 training throughput'], -2):,.0f} images/s"
    quoted = [f"{n} checks and claims passed in {fig['total wall time']:.0f} s",
              f"{fig['quick run: wall time']:.1f} s",
              f"{fig['packed speedup']:.1f}x", f"{epoch:.2f} s", ips]
    for doc in ("README.md", "benchmarks/RESULTS.md"):
        text = " ".join((ROOT / doc).read_text().split())
        for q in quoted:
            assert q in text, f"{doc} does not quote {q!r} from benchmarks/gpu_check.json"


def test_the_guides_expected_ranges_are_the_atlas_s():
    """docs/instructor.md's expected ranges are what scripts/expected_ranges.py computes from the
    shipped atlas (rerun it with --write after rebuilding the atlas)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("expected_ranges",
                                                  ROOT / "scripts" / "expected_ranges.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    guide = (ROOT / "docs" / "instructor.md").read_text()
    block = guide.split(mod.START, 1)[1].split(mod.END, 1)[0].strip()
    assert block == mod.table().strip()
    assert "| baseline (ERM) SMR |" in block and "p = 0.25" in block
    assert "The strong signal of notebooks 03-04" in block        # the 2-px layer is shipped


def test_the_readmes_reading_of_the_atlas_is_the_shipped_atlas_s():
    """The README's counts of the atlas's cells (learned, helps, no difference) at the notebooks'
    p = 0.25, per line thickness, and the strong signal's shares, are what the shipped atlas
    says by the one verdict rule."""
    import spurlab as sl
    from spurlab.flatten import effects_count

    atlas = sl.load_atlas()
    text = " ".join((ROOT / "README.md").read_text().split())
    counts = {t: effects_count(atlas.verdicts(0.25, thickness=t)) for t in (1, 2)}
    for t, word in ((1, "one-pixel"), (2, "two-pixel")):
        v = atlas.verdicts(0.25, thickness=t)
        learned = sum(e != "no shortcut" for e in v.values())
        helps = sum(e == "helps" for e in v.values())
        same = sum(e == "no difference" for e in v.values())
        assert f"{learned} " in text.split(f"with the {word} line a shortcut is learned in")[1][:4], counts
        after = text.split(f"with the {word} line")[1][:260]
        assert str(helps) in after and str(same) in after, (word, helps, same, after)
    point = atlas.point(1.0, 0.6, 0.25, thickness=2)
    cut = sum(r["carriers_pruned_hardest"] / r["carriers"] for r in point["rows"]) / len(point["rows"])
    point = point["arms"]
    quoted = (f"it cut {cut:.0%} of the carriers and "
              f"{point['hardest']['hard_removed']['mean']:.0%} of the hard ones, random pruning "
              f"{point['random']['hard_removed']['mean']:.0%} of the hard ones")
    assert quoted in text, quoted
