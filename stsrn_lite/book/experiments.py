"""Train-and-test runs for the book's table notebooks, and the tidy result files they keep.

`run` trains one preset on one fold (or reuses a finished run in ``runs/<profile>/``) and
tests it; `save_results` writes a table's rows under ``results/<profile>/NAME.csv`` with a
provenance file beside it (``NAME.json``: what ran — data, epochs, folds, recipe, test passes,
readings, device — and the notebook, command, code version and date); `load_results` reads back
every profile's rows for a table, so a notebook can show the paper's value and ours for every
profile whose results exist. A session that departs from its profile's protocol (fewer epochs or
folds, other data: `Session.departures`) is partial: its rows go to ``results/partial/<profile>/``
and never fill the profile's column.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from stsrn_lite.atomic import locked, write_atomic
from stsrn_lite.book.divergence import FALLBACK, hopeless
from stsrn_lite.book.ledger import FOLDER as LEDGER
from stsrn_lite.book.ledger import entries, file_run, is_filed, read_run
from stsrn_lite.book.session import Session
from stsrn_lite.evaluation.dispatch import check_mars_reading, default_protocol, evaluate_protocol
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.evaluation.protocols import Evaluation, cross_dataset_pids
from stsrn_lite.home import Home, checkout, home
from stsrn_lite.preprocess.crop import evaluation_passes
from stsrn_lite.preprocess.transforms import PreprocessConfig
from stsrn_lite.provenance import code_version, device_name
from stsrn_lite.training.checkpoint import digest, load_checkpoint
from stsrn_lite.training.config import TrainConfig
from stsrn_lite.training.data import RunData, load_run_data
from stsrn_lite.training.loop import CHECKPOINT, TrainResult, train

PARTIAL = "partial"  # runs/partial/<profile>/, results/partial/<profile>/: sessions that depart from the protocol


@dataclass
class RunOutcome:
    preset: str
    dataset: str
    fold: int
    records: list[dict]  # one per epoch (stsrn_lite.training.records.COLUMNS)
    checkpoint: Path | None = None  # the run's last checkpoint (its model, ω included)
    evaluations: dict[str, Evaluation] = field(default_factory=dict)  # protocol -> final test
    studies: dict[str, list[dict]] = field(default_factory=dict)  # study -> its rows (`STUDIES`)
    recipe: str | None = None  # the training recipe it had (a name of `RECIPES`)
    diverged: tuple[RunOutcome, ...] = ()  # earlier attempts that diverged, first first (`book.divergence`)

    @property
    def diverged_recipes(self) -> tuple[str, ...]:
        """The recipes of the earlier attempts that diverged."""
        return tuple(attempt.recipe for attempt in self.diverged)

    def summary(self, protocol: str) -> dict:
        return self.evaluations[protocol].summary


def run_folder(
    session: Session,
    dataset: str,
    preset: str,
    fold: int,
    mars_protocol: str = TrainConfig.mars_protocol,
    readings: dict | None = None,
    *,
    recipe: str = "faithful",
    seed: int = TrainConfig.seed,
) -> Path:
    """Where `run` keeps a run: ``runs/<profile>/<dataset>-<preset>-<recipe>[-seed=s][-reading=value]-fold<k>/``
    (MARS: ``mars-<mars_protocol>-…``; a partial session's under ``runs/partial/<profile>/``)."""
    tag = f"mars-{mars_protocol}" if dataset == "mars" else dataset
    name = f"{tag}-{preset.replace('*', 'star').replace(' ', '_')}-{recipe}"
    name += f"-seed={seed}" if seed != TrainConfig.seed else ""
    name += "".join(f"-{key}={value}" for key, value in sorted((readings or {}).items()))
    profile = session.profile.name
    runs = home().runs / PARTIAL / profile if not session.complete else home().runs / profile
    return runs / f"{name}-fold{fold}"


def run(
    session: Session,
    dataset: str,
    preset: str,
    fold: int,
    *,
    epochs: int,
    recipe: str | None = None,
    seed: int = TrainConfig.seed,
    eval_every: int | None = None,
    protocols: tuple[str, ...] = ("two-camera",),
    studies: tuple[str, ...] = (),
    cross_dataset: str = "prid2011",
    mars_protocol: str = TrainConfig.mars_protocol,
    progress: bool = False,
    readings: dict | None = None,
) -> RunOutcome:
    """Train ``preset`` on fold ``fold`` of ``dataset`` for ``epochs`` and test it.

    ``recipe`` (a name of `RECIPES`; None: the profile's) sets how it trains, ``seed`` its random
    draws. The run lives in ``runs/<profile>/<dataset>-<preset>-<recipe>-fold<k>/`` (MARS:
    ``mars-<mars_protocol>-…``, one folder per reading; a partial session's in
    ``runs/partial/<profile>/``, so that it neither blocks nor reuses the profile's); a finished run with the
    same settings is reused (resumed with nothing left to do), an interrupted one continues, and one
    that trained more epochs than asked is refused. A lock makes concurrent callers take turns.
    In a profile that keeps a ledger (`Profile.ledger`), the tested run is filed in
    ``results/<profile>/runs/`` (`stsrn_lite.book.ledger`), and a run filed there with the same
    training and test settings, every test and study asked included, is read from there, not
    tested again (its outcome's checkpoint is the folder's finished one, None where there is none
    here; it has no records where they were lost).
    ``eval_every`` adds test ranks to the records during training (Fig. 5); the final tests
    (``protocols``) use the profile's test-time augmentation and L = 128; ``studies`` (names of
    `STUDIES`) are made after them with the trained model, and filed with them. ``readings`` sets
    `TrainConfig` fields other than their defaults (``{"omega_form": "sigmoid"}``); such a run
    has a folder of its own. ``mars_protocol`` is
    MARS's reading (`TrainConfig.mars_protocol`; its default is the paper's, after ASTPN).
    """
    check_studies(studies)
    recipe = recipe or session.profile.recipe
    config = train_config(
        session,
        dataset,
        preset,
        fold,
        epochs=epochs,
        recipe=recipe,
        seed=seed,
        eval_every=eval_every,
        mars_protocol=mars_protocol,
        readings=readings,
    )
    data = load_run_data(
        dataset,
        session.root(dataset),
        fold=fold,
        folds=config.folds,
        seed=config.split_seed,
        flow=config.flow,
        mars_protocol=config.mars_protocol,
        progress=progress,
    )
    out = run_folder(session, dataset, preset, fold, config.mars_protocol, readings, recipe=recipe, seed=seed)

    latest: dict = {}  # the last test during training here: its protocol, configuration, weights and evaluation

    def during(model, run_data: RunData, cfg: TrainConfig, device: torch.device) -> dict:
        protocol = default_protocol(dataset, dataset, mars_protocol=cfg.mars_protocol)
        preprocess = PreprocessConfig(normalisation=cfg.normalisation)
        test_cfg = TestConfig(length=cfg.eval_length, tta=cfg.eval_tta, preprocess=preprocess)
        evaluation = evaluate_protocol(
            protocol,
            model,
            run_data.cache,
            run_data.dataset,
            test_cfg,
            device,
            pids=run_data.test_pids,
            views=run_data.views,
        )
        latest.update(protocol=protocol, test=test_cfg, weights=digest(model.state_dict()), evaluation=evaluation)
        return evaluation.summary

    if dataset == "mars":  # before training: a test on training identities is refused
        for protocol in protocols:
            check_mars_reading(protocol, config.mars_protocol, str(out))
    ledger = ledger_folder(session) if session.profile.ledger else None
    with locked(out):  # two notebooks asking for the same run take turns; the later one reuses it
        checkpoint = out / CHECKPOINT
        trained = load_checkpoint(checkpoint)["epoch"] if checkpoint.exists() else 0
        if trained > epochs:
            raise ValueError(
                f"{out}: this run already trained {trained} epochs, "
                f"more than the {epochs} asked; ask for as many or remove the folder"
            )
        for folder in ledger_folders(session) if ledger is not None else ():
            filed = read_run(folder, out.name, config, final_test_config(session, config), protocols, studies)
            if filed is not None:  # filed with every test and study asked: it serves, not tested again
                weights = checkpoint if trained == epochs else None  # its model, where it is here
                return RunOutcome(
                    preset, dataset, fold, filed.records, weights, filed.evaluations, filed.studies, recipe
                )
        result: TrainResult = train(
            config,
            data,
            out,
            device=session.device,
            resume=True,
            progress=progress,
            evaluate=during if eval_every else None,
            data_label=session.profile.data_for(dataset),
            give_up=hopeless if recipe in FALLBACK else None,  # its fallback replaces a run that blew up
        )
    outcome = RunOutcome(
        preset=preset,
        dataset=dataset,
        fold=fold,
        records=result.records,
        checkpoint=result.checkpoint,
        recipe=recipe,
    )
    # the test after the last epoch, where the final test would repeat it (the same protocol and
    # configuration, the same weights: one centre crop in the smoke profile), is not made twice
    made = {}
    if latest and latest["test"] == final_test_config(session, config):
        if latest["weights"] == digest(result.model.state_dict()):
            made = {latest["protocol"]: latest["evaluation"]}
    test, outcome.evaluations = final_tests(session, config, data, result.model, protocols, cross_dataset, made)
    outcome.studies = run_studies(session, config, result.model, studies)
    if ledger is not None:  # what the entry already holds and this call did not make stays filed
        known = read_run(ledger, out.name, config, test, ()) if is_filed(ledger, out.name, config, test, ()) else None
        kept = read_run(ledger, out.name, config, test, tuple(known.provenance["protocols"])) if known else None
        file_run(
            ledger,
            out.name,
            config,
            test,
            result.records,
            {**(kept.evaluations if kept else {}), **outcome.evaluations},
            code_version=load_checkpoint(result.checkpoint)["code_version"],
            device=session.device,
            studies={**(kept.studies if kept else {}), **outcome.studies},
        )
    return outcome


def train_config(
    session: Session,
    dataset: str,
    preset: str,
    fold: int,
    *,
    epochs: int,
    recipe: str | None = None,
    seed: int = TrainConfig.seed,
    eval_every: int | None = None,
    mars_protocol: str = TrainConfig.mars_protocol,
    readings: dict | None = None,
) -> TrainConfig:
    """The training configuration of `run`'s run with these arguments (the same defaults)."""
    profile = session.profile
    return TrainConfig.for_recipe(
        recipe or profile.recipe,
        dataset=dataset,
        preset=preset,
        fold=fold,
        folds=max(profile.folds, fold + 1),
        seed=seed,
        epochs=epochs,
        eval_every=eval_every or epochs + 1,
        eval_length=128,
        eval_tta=False,  # the tests during training (curves): one centre crop; the final tests: the profile's
        checkpoint_every=max(1, min(10, epochs)),
        mars_protocol=mars_protocol,
        **{"flow": profile.flow, **(readings or {})},  # a reading may set the flow too
    )


def final_test_config(session: Session, config: TrainConfig) -> TestConfig:
    """The final tests' configuration: L = 128, the profile's passes, the run's normalisation."""
    preprocess = PreprocessConfig(normalisation=config.normalisation)
    return TestConfig(length=128, tta=session.profile.eval_tta, preprocess=preprocess)


def final_tests(
    session: Session,
    config: TrainConfig,
    data: RunData,
    model: torch.nn.Module,
    protocols: tuple[str, ...],
    cross_dataset: str = "prid2011",
    known: dict[str, Evaluation] | None = None,
) -> tuple[TestConfig, dict[str, Evaluation]]:
    """The final tests of a run's ``model`` (trained with ``config`` on ``data``): its test
    configuration and {protocol: evaluation}; "cross-dataset" tests on ``cross_dataset``. The
    protocols of ``known`` (evaluations of this ``model`` with this test configuration, made
    already) are taken from it, not tested again."""
    test = final_test_config(session, config)
    evaluations = {}
    for protocol in protocols:
        if protocol in (known or {}):
            evaluations[protocol] = known[protocol]
            continue
        target, pids, views = data, data.test_pids, data.views
        if protocol == "cross-dataset":
            target = load_run_data(
                cross_dataset,
                session.root(cross_dataset),
                fold=config.fold,
                folds=config.folds,
                seed=config.split_seed,
                flow=config.flow,
            )
            pids, views = cross_dataset_pids(target.dataset, config.fold, config.folds, seed=config.split_seed), None
        evaluations[protocol] = evaluate_protocol(
            protocol, model, target.cache, target.dataset, test, session.device, pids=pids, views=views
        )
    return test, evaluations


def _occlusion(session: Session, model: torch.nn.Module, config: TrainConfig) -> list[dict]:
    from stsrn_lite.book.occlusion import study

    return study(session, model, config)


# What a run can make with its model after its tests, by name: a function of (session, model, its
# training configuration) giving rows
STUDIES: dict[str, Callable[[Session, torch.nn.Module, TrainConfig], list[dict]]] = {"occlusion": _occlusion}


def run_studies(
    session: Session, config: TrainConfig, model: torch.nn.Module, studies: tuple[str, ...]
) -> dict[str, list[dict]]:
    """{study: its rows} of ``studies`` (names of `STUDIES`) for ``model``, trained with ``config``."""
    check_studies(studies)
    return {name: STUDIES[name](session, model, config) for name in studies}


def check_studies(studies: tuple[str, ...]) -> None:
    """Refuse a name that is not one of `STUDIES` (before a run trains, not after)."""
    unknown = [name for name in studies if name not in STUDIES]
    if unknown:
        raise ValueError(f"no study {', '.join(unknown)}; expected one of {', '.join(STUDIES)}")


RESULT_SOURCES = ("stsrn_lite", "notebooks/*.md")  # the code behind a result file: the package and the chapters


def recipe(name: str = "faithful") -> str:
    """Training recipe ``name`` (a name of `RECIPES`), one line (its settings are `TrainConfig`'s)."""
    config = TrainConfig.for_recipe(name, dataset="ilids-vid")
    pairs = f"{config.pairs_per_step} pair{'s' if config.pairs_per_step > 1 else ''} per step"
    if config.optimiser == "sgd":
        optimiser = f"SGD learning rate {config.learning_rate:g}"
        extra = f", momentum {config.momentum:g} ({config.dampening})"
    else:
        optimiser, extra = f"Adam learning rate {config.learning_rate:g}", ""
    warmup = f", {config.warmup_epochs:g}-epoch warm-up" if config.warmup_epochs else ""
    schedule = " constant" if config.schedule == "constant" else f"{warmup} then {config.schedule}"
    prefix = "" if name == config.mode else f"{name}: "
    steps = f"{config.mode} ({pairs})" if name == config.mode or config.mode == "batched" else pairs
    return f"{prefix}{steps}, {optimiser}{schedule}{extra}, gradients clamped at {config.grad_clip:g}"


def results_folder(profile: str, *, partial: bool = False) -> Path:
    """``results/<profile>/`` under the home, or ``results/partial/<profile>/`` for partial sessions."""
    return home().results / PARTIAL / profile if partial else home().results / profile


def results_folders(name: str, *, partial: bool = False) -> tuple[Path, ...]:
    """Where stored results named ``name`` (a profile, or ``recipe``) are read, the first that has a
    file winning: the home's (`results_folder`) and, when the home is elsewhere (``$STSRN_HOME``),
    the folder committed in the checkout the package is imported from, so that a book built with
    its runs kept elsewhere still shows the committed results of the other profiles."""
    folders = [results_folder(name, partial=partial)]
    source = checkout()
    if source is not None:
        committed = Home(source, "checkout").results
        folders.append(committed / PARTIAL / name if partial else committed / name)
    return tuple(dict.fromkeys(folders))


def filed_entries(profile: str) -> list[dict]:
    """Every run filed for ``profile`` (`ledger.entries`), from the home's ledger and the committed
    one (`results_folders`); a run filed in both comes from the home's."""
    return entries(*(folder / LEDGER for folder in results_folders(profile)))


def ledger_folder(session: Session) -> Path:
    """Where ``session``'s finished runs are filed (`stsrn_lite.book.ledger`): ``results/<profile>/runs/``."""
    return results_folder(session.profile.name, partial=not session.complete) / LEDGER


def ledger_folders(session: Session) -> tuple[Path, ...]:
    """Where `run` looks for a filed run: ``session``'s ledger; for a partial session, the
    profile's, whose runs it shares where their training configurations are the same (a session of
    fewer folds trains its folds as the profile does); and the ledger committed in the checkout the
    package is imported from, when the home is elsewhere (``$STSRN_HOME``)."""
    return tuple(dict.fromkeys([ledger_folder(session), *(f / LEDGER for f in results_folders(session.profile.name))]))


def save_results(
    session: Session,
    name: str,
    rows: list[dict],
    *,
    notebook: str,
    command: str | None = None,
    training: str | None = None,
    epochs: int | None = None,
    folds: int | None = None,
    dataset: str | None = None,
    tta: bool | None = None,
) -> Path:
    """Write ``results/<profile>/<name>.csv`` and its provenance ``<name>.json``; returns the CSV path.

    The provenance records what ran: the data, the epochs and folds, the training recipe
    (``training``, default `recipe`'s; a table that trains nothing passes "none"), the test
    (L = 128 and its passes), the readings and the device; ``epochs`` is for a study that trains
    its own schedule (`stsrn_lite.book.omega_drift`), not the session's, and ``folds`` for one
    whose rows cover fewer folds than the profile's (`stsrn_lite.book.readings`); ``dataset`` names
    the one dataset of a table whose data the profile reduces (`Profile.data_for`), and ``tta``
    for rows tested otherwise than the profile's final test (the tests during training and the
    occlusion study use one centre crop: ``tta=False``). A partial
    session (`Session.departures`) writes under ``results/partial/<profile>/`` with
    ``complete: false`` and its departures. The code version is that of `RESULT_SOURCES`. When
    the rows and every provenance field but the date are what the files already hold, nothing is
    written: the stored provenance still says which code produced these numbers and when, and
    ``make book`` leaves the files byte-identical.
    """
    folder = results_folder(session.profile.name, partial=not session.complete)
    folder.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    table = buffer.getvalue()
    provenance = {
        "table": name,
        "profile": session.profile.name,
        "data": session.profile.data_for(dataset),
        "complete": session.complete,
        "departures": list(session.departures),
        "epochs": epochs or session.epochs,
        "folds": folds or session.folds,
        "recipe": training or recipe(session.profile.recipe),
        "test": f"L = 128, {len(evaluation_passes(session.profile.eval_tta if tta is None else tta))} pass(es) per "
        "sequence pair",
        "readings": session.readings,
        "notebook": notebook,
        "command": command or session.command,
        "code_version": code_version(RESULT_SOURCES),
        "device": device_name(torch.device(session.device)),
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
    }
    path, meta = folder / f"{name}.csv", folder / f"{name}.json"
    if path.is_file() and meta.is_file() and path.read_text() == table:
        try:
            stored = json.loads(meta.read_text())
        except json.JSONDecodeError:
            stored = None
        if isinstance(stored, dict) and {**stored, "date": None} == {**provenance, "date": None}:
            return path
    for target, text in ((path, table), (meta, json.dumps(provenance, indent=1) + "\n")):
        write_atomic(target, text)
    return path


def stored_or_measured(
    session: Session, name: str, measure: Callable[[], list[dict]], *, notebook: str, remeasure: bool = False
) -> tuple[list[dict], dict]:
    """(rows, provenance) of ``results/<profile>/<name>``, measuring and saving them first when absent.

    For measurements that differ from run to run (timings): a notebook shows the stored ones, whose
    provenance names the machine, so re-running the book does not change its pages. They are
    measured again when ``remeasure`` is set or when they were measured on another kind of device
    than this session's (a CUDA session does not show CPU timings as its own).
    """
    profile = session.profile.name
    partial = not session.complete
    stored = load_results(name, profiles=(profile,), partial=partial).get(profile)
    here = device_name(torch.device(session.device))
    if remeasure or stored is None or stored[1].get("device") != here:
        save_results(session, name, measure(), notebook=notebook, training="none")
    return load_results(name, profiles=(profile,), partial=partial)[profile]


def load_results(
    name: str, profiles: tuple[str, ...] = ("full", "paper"), *, partial: bool = False
) -> dict[str, tuple[list[dict], dict]]:
    """{profile: (rows, provenance)} for every profile with ``results/<profile>/<name>.csv``
    (``partial``: with ``results/partial/<profile>/<name>.csv``) in the home or, failing that, in
    the checkout (`results_folders`)."""
    found = {}
    for profile in profiles:
        paths = [folder / f"{name}.csv" for folder in results_folders(profile, partial=partial)]
        path = next((path for path in paths if path.is_file()), None)
        if path is not None:
            with open(path, newline="") as handle:
                rows = list(csv.DictReader(handle))
            meta = path.with_suffix(".json")
            found[profile] = (rows, json.loads(meta.read_text()) if meta.is_file() else {})
    return found
