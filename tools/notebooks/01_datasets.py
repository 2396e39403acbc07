"""Builds notebooks/01_datasets.ipynb (run: python tools/notebooks/01_datasets.py)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tools.notebook_template import code, md, write_notebook  # noqa: E402

write_notebook(
    Path(__file__).resolve().parents[2] / "notebooks" / "01_datasets.ipynb",
    "01 · Datasets: iLIDS-VID, PRID2011, MARS and the synthetic benchmark",
    "The paper evaluates on three video re-identification benchmarks (§4.1): iLIDS-VID "
    "{cite:p}`wang2014video`, PRID2011 {cite:p}`hirzer2011person` and MARS {cite:p}`zheng2016mars`. "
    "This chapter sets their published figures beside what our readers read in this session, shows "
    "sample sequences, and measures how hard the synthetic benchmark that stands in for them is. "
    "How the readers work, and the details they guard against, are in {doc}`../book/data`.",
    [
        md("""
## The datasets as published

These are the datasets' own figures (the paper's §4.1 and MARS's metadata), not measurements of
ours:
"""),
        code("""
import pandas as pd

pd.DataFrame({
    "iLIDS-VID": ["300", "600", "23–192, mean 73", "2", "PNG, 128×64"],
    "PRID2011": ["200 in both cameras (385 in A, 749 in B)", "400 used", "5–675, mean 100", "2", "PNG, 128×64"],
    "MARS": ["625 train + 634 test", "8,298 train + 12,180 test", "2–920", "6", "JPEG, 256×128"],
}, index=["identities", "tracklets", "frames per tracklet", "cameras", "frames"]).T.rename_axis("published")
"""),
        md("""
Each dataset keeps its own folder layout, and `stsrn_lite.data` has a reader for each that reads the
tree exactly as the owners distribute it:

```text
ilids-vid/i-LIDS-VID/sequences/cam{1,2}/personNNN/camC_personNNN_FFFFF.png
ilids-vid/train-test people splits/train_test_splits_ilidsvid.mat     10 splits of the 300 persons
prid2011/prid_2011/multi_shot/cam_{a,b}/person_NNNN/NNNN.png          persons 0001-0200 in both cameras
mars/bbox_{train,test}/PPPP/PPPPCcTttttFfff.jpg   +  mars/info/{train,test}_name.txt, tracks_*_info.mat, query_IDX.mat
```

A reader returns a `VideoReIDDataset`: a list of `Tracklet`s (a person id `pid`, a camera index
`camid` and the frame files in temporal order), the identity splits that came with the data, and
for MARS the train/test subsets and the queries.

## What our readers read in this session

The same readers run on whatever `session.root(dataset)` holds: the synthetic benchmark under the
smoke and full profiles (generated on first use), the real datasets under the paper profile.
`dataset_statistics` counts what was read; the frame size comes from decoding the first frame.
"""),
        code("""
from stsrn_lite.data.read import DATASETS, read_dataset
from stsrn_lite.data.stats import dataset_statistics
from stsrn_lite.preprocess.cache import decode_frame

datasets = {name: read_dataset(name, session.root(name)) for name in DATASETS}
statistics = {name: dataset_statistics(dataset) for name, dataset in datasets.items()}

columns = ["identities", "tracklets", "frames", "min_length", "mean_length", "max_length"]
read = pd.DataFrame.from_dict({name: {key: stats[key] for key in columns} for name, stats in statistics.items()},
                              orient="index")
read["cameras"] = [len(dataset.cameras) for dataset in datasets.values()]
read["in cameras 1 and 2"] = [stats["identities_in_both_first_cameras"] for stats in statistics.values()]
read["splits"] = [len(dataset.splits) for dataset in datasets.values()]
read["frame H×W"] = ["{}×{}".format(*decode_frame(dataset.tracklets[0].frames[0]).shape[:2])
                     for dataset in datasets.values()]
read.rename_axis(session.label)
"""),
        md("""
