"""Command lines built from the config dataclasses, the protocol dispatcher, the split seed and the
MARS reading of checkpoints from before those fields existed."""

import dataclasses
import typing
from pathlib import Path

import pytest

from stsrn_lite.data.tracklet import VideoReIDDataset
from stsrn_lite.evaluation import cli as evaluate_cli
from stsrn_lite.evaluation.dispatch import PROTOCOLS, check_mars_reading, default_protocol, evaluate_protocol
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.training import cli as train_cli
from stsrn_lite.training.checkpoint import CheckpointError, check_compatible
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.options import config_from_args, field_comments

REQUIRED = ["--dataset", "ilids-vid", "--root", "R", "--out", "O"]


def _other_value(field: dataclasses.Field, hint) -> tuple[list[str], object]:
    """Command-line words that set ``field`` to a value other than its default, and that value."""
    name = "--" + field.name.replace("_", "-")
    other = {
        "dataset": "mars",
        "preset": "CNN-RNN",
        "mode": "batched",
        "dampening": "pytorch",
        "positive_cost": "distance",
        "flow": "original",
        "prid_split_file": "splits.json",
        "normalisation": "standard",
        "temres_reading": "eq5",
        "omega_form": "sigmoid",
        "res_kernel": 7,
        "res_padding": 3,
        "mars_protocol": "official",
        "optimiser": "adam",
        "schedule": "cosine",
        "precision": "bf16",
        "fold": 3,
        "momentum": 0.5,  # below 1
    }
    if field.name in other:
        value = other[field.name]
    elif hint is bool:
        return [name if not field.default else "--no-" + name[2:]], not field.default
    elif hint is int:
        value = field.default + 7
    elif hint is float:
        value = field.default * 3 + 0.25
    else:
        raise AssertionError(f"no test value for {field.name}: {hint}")
    return [name, str(value)], value


def test_every_train_config_field_is_settable_from_the_command_line():
    hints = typing.get_type_hints(TrainConfig)
    fields = dataclasses.fields(TrainConfig)
    assert {"margin", "grad_clip", "sequence_length", "split_seed"} <= {f.name for f in fields}
    for field in fields:
        words, value = _other_value(field, hints[field.name])
        argv = [w for w in REQUIRED if field.name != "dataset" or w not in ("--dataset", "ilids-vid")] + words
        if field.name == "pairs_per_step":
            argv += ["--mode", "batched"]
        args = train_cli.parse_args(argv)
        config = config_from_args(TrainConfig, args)
        assert getattr(config, field.name) == value, field.name


def test_the_train_parser_defaults_are_the_dataclass_defaults():
    parser = train_cli.build_parser()
    for field in dataclasses.fields(TrainConfig):
        if field.default is not dataclasses.MISSING:
            assert parser.get_default(field.name) == field.default, field.name
    assert config_from_args(TrainConfig, train_cli.parse_args(REQUIRED)) == TrainConfig(dataset="ilids-vid")


def test_every_train_option_has_help_from_its_field_comment():
    comments = field_comments(TrainConfig)
    assert set(comments) == {f.name for f in dataclasses.fields(TrainConfig)}
    assert "Eq. (8)" in comments["margin"]
    help_text = train_cli.build_parser().format_help()
    assert "--grad-clip" in help_text and "(default: 5.0)" in help_text


def test_old_option_names_still_work_and_batched_mode_defaults_to_16_pairs():
    args = train_cli.parse_args(
        [*REQUIRED, "--mode", "batched", "--learning-rate", "0.01", "--skip-short", "--eval-tta", "--seed", "4"]
    )
    config = config_from_args(TrainConfig, args)
    assert (config.pairs_per_step, config.learning_rate, config.skip_short, config.eval_tta) == (16, 0.01, True, True)
    assert (config.seed, config.split_seed) == (4, 1)
    explicit = train_cli.parse_args([*REQUIRED, "--mode", "batched", "--pairs-per-step", "5"])
    assert explicit.pairs_per_step == 5
    assert train_cli.parse_args(REQUIRED).pairs_per_step == 1


