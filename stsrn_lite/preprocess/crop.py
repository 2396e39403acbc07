"""Crops and mirrors of whole sequences (paper §4.2, following the CNN-RNN's
train.lua and test.lua; book: The original code, "Training" and "Test protocols").

The model sees 56×40 crops of the 64×48 preprocessed frames. Every frame of a sequence gets the
same crop and mirror. Training draws the offset uniformly from {1, ..., 8} on each axis
independently (the original never uses offset 0) and mirrors with probability ½, independently
for the two sequences of a pair. Testing uses the 8 diagonal offsets (s, s), s = 1..8, each with
and without the mirror: 16 passes whose distances are summed. After cropping, the mean of the
5-channel crop of each frame is subtracted, as in the original.

The optical-flow channels are mirrored like the image; the sign of the horizontal flow is kept,
as in the original code (book: The original code, "Pitfalls").
"""

from __future__ import annotations

import torch

CROP_HW = (56, 40)  # H×W of the model's input
TRAIN_OFFSETS = (1, 8)  # inclusive range of the training crop offset on each axis
TEST_SHIFTS = tuple(range(1, 9))  # diagonal test offsets (s, s)


def check_offsets(tops, lefts, frame_hw: tuple[int, int]) -> None:
    """Refuse crop offsets (tensors or arrays) that leave the frame of ``frame_hw`` (H, W)."""
    (H, W), (h, w) = frame_hw, CROP_HW
    if H < h or W < w:
        raise ValueError(f"frames of {H}×{W} are smaller than the {h}×{w} crop")
    if bool((tops < 0).any()) or bool((tops > H - h).any()) or bool((lefts < 0).any()) or bool((lefts > W - w).any()):
        raise ValueError(
            f"crop offsets must lie in [0, {H - h}]×[0, {W - w}]; got tops {tops.tolist()}, lefts {lefts.tolist()}"
        )


def crop_sequences(
    x: torch.Tensor,
    tops: torch.Tensor,
    lefts: torch.Tensor,
    flips: torch.Tensor,
    *,
    subtract_mean: bool = True,
    checked: bool = False,
) -> torch.Tensor:
    """Crop (and mirror) each sequence of a batch with its own offset.

    Args:
        x: (B, T, C, H, W) frames, H×W at least the crop size.
        tops, lefts: (B,) long, the crop's top-left corner per sequence.
        flips: (B,) bool, mirror the sequence (before cropping, as the original does).
        subtract_mean: subtract each cropped frame's mean over (C, H, W).
        checked: the offsets were checked already (`check_offsets`, on the host), so that offsets
            on a GPU are not read back here.

    Returns:
        (B, T, C, 56, 40) on x's device.
    """
    B, T, C, H, W = x.shape
    h, w = CROP_HW
    if not checked:
        check_offsets(tops, lefts, (H, W))
    device = x.device
    rows = tops.to(device)[:, None] + torch.arange(h, device=device)  # (B, h)
    columns = lefts.to(device)[:, None] + torch.arange(w, device=device)  # (B, w), in the mirrored frame
    columns = torch.where(flips.to(device)[:, None], W - 1 - columns, columns)  # (B, w), in the stored frame
    batch = torch.arange(B, device=device)[:, None, None]  # (B, 1, 1)
    out = x.permute(0, 3, 4, 1, 2)[batch, rows[:, :, None], columns[:, None, :]]  # (B, h, w, T, C)
    out = out.permute(0, 3, 4, 1, 2)  # (B, T, C, h, w)
    if subtract_mean:
        out = out - out.mean(dim=(2, 3, 4), keepdim=True)  # per frame, over the 5 channels
    return out.contiguous()


def evaluation_passes(tta: bool) -> list[tuple[int, bool]]:
    """The (shift, mirror) passes at test time: 16 with ``tta``, else the single centre crop (4, no mirror)."""
    if not tta:
        return [(4, False)]
    return [(shift, flip) for shift in TEST_SHIFTS for flip in (False, True)]