The first frame of each dataset, relative to its root, shows that the synthetic data sits in the
real layouts:
"""),
        code("""
for name, dataset in datasets.items():
    first = dataset.tracklets[0]
    print(f"{name:9s}  pid {first.pid:>4}  camera {dataset.cameras[first.camid]:5s}  "
          f"{first.frames[0].relative_to(dataset.root)}")
"""),
        md("""
MARS comes with its own train/test partition and a list of query tracklets; its test subset also
holds *junk* (pid −1, unusable detections) and *distractor* (pid 0) tracklets, which the readers
keep and the evaluation protocol handles:
"""),
        code("""
mars = statistics["mars"]
subsets = pd.DataFrame.from_dict(mars["subsets"], orient="index").fillna(0)
subsets = subsets.astype({"junk_tracklets": int, "distractor_tracklets": int})
subsets[["identities", "tracklets", "frames", "min_length", "mean_length", "max_length",
         "junk_tracklets", "distractor_tracklets"]].rename_axis(f"MARS, {session.label}")
"""),
        md("""
Sequence lengths per camera. The synthetic generator draws them from the real ranges (for MARS,
from quantiles of the real metadata); the smoke profile caps them (48 frames for iLIDS-VID and
PRID2011, 32 for MARS) to keep the book fast.
"""),
        code("""
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 3, figsize=(10, 2.8))
for ax, (name, dataset) in zip(axes, datasets.items()):
    lengths = [[t.length for t in dataset.tracklets if t.camid == camid] for camid in range(len(dataset.cameras))]
    ax.hist(lengths, bins=12, stacked=True, label=list(dataset.cameras))
    ax.set_title(name)
    ax.set_xlabel("frames per tracklet")
    ax.legend(fontsize=7, ncol=2 if len(dataset.cameras) > 2 else 1)
axes[0].set_ylabel("tracklets")
fig.suptitle(session.label, fontsize=9)
fig.tight_layout()
plt.show()
""", tags=["hide-input"], figure={"caption": "Tracklet lengths per camera, as read by the readers in this session "
                                            "(stacked over cameras).", "name": "fig-01-lengths"}),
        md("""
## Sample sequences

One identity seen by the two cameras of iLIDS-VID, eight frames spread over each tracklet. Under
the smoke and full profiles these are synthetic people; under the paper profile, real ones.
"""),
        code("""
from stsrn_lite.plots.data import identity_rows, plot_frame_rows, tracklet_frames

ilids = datasets["ilids-vid"]
pid = ilids.paired_pids()[0]
plot_frame_rows(*identity_rows(ilids, pid))
plt.show()
""", figure={"caption": "iLIDS-VID layout: one person (the first pid in both cameras) in camera 1 and camera 2, "
                        "eight frames of each tracklet.", "name": "fig-01-ilids-pair"}),
        md("""
The same for PRID2011, and for a MARS training identity seen by several of its six cameras (one
tracklet per camera, at most three cameras shown; MARS frames are 256×128 JPEGs):
"""),
        code("""
prid = datasets["prid2011"]
plot_frame_rows(*identity_rows(prid, prid.paired_pids()[0], count=6))
plt.show()
""", figure={"caption": "PRID2011 layout: one person in camera A and camera B, six frames of each tracklet.",
             "name": "fig-01-prid-pair"}),
        code("""
mars_dataset = datasets["mars"]
cameras_of = {}  # training pid -> the cameras that saw it
for i in mars_dataset.subsets["train"]:
    cameras_of.setdefault(mars_dataset.tracklets[i].pid, set()).add(mars_dataset.tracklets[i].camid)
mars_pid = max(cameras_of, key=lambda pid: (len(cameras_of[pid]), -pid))  # the training identity seen by most cameras
plot_frame_rows(*identity_rows(mars_dataset, mars_pid, count=5, max_cameras=3))
plt.show()
""", figure={"caption": "MARS layout: the training identity seen by the most cameras, one tracklet per camera "
                        "(at most three).",
             "name": "fig-01-mars-identity"}),
        md("""