def test_the_evaluate_options_are_the_test_config_fields():
    parser = evaluate_cli.build_parser()
    base = ["--checkpoint", "c.pt", "--dataset", "mars", "--root", "R"]
    assert config_from_args(TestConfig, parser.parse_args(base)) == TestConfig()
    args = parser.parse_args([*base, "--no-tta", "--length", "64", "--batch-sequences", "4"])
    assert config_from_args(TestConfig, args) == TestConfig(length=64, tta=False, batch_sequences=4)


def test_default_protocols():
    assert default_protocol("ilids-vid", "ilids-vid") == "two-camera"
    assert default_protocol("prid2011", "prid2011") == "two-camera"
    assert default_protocol("ilids-vid", "prid2011") == "cross-dataset"
    assert default_protocol("mars", "mars", mars_protocol="astpn") == "two-camera"
    assert default_protocol("mars", "mars", mars_protocol="official") == "mars-standard"
    assert default_protocol("ilids-vid", "mars") == "mars-standard"
    with pytest.raises(ValueError, match="depends on its mars_protocol"):
        default_protocol("mars", "mars")
    with pytest.raises(ValueError, match="trained on prid2011 tested on ilids-vid"):
        default_protocol("prid2011", "ilids-vid")
    assert set(PROTOCOLS) == set(evaluate_cli.build_parser()._option_string_actions["--protocol"].choices) - {"auto"}


def test_evaluate_protocol_refuses_unknown_names_and_missing_pids():
    with pytest.raises(ValueError, match="unknown protocol 'mars'"):
        evaluate_protocol("mars", None, None, None, TestConfig(), "cpu")
    with pytest.raises(ValueError, match="two-camera protocol needs the test identities"):
        evaluate_protocol("two-camera", None, None, None, TestConfig(), "cpu")


def test_a_checkpoint_from_before_split_seed_resumes_when_its_seed_drew_the_splits():
    identity = TrainConfig(dataset="ilids-vid").identity()
    old = {"config": {k: v for k, v in identity.items() if k != "split_seed"}}
    check_compatible(old, identity, "old.pt")
    with pytest.raises(CheckpointError, match="split_seed"):
        check_compatible(old, TrainConfig(dataset="ilids-vid", split_seed=2).identity(), "old.pt")


def test_a_mars_checkpoint_from_before_mars_protocol_is_an_official_run():
    astpn = TrainConfig(dataset="mars").identity()
    official = TrainConfig(dataset="mars", mars_protocol="official").identity()
    old = {"config": {k: v for k, v in official.items() if k != "mars_protocol"}}
    check_compatible(old, official, "old.pt")  # it trained on bbox_train: it resumes as official
    with pytest.raises(CheckpointError, match="mars_protocol: checkpoint 'official', asked 'astpn'"):
        check_compatible(old, astpn, "old.pt")
    new = {"config": TrainConfig(dataset="mars").to_dict()}
    with pytest.raises(CheckpointError, match="mars_protocol: checkpoint 'astpn', asked 'official'"):
        check_compatible(new, official, "new.pt")


def test_mars_protocol_is_part_of_a_mars_run_only():
    assert TrainConfig(dataset="mars").identity()["mars_protocol"] == "astpn"
    ilids = TrainConfig(dataset="ilids-vid")
    assert "mars_protocol" not in ilids.identity()
    old = {"config": {k: v for k, v in ilids.to_dict().items() if k != "mars_protocol"}}
    check_compatible(old, TrainConfig(dataset="ilids-vid", mars_protocol="official").identity(), "old.pt")


def test_a_mars_model_is_never_tested_on_its_training_identities():
    check_mars_reading("two-camera", "astpn", "run")
    check_mars_reading("mars-standard", "official", "run")
    check_mars_reading("mars-torchreid", "official", "run")
    with pytest.raises(ValueError, match="run: trained on MARS's official split"):
        check_mars_reading("two-camera", "official", "run")
    with pytest.raises(ValueError, match="run: trained on MARS's two-camera reduction"):
        check_mars_reading("mars-standard", "astpn", "run")
    with pytest.raises(ValueError, match="mars_protocol must be one of"):
        check_mars_reading("two-camera", "ASTPN", "run")
    with pytest.raises(ValueError, match="needs the views of its two-camera reduction"):
        mars = VideoReIDDataset(name="mars", root=Path("mars"), cameras=(), tracklets=[])
        evaluate_protocol("two-camera", None, None, mars, TestConfig(), "cpu", pids=[2])
