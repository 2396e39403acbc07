"""Training frames where the model runs: on a GPU the preprocessed frames of the training
tracklets are copied to the device once and every step's gather, conversion, crop and mirror
happen there; on the CPU they are gathered from the memory-mapped cache. Both give the same
tensors, so a run's numbers do not depend on where the frames live."""

from __future__ import annotations

import numpy as np
import torch

from stsrn_lite.preprocess.cache import PreprocessedCache
from stsrn_lite.preprocess.crop import check_offsets, crop_sequences
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
        self._plan: tuple[EpochPlan, dict[str, torch.Tensor]] | None = None  # `_on_device`'s copy
        if self.resident:  # rows of the training tracklets only
            rows = np.concatenate([np.arange(cache.offsets[i], cache.offsets[i + 1]) for i in sorted(indices)])
            self.local = np.full(int(cache.offsets[-1]), -1, dtype=np.int64)  # cache row → resident row
            self.local[rows] = np.arange(len(rows))
            self.rgb = torch.from_numpy(np.ascontiguousarray(cache.rgb[rows])).to(device)  # (F', 3, 64, 48) uint8
            self.flow = torch.from_numpy(np.ascontiguousarray(cache.flow[rows])).to(device)  # (F', 2, 64, 48) int8
            self.local_t = torch.from_numpy(self.local).to(device)
            self.offsets_t = torch.from_numpy(np.asarray(self.offsets, dtype=np.int64)).to(device)
        else:
            self.rgb, self.flow = cache.rgb, cache.flow  # memory maps, gathered per step

    def sequences(self, plan: EpochPlan, rows: slice, column: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Sequence ``column`` (0 = a, 1 = b) of pairs ``rows``: frames (B, T, 5, 56, 40), lengths (B,)."""
        T = int(plan.lengths[rows, column].max())  # read on the host: no synchronisation
        if self.resident:  # every index computed on the device from the epoch's plan there
            on = self._on_device(plan)
            lengths = on["lengths"][rows, column]  # (B,)
            steps = torch.minimum(torch.arange(T, device=self.device)[None, :], lengths[:, None] - 1)  # (B, T)
            first = self.offsets_t[on["tracklets"][rows, column]] + on["starts"][rows, column]  # (B,) cache rows
            local = self.local_t[first[:, None] + steps]  # (B, T) resident rows; padding repeats the last frame
            rgb, flow = self.rgb[local], self.flow[local]  # (B, T, 3, 64, 48), (B, T, 2, 64, 48)
            x = model_input(rgb, flow, self.preprocess)  # (B, T, 5, 64, 48)
            crop = (on[key][rows, column] for key in ("tops", "lefts", "flips"))
            return crop_sequences(x, *crop, checked=True), lengths  # (B, T, 5, 56, 40)
        tracklets = plan.tracklets[rows, column]  # (B,)
        lengths = plan.lengths[rows, column]  # (B,)
        steps = np.minimum(np.arange(T)[None, :], lengths[:, None] - 1)  # (B, T), padding repeats the last frame
        index = self.offsets[tracklets][:, None] + plan.starts[rows, column][:, None] + steps  # (B, T) cache rows
        flat = index.reshape(-1)
        rgb = torch.from_numpy(self.rgb[flat]).reshape(*index.shape, *self.rgb.shape[1:])  # (B, T, 3, 64, 48)
        flow = torch.from_numpy(self.flow[flat]).reshape(*index.shape, *self.flow.shape[1:])  # (B, T, 2, 64, 48)
        x = model_input(rgb, flow, self.preprocess)  # (B, T, 5, 64, 48)
        tops = torch.from_numpy(plan.tops[rows, column])
        lefts = torch.from_numpy(plan.lefts[rows, column])
        flips = torch.from_numpy(plan.flips[rows, column])
        x = crop_sequences(x, tops, lefts, flips)  # (B, T, 5, 56, 40)
        return x, torch.from_numpy(lengths).to(self.device)

    def labels(self, plan: EpochPlan, rows: slice) -> torch.Tensor:
        """Training-identity labels (B, 2) of pairs ``rows``, on the device."""
        if self.resident:
            return self._on_device(plan)["labels"][rows]
        return torch.from_numpy(plan.labels[rows]).to(self.device)

    def _on_device(self, plan: EpochPlan) -> dict[str, torch.Tensor]:
        """The epoch's plan on the device, copied once an epoch (its crop offsets checked on the host
        first), so that a step copies nothing from the host: each copy from pageable memory would
        make the host wait for the device."""
        if self._plan is None or self._plan[0] is not plan:
            check_offsets(plan.tops, plan.lefts, tuple(self.rgb.shape[-2:]))
            fields = ("tracklets", "labels", "starts", "lengths", "tops", "lefts", "flips")
            arrays = {key: torch.from_numpy(np.ascontiguousarray(getattr(plan, key))) for key in fields}
            self._plan = (plan, {key: array.to(self.device) for key, array in arrays.items()})
        return self._plan[1]