## The synthetic benchmark

The real datasets cannot be downloaded where this book is built, so the smoke and full profiles run
on a synthetic benchmark written by `stsrn_lite.synthetic` in the real layouts. Each identity is a
walking person drawn from a small shared palette (so many people share their main colours) with its
own build, garments, patterns, bag and gait; the limbs move, so the optical flow carries
information. The cameras differ in scene, illumination, colour cast, scale and preferred walking
direction; frames carry box jitter, blur, noise, and in about a third of the tracklets an occluder
over a run of frames. {doc}`../book/data` describes the generator in full.

The generator records beside each dataset what it drew (`synthetic_meta.json`). The walking
directions seen by each camera of the iLIDS-VID-layout set, and how many tracklets are partly
occluded:
"""),
        code("""
from stsrn_lite.synthetic.layouts import read_meta

meta = read_meta(ilids.root)
if meta is None:
    print("real data: there is no generator record")
else:
    records = pd.DataFrame([{"camera": ilids.cameras[t["camid"]], "view": t["render"]["view"],
                             "occluded": bool(t["occluded_frames"]), "pid": t["pid"], "camid": t["camid"],
                             "occluded_frames": t["occluded_frames"], "length": t["length"]}
                            for t in meta["tracklets"]])
    views = pd.crosstab(records["camera"], records["view"])
    views["partly occluded"] = records.groupby("camera")["occluded"].sum()
    display(views.rename_axis(columns=f"tracklets, {session.label}"))
"""),
        md("""
Camera 1 sees people mostly from the side, camera 2 mostly from the front or back, so the same
person's silhouette, visible garment regions and gait look different across cameras. An occluded
tracklet, with its occluded frames marked:
"""),
        code("""
if meta is not None:
    occluded = records[records["occluded"]]
    inside = occluded[[0 < min(f) and max(f) < n - 1 for f, n in zip(occluded["occluded_frames"], occluded["length"])]]
    example = (inside if len(inside) else occluded).iloc[0]  # prefer an occlusion with clear frames around it
    frames, indices = tracklet_frames(ilids.tracklet_of(int(example["pid"]), int(example["camid"])), 8)
    hidden = set(example["occluded_frames"])
    row = f"pid {example['pid']}, {example['camera']}"
    plot_frame_rows({row: frames}, labels={row: [f"{i}: {'occluded' if i in hidden else 'clear'}" for i in indices]})
    plt.show()
""", figure={"caption": "A synthetic tracklet with an occluder over a run of frames (the generator's record says "
                        "which frames).", "name": "fig-01-occlusion"}),
        md("""
## How hard is the benchmark? A colour-histogram matcher

A benchmark on which colour alone finds the right person would say little about a model. The
hand-crafted methods of the paper's Table 1 build on colour and texture descriptors; the simplest
member of that family, `stsrn_lite.baselines.colour_histogram`, describes a tracklet by HSV
histograms (16×4×4 bins) in six horizontal stripes, with pixels weighted towards the centre of the
box, averaged over the frames, and compares two tracklets by the χ² distance. We probe with every
camera-1 tracklet against the camera-2 gallery, all identities of the iLIDS-VID-layout set, and
rank with `stsrn_lite.metrics.evaluate_rank`. A single global histogram (no stripes, no centre
weighting) shows what the stripes add. The *same camera* row matches the first half of each
camera-1 tracklet against the second halves: it asks whether identities are consistent and
distinguishable at all when the camera does not change.
"""),
        code("""
import numpy as np

from stsrn_lite.baselines.colour_histogram import distance_matrix, tracklet_histogram
from stsrn_lite.metrics import evaluate_rank, summary

