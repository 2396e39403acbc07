"""Re-identify the people of a video (or folder of frames) with a trained model.

    python -m stsrn_lite.footage VIDEO --checkpoint WEIGHTS_OR_RUN --out DIR
        [--preset STSRN] [--detector hog+motion] [--start 0] [--stop N] [--gallery OTHER_VIDEO]
        [--labels people.csv]

Writes into DIR (created whole at the end: nothing half-written is left on failure):

- ``tracks.csv``: track, frame, x, y, w, h (pixels of the source frame);
- ``contact_sheet.png``: every tracklet as a strip of crops;
- ``rankings.csv`` and ``rankings/*.png``: for every query, the gallery ranked by the model and by
  the colour histogram. Queries: the tracks that start after others ended, against those (people
  who leave and come back); with ``--gallery``, every track of VIDEO against every track of the
  other footage (whose track ids are offset by 1000);
- ``annotated.mp4``: the frames with each track's box and id (unless ``--no-video``);
- ``summary.json``: what ran, the model's provenance and, with ``--labels`` (points on each person
  written by eye, `stsrn_lite.footage.labels`; VIDEO's tracks only), the tracks' purity
  (`track_purity`) and rank-1 and mAP of each matcher over the queries whose person is in the
  gallery.

An unreadable video, weights of another preset or an existing non-empty DIR end with a one-line
error and exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path

import cv2
import matplotlib.pyplot as plt

from stsrn_lite.footage.detect import METHODS, DetectorConfig
from stsrn_lite.footage.figures import contact_sheet, draw_boxes, ranking_figure
from stsrn_lite.footage.labels import label_tracks, read_points, track_purity
from stsrn_lite.footage.pipeline import FootageConfig, FootageTracks, process
from stsrn_lite.footage.reid import (
    histogram_distances,
    labelled_scores,
    load_model,
    model_distances,
    ranked,
    reappearance_queries,
)
from stsrn_lite.footage.tracklets import tracklet_cache
from stsrn_lite.footage.video import FootageError, read_frames
from stsrn_lite.weights import WeightsError

GALLERY_OFFSET = 1000  # track ids of --gallery footage are offset by this
TOP = 5  # gallery tracklets shown per query


def tracks_csv(footage: FootageTracks, offset: int = 0) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["track", "frame", "x", "y", "w", "h"])
    for t in footage.tracks:
        for frame, box in zip(t.frames, t.boxes):
            writer.writerow([t.track_id + offset, frame, *(round(v, 1) for v in box)])
    return buffer.getvalue()


def write_video(footage: FootageTracks, path: Path) -> None:
    """The frames of ``footage``'s range with every track's box and id (mp4, the source's fps)."""
    by_frame: dict[int, list] = {}
    for t in footage.tracks:
        for frame, box in zip(t.frames, t.boxes):
            by_frame.setdefault(frame, []).append((t.track_id, box))
    height, width = footage.footage.size_hw
    fps = footage.footage.fps or 10.0
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    try:
        config = footage.config
        for index, frame in enumerate(read_frames(footage.footage, config.start, config.stop), start=config.start):
            shown = by_frame.get(index, [])
            writer.write(draw_boxes(frame, [box for _, box in shown], [str(i) for i, _ in shown]))
    finally:
        writer.release()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", type=Path, help="a video file or a folder of frames")
    parser.add_argument("--checkpoint", type=Path, required=True, help="a weights file or a training run's folder")
    parser.add_argument("--out", type=Path, required=True, help="the folder to write (must not exist, or be empty)")
    parser.add_argument("--preset", default="STSRN", help="the preset the weights must be (default: STSRN)")
    parser.add_argument(
        "--detector", choices=METHODS, default=DetectorConfig.method, help="how people are found (footage.detect)"
    )
    parser.add_argument("--start", type=int, default=0, help="first frame used")
    parser.add_argument("--stop", type=int, default=None, help="frame after the last one used (default: the end)")
    parser.add_argument("--gallery", type=Path, default=None, help="other footage whose tracks form the gallery")
    parser.add_argument("--labels", type=Path, default=None, help="CSV of person,frame,x,y points (footage.labels)")
    parser.add_argument("--tta", action=argparse.BooleanOptionalAction, default=True, help="16 test passes")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--no-video", action="store_true", help="skip annotated.mp4")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def run(args: argparse.Namespace, out: Path) -> dict:
    """Everything the command writes, into the folder ``out``; returns the summary."""
    trained = load_model(args.checkpoint, args.preset, args.device)  # first: a wrong file fails fast
    points = read_points(args.labels) if args.labels else None
    config = FootageConfig(DetectorConfig(method=args.detector), start=args.start, stop=args.stop)
    main = process(args.video, config, progress=not args.no_progress)
    tracklets = dict(main.tracklets)
    text = tracks_csv(main)
    if args.gallery is not None:
        other = process(args.gallery, FootageConfig(config.detector), progress=not args.no_progress)
        tracklets.update({GALLERY_OFFSET + i: crops for i, crops in other.tracklets.items()})
        text += tracks_csv(other, GALLERY_OFFSET).split("\n", 1)[1]
        queries = [(t.track_id, [GALLERY_OFFSET + g.track_id for g in other.tracks]) for t in main.tracks]
    else:
        queries = reappearance_queries(main.tracks)
    labels = None if points is None else label_tracks(main.tracks, points)
    (out / "tracks.csv").write_text(text)
    summary: dict = {
        "video": str(args.video),
        "frames": [config.start, config.stop or main.footage.frames],
        "tracks": len(main.tracks),
        "queries": len(queries),
        "model": {"preset": args.preset, **trained.provenance},
    }
    if not tracklets:
        return summary
    figure = contact_sheet(main.tracklets, main.tracks)
    figure.savefig(out / "contact_sheet.png", dpi=110)
    plt.close(figure)
    ids = list(tracklets)
    cache = tracklet_cache(tracklets, trained.flow)
    distances = {
        "model": model_distances(trained, cache, args.tta, args.device),
        "colour histogram": histogram_distances([tracklets[i] for i in ids]),
    }
    (out / "rankings").mkdir()
    with open(out / "rankings.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["matcher", "query", "rank", "gallery", "distance"])
        for matcher, distmat in distances.items():
            for query, gallery in queries:
                order = ranked(distmat, ids, query, gallery)
                writer.writerows([matcher, query, k + 1, g, f"{d:.6g}"] for k, (g, d) in enumerate(order))
                figure = ranking_figure(query, order, tracklets, top=TOP, person=labels, title=matcher)
                figure.savefig(out / "rankings" / f"{matcher.replace(' ', '_')}_query{query}.png", dpi=110)
                plt.close(figure)
    if labels is not None:
        summary["purity"] = track_purity(main.tracks, points)
        summary["scores"] = {m: labelled_scores(d, ids, queries, labels) for m, d in distances.items()}
    if not args.no_video:
        write_video(main, out / "annotated.mp4")
    return summary


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.out.exists() and (not args.out.is_dir() or any(args.out.iterdir())):
        print(f"error: {args.out}: exists and is not an empty folder; choose another --out", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{args.out.name}-", dir=args.out.parent))
    try:
        summary = run(args, staging)
        (staging / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
        if args.out.exists():
            args.out.rmdir()
        staging.rename(args.out)
    except (FootageError, WeightsError, ValueError) as error:
        print(f"error: {' '.join(str(error).splitlines())}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(args.out)
    return 0
