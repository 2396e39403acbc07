"""The run ledger: each finished run's final tests, filed under ``results/<profile>/runs/`` so
that they outlive the run's folder.

A run of the bench profile takes hours of CPU and its folder (checkpoints) lives under the home,
which a replaced machine loses. When `experiments.run` has tested a run of a profile that keeps a
ledger (`Profile.ledger`), it files the run here: ``<run>.json`` (its training and test
configurations, its per-epoch records, each protocol's ranks, where it came from) and
``<run>.npz`` (each protocol's distance matrix and the tracklets it ranks: everything its ranks
are computed from). Committed, the ledger rebuilds every table on another machine without
training: `experiments.run` reads a run from it when the run's folder holds no finished run and
the filed configurations are the ones asked for. The model itself is not filed (weights:
`stsrn_lite.weights`).

    python -m stsrn_lite.book.ledger list --profile bench
    python -m stsrn_lite.book.ledger recover weights/ilids-vid-STSRN-bench.pt --profile bench

``recover`` files a run whose folder was lost from its exported weights: the final tests are
taken again from the model (the same numbers the run's own tests gave); its training records
are lost and the entry says so. For a run filed before a table that asks more of it was added to
the grid (Table 4's cross-dataset test of a Table 1 run, Table 6's occlusion study), it adds only
what is missing to the entry, whose records and other tests stay.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from stsrn_lite.atomic import write_atomic
from stsrn_lite.evaluation.features import TestConfig
from stsrn_lite.evaluation.protocols import Evaluation
from stsrn_lite.preprocess.cache import StaleCacheError
from stsrn_lite.provenance import device_name
from stsrn_lite.training.config import TrainConfig

FOLDER = "runs"  # results/<profile>/runs/
FORMAT = "stsrn-lite-ledger/1"


class LedgerError(ValueError):
    """A ledger entry that cannot be read; the message names the file."""


@dataclass
class FiledRun:
    """A run as the ledger holds it."""

    records: list[dict]  # one per epoch, as the run kept them; empty when they were lost
    evaluations: dict[str, Evaluation]  # protocol -> its final test
    provenance: dict  # the entry's JSON, arrays aside
    studies: dict[str, list[dict]] = field(default_factory=dict)  # study -> its rows (experiments.STUDIES)


def _plain(value):
    """``value`` as JSON gives it back (tuples become lists), for comparisons with a filed entry."""
    return json.loads(json.dumps(value))


def _test_settings(test: TestConfig) -> dict:
    """What of a test configuration changes its numbers (the batch size is speed only)."""
    return _plain({**asdict(test), "batch_sequences": None})


def file_run(
    folder: Path,
    name: str,
    config: TrainConfig,
    test: TestConfig,
    records: list[dict],
    evaluations: dict[str, Evaluation],
    *,
    code_version: str,
    device: str | torch.device,
    source: str = "trained",
    studies: dict[str, list[dict]] | None = None,
) -> Path:
    """File run ``name`` in ``folder`` (``<name>.json`` and ``<name>.npz``); returns the JSON path.

    ``code_version`` is that of the code that trained it, ``source`` where the entry came from
    ("trained", or the weights file it was recovered from), ``studies`` the rows of the studies
    made with its model (`stsrn_lite.book.experiments.STUDIES`). An entry that already says the same
    (its date aside) is left as it is, so that rebuilding the book leaves the files byte-identical;
    a new one replaces it whole (the arrays first, the JSON, which readers check, last).
    """
    entry = {
        "format": FORMAT,
        "run": name,
        "source": source,
        "training": _plain(asdict(config)),
        "test": _test_settings(test),
        "epochs": len(records) if records else config.epochs,
        "code_version": code_version,
        "device": device_name(torch.device(device)),
        "torch": torch.__version__,
        "protocols": {protocol: evaluation.record() for protocol, evaluation in evaluations.items()},
        **({"studies": _plain(studies)} if studies else {}),
        "records": _plain(records),
    }
    folder.mkdir(parents=True, exist_ok=True)
    meta, arrays = folder / f"{name}.json", folder / f"{name}.npz"
    if meta.is_file() and arrays.is_file():
        try:
            stored = json.loads(meta.read_text())
        except json.JSONDecodeError:
            stored = None
        if isinstance(stored, dict) and {**stored, "date": None} == {**entry, "date": None}:
            return meta
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        **{f"{protocol}/{key}": getattr(e, key) for protocol, e in evaluations.items() for key in Evaluation.ARRAYS},
    )
    write_atomic(arrays, buffer.getvalue())
    entry["date"] = datetime.date.today().isoformat()
    write_atomic(meta, json.dumps(entry, indent=1) + "\n")
    return meta


def _entry(
    folder: Path, name: str, config: TrainConfig, test: TestConfig, protocols: tuple[str, ...], studies: tuple[str, ...]
) -> dict | None:
    """The JSON of run ``name`` in ``folder`` when it is filed with training ``config``, test
    ``test``, every protocol of ``protocols`` and every study of ``studies``; else None (a run
    filed otherwise is another run)."""
    meta = folder / f"{name}.json"
    if not meta.is_file():
        return None
    try:
        entry = json.loads(meta.read_text())
    except json.JSONDecodeError:
        raise LedgerError(f"{meta}: not JSON; expected a ledger entry of format {FORMAT}") from None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        raise LedgerError(f"{meta}: not a ledger entry of format {FORMAT}")
    if entry["training"] != _plain(asdict(config)) or entry["test"] != _test_settings(test):
        return None
    filed = set(protocols) <= set(entry["protocols"]) and set(studies) <= set(entry.get("studies", {}))
    return entry if filed else None


def is_filed(
    folder: Path,
    name: str,
    config: TrainConfig,
    test: TestConfig,
    protocols: tuple[str, ...],
    studies: tuple[str, ...] = (),
) -> bool:
    """Whether `read_run` would give run ``name`` (without reading its arrays)."""
    return _entry(folder, name, config, test, protocols, studies) is not None


def read_run(
    folder: Path,
    name: str,
    config: TrainConfig,
    test: TestConfig,
    protocols: tuple[str, ...],
    studies: tuple[str, ...] = (),
) -> FiledRun | None:
    """Run ``name`` from ``folder`` when it is filed with training ``config``, test ``test``,
    every protocol of ``protocols`` and every study of ``studies`` (it comes with all the studies
    filed); else None (a run filed otherwise is another run)."""
    entry = _entry(folder, name, config, test, protocols, studies)
    if entry is None:
        return None
    arrays = folder / f"{name}.npz"
    if not arrays.is_file():
        raise LedgerError(f"{arrays}: missing beside {name}.json; expected the run's distance matrices")
    evaluations = {}
    with np.load(arrays) as stored:
        for protocol in protocols:
            evaluations[protocol] = Evaluation.ranked(
                protocol,
                entry["protocols"][protocol]["rules"],
                test,
                **{key: stored[f"{protocol}/{key}"] for key in Evaluation.ARRAYS},
            )
    return FiledRun(
        records=entry["records"], evaluations=evaluations, provenance=entry, studies=entry.get("studies", {})
    )


def entries(*folders: Path) -> list[dict]:
    """Every entry filed in ``folders``, by name; a name filed in several comes from the first."""
    paths: dict[str, Path] = {}
    for folder in folders:
        for path in folder.glob("*.json"):
            paths.setdefault(path.stem, path)
    return [json.loads(paths[name].read_text()) for name in sorted(paths)]


def filed_entry(folders, name: str, config: TrainConfig, test: TestConfig) -> dict | None:
    """The JSON of run ``name`` as the first of ``folders`` files it with ``config`` and ``test``,
    whatever protocols and studies it holds (its records say how the training went); None where
    none does. Reads no arrays."""
    for folder in folders:
        entry = _entry(folder, name, config, test, (), ())
        if entry is not None:
            return entry
    return None


def _filed(folders, name: str, config: TrainConfig, test: TestConfig) -> tuple[Path, FiledRun] | None:
    """(its JSON, the run) of run ``name`` as the first of ``folders`` files it with ``config`` and
    ``test``, with every protocol it was tested on; None where none does."""
    for folder in folders:
        entry = _entry(folder, name, config, test, (), ())
        if entry is not None:
            return folder / f"{name}.json", read_run(folder, name, config, test, tuple(entry["protocols"]))
    return None


def recover(session, weights: Path) -> Path:
    """File the run of ``session``'s grid that weights file ``weights`` was exported from (its
    training configuration is the run's), testing its model as the run would have; the entry
    says that it was recovered and that its records were lost.

    A run already filed without some test or study that the grid now asks of it (a table added
    later: Table 4's cross-dataset test of a Table 1 run, Table 6's occlusion study) keeps its
    entry, records, tests and studies, and gains only what is missing, made with the weights; the
    entry's source says which. A run filed with everything is left as it is."""
    from stsrn_lite.book.experiments import (
        final_test_config,
        final_tests,
        ledger_folder,
        ledger_folders,
        run_folder,
        run_studies,
    )
    from stsrn_lite.book.grid import TABLES, grid_runs, spec_config
    from stsrn_lite.training.data import load_run_data
    from stsrn_lite.weights import load_weights, read_weights

    provenance = read_weights(weights)["provenance"]
    trained = _plain(provenance["training"])
    for spec in grid_runs(session, TABLES):
        config = spec_config(session, spec)
        if _plain(asdict(config)) == trained:
            break
    else:
        raise LedgerError(f"{weights}: its training configuration is no run of the {session.profile.name} grid")
    readings = dict(spec.readings) or None
    out = run_folder(session, spec.dataset, spec.preset, spec.fold, spec.mars_protocol, readings, recipe=spec.recipe)
    found = _filed(ledger_folders(session), out.name, config, final_test_config(session, config))
    known = found[1] if found else None
    missing = tuple(p for p in spec.protocols if known is None or p not in known.evaluations)
    unmade = tuple(s for s in spec.studies if known is None or s not in known.studies)
    if found and not missing and not unmade:
        return found[0]
    model = load_weights(weights, spec.preset, session.device, **config.model_overrides())  # a reading's fields
    data = load_run_data(
        spec.dataset,
        session.root(spec.dataset),
        fold=config.fold,
        folds=config.folds,
        seed=config.split_seed,
        flow=config.flow,
        mars_protocol=config.mars_protocol,
    )
    test, evaluations = final_tests(session, config, data, model, missing)
    studies = run_studies(session, config, model, unmade)
    records, code_version = [], provenance["code_version"]
    source = f"{weights.name}, exported from the run (its records were lost with the machine it ran on)"
    if known is not None:
        evaluations = {**known.evaluations, **evaluations}
        studies = {**known.studies, **studies}
        records, code_version = known.records, known.provenance["code_version"]
        added = [f"{', '.join(missing)} test"] * bool(missing) + [f"{', '.join(unmade)} study"] * bool(unmade)
        source = f"{known.provenance['source']}; {' and '.join(added)} from {weights.name}"
    return file_run(
        ledger_folder(session),
        out.name,
        config,
        test,
        records,
        evaluations,
        code_version=code_version,
        device=session.device,
        source=source,
        studies=studies,
    )


