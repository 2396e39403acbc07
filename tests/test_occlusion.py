"""The occlusion study (stsrn_lite.book.occlusion): test sets with controlled occlusion, the
two-camera test on them, and what the STSM does to occluded frames."""

from __future__ import annotations

import pytest
import torch

from stsrn_lite.book import occlusion
from stsrn_lite.book.session import setup
from stsrn_lite.model import STSRN
from stsrn_lite.model.presets import preset
from stsrn_lite.training.config import TrainConfig


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The smoke profile in a home of its own, its occluded iLIDS-VID sets cut to 12 identities
    of at most 24 frames (the smoke size's 40 of 48 took 97 s of this test)."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STSRN_HOME", str(home))
        patch.setattr(
            occlusion, "SIZES", {**occlusion.SIZES, "smoke": {"ilids-vid": {"identities": 12, "max_length": 24}}}
        )
        yield setup("smoke")


def test_the_occluded_sets_cover_the_share_asked_and_test_like_the_plain_one(smoke):
    torch.manual_seed(0)
    model = STSRN(preset("STSRN", num_classes=20)).eval()
    config = TrainConfig(dataset="ilids-vid")  # what a run trained on fold 0 says of itself
    half, data, flags = occlusion.under_occlusion(smoke, model, config, 0.5)
    none, _, none_flags = occlusion.under_occlusion(smoke, model, config, 0.0)
    assert 0.4 <= half["occluded_share"] <= 0.51 and none["occluded_share"] == 0.0
    assert not any(f.any() for f in none_flags)
    assert 0 <= half["rank1"] <= 100 and set(half) >= {"rank1", "mAP", "fraction"}
    tested = occlusion.test_tracklets(data)
    assert len(tested) == 2 * len(data.test_pids)  # both cameras of every test identity
    assert str(data.dataset.root).endswith("synthetic-occluded-50/ilids-vid")

    model.stsm.w.data.fill_(0.0)  # ω = 0: the STSM leaves every frame where it was
    assert occlusion.gate_effect(model, data, flags, "mclaughlin")["occluded_ratio"] == pytest.approx(1.0)
    model.stsm.w.data.fill_(0.5)
    moved = occlusion.gate_effect(model, data, flags, "mclaughlin")
    assert moved["tracklets"] > 0 and moved["occluded_ratio"] != pytest.approx(1.0)
    with pytest.raises(ValueError, match="STSM"):
        occlusion.gate_effect(STSRN(preset("CNN-RNN", num_classes=20)), data, flags, "mclaughlin")
    # the study: one row per share, the test's figures and, with an STSM, the gate's
    (row,) = occlusion.study(smoke, model, config, fractions=(0.5,))
    assert row["fold"] == 0 and row["occluded_share"] == half["occluded_share"]
    assert {key: row[key] for key in moved} == moved  # the gate as it is now, ω = 0.5
    (plain,) = occlusion.study(smoke, STSRN(preset("CNN-RNN", num_classes=20)).eval(), config, fractions=(0.0,))
    assert set(plain) == {"fold", *none} and "occluded_ratio" not in plain


def test_the_real_data_has_no_occluded_sets(tmp_path):
    session = setup("paper", data_root=str(tmp_path), device="cpu")
    with pytest.raises(ValueError, match="synthetic benchmark"):
        occlusion.occluded_root(session, "ilids-vid", 0.25)


def test_the_stsm_effect_pairs_the_models_fold_by_fold_at_each_share():
    def rows(preset, values, fraction):
        return [
            {"dataset": "ilids-vid", "preset": preset, "fold": k, "fraction": fraction, "rank1": v}
            for k, v in enumerate(values)
        ]

    found = (
        rows("Double+TemRes+STSM", [60, 62, 64], 0.0)
        + rows("Double+TemRes", [59, 63, 64], 0.0)
        + rows("Double+TemRes+STSM", [40, 42, 44], 0.5)
        + rows("Double+TemRes", [30, 31, 35], 0.5)
        + rows("Base+TemRes+STSM", [50], 0.5)  # its partner is missing: no line
    )
    effects = {e["fraction"]: e for e in occlusion.stsm_effects(found)}
    assert set(effects) == {0.0, 0.5}
    assert effects[0.5]["pair"] == "Double+TemRes+STSM − Double+TemRes" and effects[0.5]["effect"] == 10.0
    assert effects[0.5]["verdict"] == "supported" and effects[0.0]["verdict"] == "inconclusive"
    assert effects[0.5]["retried"] == ""  # rows without a recipe: nothing to name


def test_a_pair_with_a_model_trained_again_after_diverging_names_that_fold():
    def rows(preset, recipes):
        return [
            {"dataset": "ilids-vid", "preset": preset, "fold": k, "fraction": 0.25, "rank1": 50.0, "recipe": r}
            for k, r in enumerate(recipes)
        ]

    found = (
        rows("Double+TemRes+STSM", ["fast", "fast", "fast-stable"])
        + rows("Double+TemRes", ["fast", "fast-stable", "fast-stable"])
        + rows("Base+TemRes+STSM", ["fast"] * 3)
        + rows("Base+TemRes", ["fast"] * 3)
    )
    effects = {e["pair"]: e["retried"] for e in occlusion.stsm_effects(found)}
    assert effects == {
        "Double+TemRes+STSM − Double+TemRes": (
            "fold 1: Double+TemRes fast-stable; "
            "fold 2: Double+TemRes+STSM fast-stable; fold 2: Double+TemRes fast-stable"
        ),
        "Base+TemRes+STSM − Base+TemRes": "",
    }
    # a profile that trains the fallback recipe from the start has no retries
    steady = [{**row, "recipe": "fast-stable"} for row in found]
    assert {e["retried"] for e in occlusion.stsm_effects(steady)} == {""}
