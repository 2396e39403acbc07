"""Training frames where the model runs: on a GPU the preprocessed frames of the training
tracklets are copied to the device once and every step's gather, conversion, crop and mirror
happen there; on the CPU they are gathered from the memory-mapped cache. Both give the same
tensors, so a run's numbers do not depend on where the frames live."""

from __future__ import annotations

import numpy as np
import torch

from stsrn_lite.preprocess.cache import PreprocessedCache
from stsrn_lite.preprocess.crop import crop_sequences
from stsrn_lite.preprocess.transforms import PreprocessConfig, model_input
from stsrn_lite.training.pairs import EpochPlan


class TrainingFrames:
    def __init__(
        self,
        cache: PreprocessedCache,
        indices: list[int],
        device: torch.device,
        preprocess: PreprocessConfig = PreprocessConfig(),
        *,
        resident: bool | None = None,
    ) -> None:
        """``resident`` (default: on CUDA) copies the training tracklets' frames to ``device`` once."""
        self.device, self.preprocess = device, preprocess
        self.offsets = cache.offsets  # (n + 1,) rows of each tracklet in the cache
        self.resident = device.type == "cuda" if resident is None else resident
        if self.resident:  # rows of the training tracklets only
            rows = np.concatenate([np.arange(cache.offsets[i], cache.offsets[i + 1]) for i in sorted(indices)])
            self.local = np.full(int(cache.offsets[-1]), -1, dtype=np.int64)  # cache row → resident row
            self.local[rows] = np.arange(len(rows))
            self.rgb = torch.from_numpy(np.ascontiguousarray(cache.rgb[rows])).to(device)  # (F', 3, 64, 48) uint8
            self.flow = torch.from_numpy(np.ascontiguousarray(cache.flow[rows])).to(device)  # (F', 2, 64, 48) int8
            self.local_t = torch.from_numpy(self.local).to(device)
        else:
            self.rgb, self.flow = cache.rgb, cache.flow  # memory maps, gathered per step

    def sequences(self, plan: EpochPlan, rows: slice, column: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Sequence ``column`` (0 = a, 1 = b) of pairs ``rows``: frames (B, T, 5, 56, 40), lengths (B,)."""
        tracklets = plan.tracklets[rows, column]  # (B,)
        lengths = plan.lengths[rows, column]  # (B,)
        T = int(lengths.max())
        steps = np.minimum(np.arange(T)[None, :], lengths[:, None] - 1)  # (B, T), padding repeats the last frame
        index = self.offsets[tracklets][:, None] + plan.starts[rows, column][:, None] + steps  # (B, T) cache rows
        if self.resident:
            local = self.local_t[torch.from_numpy(index).to(self.device)]  # (B, T)
            rgb, flow = self.rgb[local], self.flow[local]  # (B, T, 3, 64, 48), (B, T, 2, 64, 48)
        else:
            flat = index.reshape(-1)
            rgb = torch.from_numpy(self.rgb[flat]).reshape(*index.shape, *self.rgb.shape[1:])  # (B, T, 3, 64, 48)
            flow = torch.from_numpy(self.flow[flat]).reshape(*index.shape, *self.flow.shape[1:])  # (B, T, 2, 64, 48)
        x = model_input(rgb, flow, self.preprocess)  # (B, T, 5, 64, 48)
        tops = torch.from_numpy(plan.tops[rows, column])
        lefts = torch.from_numpy(plan.lefts[rows, column])
        flips = torch.from_numpy(plan.flips[rows, column])
        x = crop_sequences(x, tops, lefts, flips)  # (B, T, 5, 56, 40)
        return x, torch.from_numpy(lengths).to(self.device)
