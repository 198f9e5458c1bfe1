"""Waterbirds by hand: the loader, its errors, the catalog and `spurlab reproduce waterbirds`,
offline, on a tiny folder in the real (group_DRO / WILDS) layout."""

import csv
import json
import os

import numpy as np
import pytest
import torch

import spurlab
from spurlab import waterbirds
from spurlab.cli import main
from spurlab.waterbirds import (
    ARCHIVE,
    COLUMNS,
    FOLDER_NAMES,
    find_waterbirds,
    load_waterbirds,
    read_metadata,
    stratified_subset,
)

from .test_real_datasets import no_network  # noqa: F401  (autouse fixture: no network)

# images per group (landbird/land, landbird/water, waterbird/land, waterbird/water) per split;
# every group in every split, the training split skewed like the real one (groups 0 and 3)
COUNTS = {0: (12, 3, 3, 10), 1: (2, 2, 2, 2), 2: (4, 4, 4, 4)}
SPECIES = {0: ("094.White_breasted_Nuthatch", "White_Breasted_Nuthatch"),
           1: ("001.Black_footed_Albatross", "Black_Footed_Albatross")}


def write_waterbirds(root, folder=FOLDER_NAMES[0], counts=COUNTS, columns=COLUMNS, edit=None):
    """Waterbirds' metadata.csv and JPEGs (in species folders) under ``root/folder``; ``edit``
    may change the rows (list of dicts) before they are written. Returns the folder."""
    from PIL import Image

    base = os.path.join(root, folder)
    rng = np.random.default_rng(0)
    rows = []
    for split, per_group in counts.items():
        for g, n in enumerate(per_group):
            y, place = g // 2, g % 2
            sub, name = SPECIES[y]
            for _ in range(n):
                i = len(rows) + 1
                fn = f"{sub}/{name}_{i:04d}_{100 + i}.jpg"
                rows.append({"img_id": i, "img_filename": fn, "y": y, "split": split,
                             "place": place, "place_filename": f"/o/ocean/{i:08d}.jpg"})
                path = os.path.join(base, fn)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                w, h = (30, 22) if i % 2 else (22, 26)      # sizes differ, as in CUB
                arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                arr[..., 2] = 200 * place                   # the background: blue water
                arr[h // 3: 2 * h // 3, w // 3: 2 * w // 3, 0] = 220 * y   # the bird
                Image.fromarray(arr).save(path, quality=90)
    if edit is not None:
        rows = edit(rows)
    with open(os.path.join(base, "metadata.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return base


@pytest.fixture(scope="module")
def wb_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("wb")
    write_waterbirds(root)
    return str(root)


def test_load_splits_shapes_labels_and_groups(wb_root):
    train, val, test = load_waterbirds(wb_root, size=16)
    for ds, split in ((train, 0), (val, 1), (test, 2)):
        assert ds.images.shape == (sum(COUNTS[split]), 3, 16, 16)
        assert ds.images.dtype == torch.float32
        assert 0 <= float(ds.images.min()) and float(ds.images.max()) <= 1
        assert ds.classes == ("landbird", "waterbird") and ds.name == "waterbirds"
        g = ds.meta["groups"]
        assert g.bincount(minlength=4).tolist() == list(COUNTS[split])
        assert (ds.labels == g // 2).all()
    # groups = 2 * y + place, row by row of metadata.csv
    meta = read_metadata(find_waterbirds(wb_root))
    idx = np.array(train.meta["index"])
    assert (meta["split"][idx] == 0).all()
    assert train.meta["groups"].tolist() == (2 * meta["y"][idx] + meta["place"][idx]).tolist()
    # the background survives the resize: water images are bluer
    water = (train.meta["groups"] % 2).bool()
    blue = train.images[:, 2].mean((1, 2))
    assert blue[water].min() > blue[~water].max()


def test_split_sizes_uint8_and_no_val(wb_root):
    train, val, test = load_waterbirds(wb_root, size=8, split_sizes={"train": 10, "test": 8},
                                       dtype="uint8", val=False)
    assert val is None and train.images.dtype == torch.uint8
    assert len(train) == 10 and len(test) == 8
    # every group keeps its share (largest remainder): 28 -> 10 of (12, 3, 3, 10)
    assert train.meta["groups"].bincount(minlength=4).tolist() == [4, 1, 1, 4]
    assert test.meta["groups"].bincount(minlength=4).tolist() == [2, 2, 2, 2]
    again, _, _ = load_waterbirds(wb_root, size=8, split_sizes=(10, None, 8), val=False)
    assert again.meta["index"] == train.meta["index"]          # same seed, same subset
    other, _, _ = load_waterbirds(wb_root, size=8, split_sizes=(10, None, 8), val=False, seed=3)
    assert other.meta["index"] != train.meta["index"]


def test_stratified_subset_keeps_shares():
    g = np.repeat([0, 1, 2, 3], [70, 5, 5, 20])
    s = stratified_subset(np.arange(100), g, 20, np.random.default_rng(0))
    assert len(s) == 20 and np.bincount(g[s], minlength=4).tolist() == [14, 1, 1, 4]
    assert len(stratified_subset(np.arange(100), g, None, np.random.default_rng(0))) == 100


@pytest.mark.parametrize("folder", [*FOLDER_NAMES, ""])
def test_both_folder_names_and_the_folder_itself(tmp_path, folder):
    base = write_waterbirds(tmp_path, folder=folder, counts={0: (1, 1, 1, 1), 2: (1, 1, 1, 1)})
    assert os.path.samefile(find_waterbirds(tmp_path), base)
    train, val, test = load_waterbirds(str(tmp_path), size=8, val=False)
    assert len(train) == 4 and len(test) == 4 and val is None


def _message(excinfo):
    return str(excinfo.value)


def test_missing_folder_names_it_and_the_manual_steps(tmp_path):
    root = tmp_path / "nowhere"
    for call in (lambda: load_waterbirds(str(root)),
                 lambda: spurlab.fetch("waterbirds", root=str(root)),
                 lambda: spurlab.load_dataset("waterbirds", root=str(root))):
        with pytest.raises(FileNotFoundError) as e:
            call()
        msg = _message(e)
        assert str(root) in msg and "does not exist" in msg and "metadata.csv" in msg
        for step in (ARCHIVE, "group_DRO", "waterbirds_v1.0", "wilds", "tar -xzf",
                     "no download"):
            assert step in msg, step
    assert "no download" in waterbirds.__doc__ and ARCHIVE in waterbirds.__doc__


def test_missing_columns_are_named(tmp_path):
    write_waterbirds(tmp_path, counts={0: (1, 1, 1, 1)},
                     columns=[c for c in COLUMNS if c != "place"])
    with pytest.raises(ValueError, match="lacks the column.*place") as e:
        load_waterbirds(str(tmp_path))
    assert ",".join(COLUMNS) in _message(e)


def test_bad_values_are_named(tmp_path):
    def bad_y(rows):
        rows[2]["y"] = 2
        return rows

    write_waterbirds(tmp_path, counts={0: (1, 1, 1, 1)}, edit=bad_y)
    with pytest.raises(ValueError, match=r"column y must be one of 0, 1; 1 row\(s\) are not, the "
                                         r"first on line 4 \(value '2'\)"):
        load_waterbirds(str(tmp_path))


def test_bad_split_value(tmp_path):
    def bad_split(rows):
        rows[0]["split"] = "x"
        return rows

    write_waterbirds(tmp_path, counts={0: (1, 1, 1, 1)}, edit=bad_split)
    with pytest.raises(ValueError, match="column split must be one of 0, 1, 2"):
        load_waterbirds(str(tmp_path))


@pytest.mark.parametrize("where", ["../../outside.jpg", "{abs}", "species/../../x.jpg", "link/x.jpg"])
def test_images_outside_the_folder_are_refused(tmp_path, where):
    """A row naming a file outside the dataset folder (absolute, '..', or through a link) is
    refused before any image is read, so nothing from elsewhere is trained on."""
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"not an image of the dataset")
    data = tmp_path / "data"

    def point_outside(rows):
        rows[1]["img_filename"] = where.format(abs=str(outside))
        return rows

    base = write_waterbirds(data, counts={0: (1, 1, 1, 1)}, edit=point_outside)
    os.symlink(tmp_path, os.path.join(base, "link"))
    with pytest.raises(ValueError, match=r"img_filename must name images inside .*1 row\(s\) do "
                                         r"not, the first on line 3"):
        load_waterbirds(str(data))
    with pytest.raises(ValueError, match="inside"):
        spurlab.fetch("waterbirds", root=str(data))


def test_missing_image_named_with_the_count(tmp_path):
    base = write_waterbirds(tmp_path, counts={0: (2, 1, 1, 2), 1: (1, 1, 1, 1), 2: (1, 1, 1, 1)})
    meta = read_metadata(base)
    val_row = int(np.flatnonzero(meta["split"] == 1)[0])
    os.remove(os.path.join(base, meta["files"][val_row]))
    # only the rows used are checked: without the validation split the load succeeds
    train, val, test = load_waterbirds(str(tmp_path), size=8, val=False)
    assert val is None and len(train) == 6
    with pytest.raises(FileNotFoundError) as e:
        load_waterbirds(str(tmp_path), size=8)
    msg = _message(e)
    assert "1 of the 14 Waterbirds images needed are missing" in msg
    assert meta["files"][val_row] in msg and ARCHIVE in msg
    with pytest.raises(FileNotFoundError, match="1 of the 14"):
        spurlab.fetch("waterbirds", root=str(tmp_path))      # checks every image, downloads none


@pytest.mark.parametrize("kwargs,exc,words", [
    ({"size": 4}, ValueError, "size must be an integer in [8, 512], got 4"),
    ({"size": 1000}, ValueError, "size must be an integer in [8, 512], got 1000"),
    ({"size": "32"}, TypeError, "size must be an integer, got '32'"),
    ({"dtype": "float16"}, ValueError, "dtype must be one of"),
    ({"split_sizes": {"training": 5}}, ValueError, "split_sizes keys must be among"),
    ({"split_sizes": (5, 5)}, TypeError, "split_sizes must be None, a dict"),
    ({"split_sizes": {"train": 0}}, ValueError, "split_sizes['train'] must be an integer in"),
    ({"seed": -1}, ValueError, "seed must be"),
])
def test_bad_arguments_name_parameter_value_and_allowed(wb_root, kwargs, exc, words):
    with pytest.raises(exc) as e:
        load_waterbirds(wb_root, **kwargs)
    assert words in _message(e)


def test_catalog_load_dataset_class_names_and_fetch(wb_root):
    assert spurlab.class_names("waterbirds") == ("landbird", "waterbird")
    assert spurlab.fetch("waterbirds", root=wb_root) == wb_root
    train, test = spurlab.load_dataset("waterbirds", root=wb_root, size=16, n_train=None,
                                       n_test=None)
    assert len(train) == sum(COUNTS[0]) and len(test) == sum(COUNTS[2])
    assert train.images.shape[1:] == (3, 16, 16)
    assert train.meta["groups"].bincount(minlength=4).tolist() == list(COUNTS[0])
    small, _ = spurlab.load_dataset("waterbirds", root=wb_root, size=16, n_train=14, n_test=8)
    assert len(small) == 14
    with pytest.raises(ValueError, match="n_train must be an integer in"):
        spurlab.load_dataset("waterbirds", root=wb_root, n_train=0)


def test_scenario_carriers_are_the_spurious_aligned_groups(wb_root):
    from spurlab import build_scenario, preset

    cfg = preset("smoke", dataset="waterbirds", n_test=16, image_size=8)
    sc = build_scenario(cfg, root=wb_root)
    g = sc.train_groups
    assert g.bincount(minlength=4).tolist() == list(COUNTS[0])
    assert (sc.carrier == ((g == 0) | (g == 3))).all()              # the oracle's pool
    assert sc.target_class == 1 and sc.group_test_groups.bincount().tolist() == [4, 4, 4, 4]
    # the "stamped" test set: landbirds on water
    assert len(sc.stamped_test) == 4 and (sc.stamped_test.labels == 0).all()
    # the reference trains on a group-balanced set: background independent of the label
    assert sc.clean_train.meta["groups"].bincount(minlength=4).tolist() == [3, 3, 3, 3]
    text = sc.describe()
    assert "water background" in text and "22 spurious-aligned" in text and "%" not in text
    with pytest.raises(ValueError, match="target_class must be 1 \\(waterbird\\)"):
        build_scenario(cfg.replace(target_class=0), root=wb_root)
    with pytest.raises(ValueError, match="placement must be 'random' for dataset 'waterbirds'"):
        build_scenario(cfg.replace(placement="hardest"), root=wb_root)


def test_another_data_folder_is_another_cache_key(tmp_path, monkeypatch):
    """Two Waterbirds folders under one config: the second is trained on, never answered with the
    first folder's numbers (in memory or from a shared disk cache)."""
    from spurlab import baseline, clear_cache, preset
    from spurlab.catalog import data_fingerprint

    cfg = preset("smoke", dataset="waterbirds", n_test=16, image_size=8, epochs=1, score_epoch=1)
    a, b = tmp_path / "a", tmp_path / "b"
    write_waterbirds(a)

    def swap_labels(rows):              # other images' roles: other data, same layout
        for r in rows:
            r["place"] = 1 - int(r["place"])
        return rows

    write_waterbirds(b, edit=swap_labels)
    assert data_fingerprint("waterbirds", str(a)) != data_fingerprint("waterbirds", str(b))
    cache = tmp_path / "cache"
    clear_cache()
    monkeypatch.setenv("SPURLAB_DATA", str(a))
    first = baseline(cfg, cache_dir=cache)
    assert first.seconds > 0 and baseline(cfg, cache_dir=cache).seconds == 0
    monkeypatch.setenv("SPURLAB_DATA", str(b))
    second = baseline(cfg, cache_dir=cache)
    assert second.seconds > 0, "the second folder was answered from the first one's cache"
    clear_cache()                                       # a new session: only the disk copy
    monkeypatch.setenv("SPURLAB_DATA", str(a))
    assert baseline(cfg, cache_dir=cache).metrics == first.metrics


def test_presets():
    from spurlab import preset

    full, quick = preset("waterbirds"), preset("waterbirds-quick")
    assert (full.dataset, full.target_class, full.image_size, full.model, full.pretrained) == (
        "waterbirds", 1, 224, "resnet50", True)
    assert full.score_epoch < full.epochs
    assert (quick.image_size, quick.model, quick.target_class) == (32, "tiny", 1)
    assert quick.n_train < full.n_train and quick.epochs <= 10
    assert preset("quick", dataset="waterbirds").target_class == 1


@pytest.mark.filterwarnings("ignore:the scoring model is degenerate")
def test_reproduce_waterbirds_quick_on_the_tiny_folder(wb_root, tmp_path, capsys):
    """`spurlab reproduce waterbirds --quick`: ERM, JTT and oracle pruning within the
    spurious-aligned groups, reported by worst-group accuracy (the quick preset on 28 training
    images: every model trains in well under a second)."""
    out = tmp_path / "out"
    assert main(["reproduce", "waterbirds", "--quick", "--prune-ratios", "0.25", "--out",
                 str(out), "--root", wb_root, "--quiet"]) == 0
    printed = capsys.readouterr().out
    doc = json.loads((out / "results.json").read_text())
    assert doc["setting"] == "waterbirds" and doc["mode"] == "quick"
    assert doc["headline"] == "worst_group_accuracy" and "QUICK" in doc["protocol"]
    arms = [r["arm"] for r in doc["runs"]]
    assert arms == ["baseline", "hardest", "random", "easiest", "hardest/oracle", "jtt"]
    for r in doc["runs"]:
        assert 0 <= r["worst_group_accuracy"] <= 1 and len(r["group_accuracy"]) == 4
        assert r["worst_group_accuracy"] == min(r["group_accuracy"])
        # named by the result's scenario: class + the attribute
        names = ("landbird", "landbird + water background", "waterbird",
                 "waterbird + water background")
        assert r["worst_group"] == names[r["group_accuracy"].index(r["worst_group_accuracy"])]
        assert "female_glasses_accuracy" not in r
    oracle = doc["runs"][arms.index("hardest/oracle")]
    n_train = sum(COUNTS[0])
    # a quarter of each class's aligned images, and only those: 3 of 12 landbirds on land,
    # 2 or 3 of 10 waterbirds on water
    assert oracle["carriers_pruned"] == n_train - oracle["n_kept"] in (5, 6)
    jtt = doc["runs"][arms.index("jtt")]
    assert jtt["prune_ratio"] == 0 and jtt["n_kept"] >= n_train
    for label in ("baseline (ERM)", "jtt", "hardest/oracle", "worst_group_accuracy"):
        assert label in printed, label
    assert (out / "results.png").exists()