def main(argv: list[str] | None = None) -> int:
    from stsrn_lite.book.experiments import ledger_folder
    from stsrn_lite.book.profiles import PROFILE_NAMES
    from stsrn_lite.book.session import setup

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the runs filed for a profile, with their rank-1")
    listing.add_argument("--profile", choices=PROFILE_NAMES, default="bench")
    recovering = commands.add_parser(
        "recover", help="file a lost run, or the tests a filed run lacks, from its exported weights"
    )
    recovering.add_argument("weights", type=Path)
    recovering.add_argument("--profile", choices=PROFILE_NAMES, default="bench")
    recovering.add_argument("--data-root", default=None, help="the real datasets' folder (the paper profile)")
    recovering.add_argument("--device", choices=("cpu", "cuda"), default=None, help="default: the profile's")
    args = parser.parse_args(argv)
    # listing reads files only: no device needed
    where = {"data_root": args.data_root, "device": args.device} if args.command == "recover" else {"device": "cpu"}
    try:
        session = setup(profile=args.profile, **where)
    except (RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if where.get("data_root") and session.profile.synthetic is not None:  # its runs would be filed apart
        print(f"error: --data-root is for the real datasets (--profile paper), not {args.profile}", file=sys.stderr)
        return 2
    try:
        if args.command == "recover":
            print(recover(session, args.weights))
            return 0
        for entry in entries(ledger_folder(session)):
            ranks = ", ".join(f"{p} rank-1 {r['rank1']:.1f}" for p, r in entry["protocols"].items())
            print(f"{entry['run']}: {entry['epochs']} epochs, {ranks} ({entry['source']}, {entry['date']})")
    # ValueError: WeightsError, weights that cannot be used; FileNotFoundError: no dataset under --data-root
    except (LedgerError, ValueError, FileNotFoundError, StaleCacheError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
