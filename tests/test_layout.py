"""The package's shape, checked: one concern per engine module, figures that only draw, no
module importing the package itself, every config knob in a cache key, every default read
from one table, every dataset name from one registry, and a README that lists every module."""

import ast
import dataclasses
import pathlib
import re

import pytest

import spurlab as sl
from spurlab.catalog import DATASETS, REGISTRY, STAMPED_DATASETS
from spurlab.config import KNOB_GROUPS
from spurlab.defaults import DEFAULTS

PKG = pathlib.Path(sl.__file__).parent
ROOT = PKG.parent
MODULES = sorted(p for p in PKG.rglob("*.py"))

# the engine and the record: one concern each, and small enough to read at once
ENGINE = ("config", "recipe", "build", "arms", "measure", "steps", "pipeline", "sweeps", "atlas", "atlasfile",
          "builds", "drivers", "datamodel", "driversbuild", "cache", "mechanism", "worst", "parts",
          "results", "verdicts")
# modules of the engine: a figure or a report is handed their output, never imports them
RUNS = {"recipe", "build", "measure", "steps", "pipeline", "sweeps", "builds", "driversbuild", "train",
        "multiseed", "identifiable", "reproduce"}


def _tree(path):
    return ast.parse(path.read_text(), str(path))


def _imported_modules(tree):
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            out.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("spurlab."):
            out.add(node.module.split(".")[1])
    return out


@pytest.mark.parametrize("name", ENGINE)
def test_no_engine_module_is_over_about_450_lines(name):
    lines = len((PKG / f"{name}.py").read_text().splitlines())
    assert lines <= 460, f"spurlab/{name}.py has {lines} lines: split it by concern"


@pytest.mark.parametrize("name", ["charts", "plotting", "report", "maps"])
def test_figures_and_reports_never_run_the_engine(name):
    tree = _tree(PKG / f"{name}.py")
    assert not (_imported_modules(tree) & RUNS), (name, _imported_modules(tree) & RUNS)
    called = {n.func.id if isinstance(n.func, ast.Name) else n.func.attr
              for n in ast.walk(tree) if isinstance(n, ast.Call)
              and isinstance(n.func, (ast.Name, ast.Attribute))}
    assert not called & {"build_scenario", "predict", "predict_logits", "fit", "train", "run",
                         "run_seeds", "baseline", "evaluate", "training_dynamics", "make_model",
                         "difficulty", "el2n"}, (name, called)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_module_imports_the_package_itself(path):
    if path == PKG / "__init__.py":
        return
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom):
            top = node.level == 1 and node.module is None and path.parent == PKG
            up = node.level == 2 and node.module is None
            assert not (top or up or node.module == "spurlab"), (
                f"{path.name} line {node.lineno} imports the spurlab package itself")
        if isinstance(node, ast.Import):
            assert all(a.name != "spurlab" for a in node.names), path.name


# the layers of the README's "Layout", bottom up
LAYERS = [
    {"defaults", "_validate", "stats", "_version", "files", "device"},
    {"datasets", "catalog", "real_datasets", "celeba", "waterbirds", "features", "scenario"},
    {"models", "train", "multiseed", "scores", "prune", "reweight", "metrics", "datamodel",
     "lastlayer", "attribution"},
    {"config", "verdicts", "drivers", "mechanism", "worst", "parts", "results", "flatten", "cache"},
    {"recipe", "build", "arms", "measure", "steps", "pipeline", "sweeps", "atlas", "atlasfile", "builds",
     "driversbuild", "explorable",
     "dynamics"},
    {"charts", "plotting", "report", "maps", "widgets", "playground", "explorer", "lesson",
     "exercises", "identifiable"},
    {"cli", "reproduce"},
]


def test_every_module_imports_only_from_its_layer_or_below():
    layer = {m: i for i, group in enumerate(LAYERS) for m in group}
    assert set(layer) == {p.stem for p in PKG.glob("*.py") if p.stem != "__init__"} | {"exercises"}
    up = []
    for path in MODULES:
        rel = path.relative_to(PKG)
        me = "exercises" if rel.parts[0] == "exercises" else path.stem
        if me == "__init__":
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module and node.level:
                other = node.module.split(".")[0]
                if other in layer and layer[other] > layer[me]:
                    up.append(f"{rel}:{node.lineno} imports {other} (layer {layer[other] + 1} > "
                              f"{layer[me] + 1})")
    assert not up, "\n".join(up)