MATCHERS = {  # name -> (tracklet_histogram options, distance)
    "HSV 16×4×4, 6 stripes, centre-weighted, χ²": (dict(space="hsv", bins=(16, 4, 4), n_stripes=6), "chi2"),
    "HSV 8×4×4, global, Bhattacharyya": (dict(space="hsv", bins=(8, 4, 4), n_stripes=1, centre_sigma=None),
                                        "bhattacharyya"),
}
pids = np.array(ilids.paired_pids())  # (P,) persons in both cameras
SETTINGS = {"cross-camera (cam1 → cam2)": ("cam1", "cam2"),  # setting -> (query part, gallery part)
            "same camera (cam1 halves)": ("cam1, first half", "cam1, second half")}
features = {}  # (matcher, part) -> one histogram (D,) per pid
frames_read = 0
for pid in pids:
    cam1 = tracklet_frames(ilids.tracklet_of(int(pid), 0))[0]  # (T, H, W, 3)
    cam2 = tracklet_frames(ilids.tracklet_of(int(pid), 1))[0]
    frames_read += len(cam1) + len(cam2)
    half = len(cam1) // 2
    parts = {"cam1": cam1, "cam2": cam2, "cam1, first half": cam1[:half], "cam1, second half": cam1[half:]}
    for name, (options, _) in MATCHERS.items():
        for part, frames in parts.items():
            features.setdefault((name, part), []).append(tracklet_histogram(frames, **options))

rows = {}
for name, (_, metric) in MATCHERS.items():
    for setting, (q_part, g_part) in SETTINGS.items():
        distmat = distance_matrix(np.stack(features[name, q_part]), np.stack(features[name, g_part]), metric)  # (P, P)
        # query camid 0, gallery camid 1: the two halves of camera 1 count as two cameras, so the true match is ranked
        cmc, mAP = evaluate_rank(distmat, pids, pids, np.zeros(len(pids)), np.ones(len(pids)))
        rows[name, setting] = summary(cmc, mAP, ranks=(1, 5, 10))

results = pd.DataFrame(rows).T
results["chance rank1"] = round(100 / len(pids), 2)
print(f"{len(pids)} identities, {frames_read} frames; CMC and mAP in %")
results.rename_axis([session.label, "setting"])
"""),
        md("""
On a larger gallery the same matcher does worse, because more people share colours with the probe.
On the 300-identity iLIDS-VID-layout set (43,317 frames, seed 0), the strongest of eight
colour-histogram settings, the striped HSV χ² matcher above, reached a cross-camera rank-1 of
**22.0 %** against a chance level of 0.33 %, and a same-camera rank-1 of **97.3 %**: measured once,
see {doc}`../book/data`, with `python benchmarks/calibrate_synthetic.py --root DIR` on the CPU.
That set is the full profile's iLIDS-VID set, so under `profile="full"` the table above computes
these figures itself.
"""),
        code("""
pd.DataFrame({"rank1 %": [22.0, 97.3], "chance %": [0.33, 0.33]},
             index=["cross-camera (cam1 → cam2)", "same camera (cam1 halves)"]
             ).rename_axis("ours, synthetic 300 identities, measured once (Data chapter)")
"""),
        md("""
What we learn (from the synthetic sets; under the paper profile the first table is measured on
the real iLIDS-VID instead):

- Within a camera the synthetic people are consistent and distinguishable: the same-camera rank-1
  is near the top. Across cameras colour alone falls far short of it, because the cameras change
  illumination, colour cast and viewpoint, and many people share the palette's colours. What
  separates the cameras is left for a learned model.
- Where the colours are matters: the global histogram, which throws the stripes away, does much
  worse across cameras than the striped one.
- The smoke set's cross-camera figures are higher than the 300-identity ones mainly because its
  gallery is smaller. Both are properties of our synthetic data and say nothing about the real
  datasets. For comparison only, the paper's Table 1 lists, on the real iLIDS-VID, rank-1 of
  34.5 % for VR {cite:p}`wang2014video` (colour histograms and HOG3D on selected fragments) and up
  to 56.3 % for the methods that learn a metric on hand-crafted features.
"""),
    ],
)
