"""Trained weights (stsrn_lite.weights): exported from a run, loaded back as the same model, and
refused when they are not the preset asked for or not a weights file at all."""

from __future__ import annotations

import pytest
import torch

from stsrn_lite.weights import WeightsError, export_weights, load_weights, main, read_weights


@pytest.fixture
def run(tiny_run):
    return tiny_run


def test_exported_weights_load_back_as_the_trained_model(run, tmp_path):
    folder, trained = run
    path = export_weights(folder, tmp_path / "weights" / "stsrn.pt")
    model = load_weights(path, "STSRN")
    assert not model.training
    for (name, a), b in zip(trained.state_dict().items(), model.state_dict().values()):
        assert torch.equal(a.cpu(), b), name
    provenance = read_weights(path)["provenance"]
    assert provenance["data"] == "tiny synthetic" and provenance["epochs"] == 1 and provenance["fold"] == 0
    assert provenance["last_test"] == {"epoch": 1, "rank1": 50.0, "mAP": 60.0}
    assert provenance["recipe"] == "faithful"  # read from its training configuration (no run.json)
    assert path.stat().st_size < 2 * sum(t.numel() * 4 for t in trained.state_dict().values())  # no optimiser state


def test_weights_of_another_preset_or_no_weights_are_refused_in_one_line(run, tmp_path, capsys):
    folder, _ = run
    path = export_weights(folder, tmp_path / "stsrn.pt")
    with pytest.raises(WeightsError, match=r"stsrn\.pt: these are weights of 'STSRN'.*not of the preset 'CNN-RNN'"):
        load_weights(path, "CNN-RNN")
    (tmp_path / "junk.pt").write_bytes(b"not an archive")
    with pytest.raises(WeightsError, match=r"junk\.pt: not a weights file"):
        load_weights(tmp_path / "junk.pt", "STSRN")
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(WeightsError, match=r"other\.pt: not a weights file of format"):
        read_weights(tmp_path / "other.pt")
    assert main(["show", str(tmp_path / "junk.pt")]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ") and "junk.pt" in line
    assert main(["export", str(tmp_path / "nowhere"), str(tmp_path / "x.pt")]) == 2
    assert not (tmp_path / "x.pt").exists()


def test_committed_weights_are_found_by_dataset_preset_and_profile(tmp_path, monkeypatch):
    from stsrn_lite import weights

    monkeypatch.setattr(weights, "COMMITTED", tmp_path)
    assert weights.committed("ilids-vid", "STSRN") is None
    (tmp_path / "ilids-vid-STSRN-bench.pt").write_bytes(b"")
    assert weights.committed("ilids-vid", "STSRN") == tmp_path / "ilids-vid-STSRN-bench.pt"
    assert weights.committed("prid2011", "STSRN") is None


def test_each_committed_weights_file_is_a_filed_bench_run_of_its_name():
    from stsrn_lite.book.ledger import FOLDER, entries
    from stsrn_lite.book.profiles import DATASET_NAMES
    from stsrn_lite.weights import COMMITTED

    files = sorted(COMMITTED.glob("*-bench.pt"))
    if not files:
        pytest.skip(f"{COMMITTED}: no committed weights in this checkout")
    # the ledger committed beside the weights, wherever $STSRN_HOME points (a fresh clone's
    # `make test` with a home elsewhere once found no run here)
    ledger = COMMITTED.parent / "results" / "bench" / FOLDER
    filed = {repr(sorted(entry["training"].items())): entry["run"] for entry in entries(ledger)}
    for path in files:
        stem = path.name.removesuffix("-bench.pt")
        dataset = next(d for d in DATASET_NAMES if stem.startswith(f"{d}-"))
        preset = stem.removeprefix(f"{dataset}-")
        weights = read_weights(path)
        assert (weights["preset"], weights["provenance"]["dataset"]) == (preset, dataset), path.name
        training = weights["provenance"]["training"]
        assert repr(sorted(training.items())) in filed, f"{path.name}: no filed bench run trained as it was"
        load_weights(path, preset)  # the weights fit the preset's model


def test_weights_of_a_run_with_overrides_load_with_those_overrides(run, tmp_path):
    """A run that set ModelConfig fields (`TrainConfig.model_overrides`, e.g. the kernel reading)
    exports weights that differ from its preset; they load when the same overrides are asked for."""
    from dataclasses import asdict

    from stsrn_lite.model import STSRN, preset

    folder, _ = run
    weights = torch.load(export_weights(folder, tmp_path / "stsrn.pt"), weights_only=True)
    config = preset("STSRN", res_kernel=3, res_padding=2, num_classes=weights["model_config"]["num_classes"])
    torch.save({**weights, "model_config": asdict(config), "model": STSRN(config).state_dict()}, tmp_path / "k3.pt")
    with pytest.raises(WeightsError, match=r"weights of 'STSRN' with res_kernel=3, res_padding=2, not of the preset"):
        load_weights(tmp_path / "k3.pt", "STSRN")
    model = load_weights(tmp_path / "k3.pt", "STSRN", res_kernel=3, res_padding=2)
    assert model.config == config


def test_an_override_that_is_no_model_field_is_refused_naming_it(run, tmp_path):
    folder, _ = run
    path = export_weights(folder, tmp_path / "stsrn.pt")
    with pytest.raises(WeightsError, match=r"stsrn\.pt: res_kernal is not a ModelConfig field"):
        load_weights(path, "STSRN", res_kernal=3)