def test_every_config_knob_is_in_a_cache_key_group():
    """Every step's cache key is built from these groups (spurlab.steps): a new knob that is in
    none of them would be missing from every key."""
    fields = {f.name for f in dataclasses.fields(sl.Config)}
    grouped = {k for g in KNOB_GROUPS.values() for k in g}
    assert fields == grouped, {"not in a group": fields - grouped, "not a knob": grouped - fields}


# parameter names that mean a DEFAULTS knob under another name
ALIASES = {"size": "image_size"}
# parameters named like a knob that mean something else, with why
NOT_THE_KNOB = {
    ("gallery", "size"): "inches per image", ("difficulty_grid", "size"): "inches per image",
    ("rows_gallery", "size"): "inches per image",
    ("load_celeba", "size"): "the loader's own side in pixels (64), not the tiny CNN's",
    ("load_waterbirds", "size"): "the loader's own side in pixels (64), not the tiny CNN's",
    ("worst_group", "model"): "a model of the result ('baseline'), not an architecture",
    ("worst_group_name", "model"): "a model of the result ('baseline'), not an architecture",
    ("group_accuracy_bars", "model"): "a model of the result ('baseline'), not an architecture",
    ("group_trajectories", "score"): "a dynamics score ('el2n' or 'confidence')",
    ("check_pruned_most", "prune_ratio"): "the ratio notebook 03's exercise is set at",
    ("check_backfire_pick", "prune_ratio"): "the atlas grid ratio notebook 07's exercise reads",
    ("__init__", "salience"): "a Pattern is drawn at full strength unless told otherwise",
}
# inference batch sizes (scoring, predicting): not the training batch size
INFERENCE = {"el2n", "loss_scores", "margin_scores", "grand", "__init__", "predict_logits",
             "predict_logits_seeds", "el2n_seeds", "penultimate"}


def test_every_default_is_read_from_the_one_table():
    """A public function's parameter named like a knob (seed, epochs, lr, image_size ...) takes
    its default from DEFAULTS (or None), never a literal that could drift from it."""
    bad = []
    for path in MODULES:
        for node in ast.walk(_tree(path)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if node.name.startswith("_") and node.name != "__init__":
                continue
            args = node.args
            pos = args.posonlyargs + args.args
            pairs = list(zip(pos[len(pos) - len(args.defaults):], args.defaults))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
            for arg, default in pairs:
                knob = ALIASES.get(arg.arg, arg.arg)
                if knob not in DEFAULTS or (isinstance(default, ast.Constant) and default.value is None):
                    continue
                if (node.name, arg.arg) in NOT_THE_KNOB or (arg.arg == "batch_size"
                                                             and node.name in INFERENCE):
                    continue
                reads = any(isinstance(n, ast.Name) and n.id == "DEFAULTS" for n in ast.walk(default))
                if not reads:
                    bad.append(f"{path.relative_to(PKG)}:{node.lineno} {node.name}({arg.arg}="
                               f"{ast.unparse(default)})")
    assert not bad, "defaults not read from DEFAULTS:\n" + "\n".join(bad)


def test_every_dataset_name_comes_from_one_registry(tmp_path):
    assert DATASETS == tuple(REGISTRY) and set(STAMPED_DATASETS) < set(DATASETS)
    for name in DATASETS:
        sl.Config(dataset=name)                                # the config accepts it
        assert sl.class_names(name) == REGISTRY[name].class_names
        for call in (lambda n=name: sl.load_dataset(n, n_train=60, n_test=60, root=tmp_path),
                     lambda n=name: sl.fetch(n, root=tmp_path)):
            try:
                call()
            except ValueError as exc:           # files missing is fine; the name must be known
                assert "dataset must be one of" not in str(exc), (name, exc)
            except (FileNotFoundError, ConnectionError, OSError, RuntimeError):
                pass
    with pytest.raises(ValueError, match="dataset must be one of"):
        sl.load_dataset("imagenet")


def test_the_readme_layout_lists_every_module():
    text = (ROOT / "README.md").read_text()
    layout = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([a-z_0-9]+)`", layout))
    modules = {p.stem for p in PKG.glob("*.py") if p.stem != "__init__"} | {"exercises"}
    assert modules <= named, f"README's Layout misses {sorted(modules - named)}"
