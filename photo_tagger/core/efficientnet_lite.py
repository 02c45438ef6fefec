"""EfficientNet-Lite in plain torch, laid out so lukemelas-style checkpoints load unchanged.

Lite differs from EfficientNet-B*: ReLU6 instead of swish, no squeeze-excitation, and the
stem (32 channels), head (1280 channels) and the first/last stage's repeats are never scaled.
Convolutions use TensorFlow "SAME" padding, computed once for the square training input size,
because the TF-trained weights expect the asymmetric (0, 1) padding of stride-2 convolutions.

This module imports torch at the top; only import it when torch is really needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

# (repeats, kernel, stride, expand_ratio, in_channels, out_channels) per stage, from the
# official efficientnet_lite_builder.py (without the SE ratios of the B* models).
STAGES: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
# TF's BatchNorm defaults; torch's 1e-5 would shift every activation slightly.
BN_EPS = 1e-3
BN_MOMENTUM = 0.01


def round_filters(filters: int, width_multiplier: float, divisor: int = 8) -> int:
    """Scale a channel count and round to a multiple of `divisor`, as the TF builder does."""
    scaled = filters * width_multiplier
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * scaled:  # never round down by more than 10 %
        rounded += divisor
    return int(rounded)


def round_repeats(repeats: int, depth_multiplier: float) -> int:
    return int(math.ceil(depth_multiplier * repeats))


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TF "SAME" padding (before, after) for one spatial axis; the extra pixel goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv2d(nn.Conv2d):
    """Conv2d with static TF "SAME" padding for a square input of `image_size`.

    Symmetric padding is folded into the convolution; only the asymmetric stride-2 cases pay
    for a separate pad op.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        image_size: int,
        stride: int = 1,
        groups: int = 1,
    ) -> None:
        before, after = same_padding(image_size, kernel_size, stride)
        symmetric = before == after
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=before if symmetric else 0,
            groups=groups,
            bias=False,
        )
        self._extra_pad: tuple[int, int, int, int] | None = None if symmetric else (before, after, before, after)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._extra_pad is not None:
            x = F.pad(x, self._extra_pad)
        return super().forward(x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConvBlock(nn.Module):
    """Inverted residual: 1x1 expand, k x k depthwise, 1x1 project, skip if shapes match."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        expand_ratio: int,
        image_size: int,
    ) -> None:
        super().__init__()
        mid = in_channels * expand_ratio
        self.has_expansion = expand_ratio != 1
        if self.has_expansion:
            self._expand_conv = SameConv2d(in_channels, mid, 1, image_size=image_size)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel_size, image_size=image_size, stride=stride, groups=mid)
        self._bn1 = _bn(mid)
        out_size = math.ceil(image_size / stride)
        self._project_conv = SameConv2d(mid, out_channels, 1, image_size=out_size)
        self._bn2 = _bn(out_channels)
        self._act = nn.ReLU6(inplace=True)
        self.has_skip = stride == 1 and in_channels == out_channels

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        if self.has_expansion:
            x = self._act(self._bn0(self._expand_conv(x)))
        x = self._act(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        # Drop-connect only matters in training; this model is for inference and fine-tuning
        # of the head, which never back-propagates into the blocks.
        out: torch.Tensor = x + inputs if self.has_skip else x
        return out


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite with a `forward_features` / `forward_head` split.

    Inputs must be (N, 3, image_size, image_size): the SAME padding is fixed for that size.
    """

    def __init__(
        self,
        *,
        width_multiplier: float = 1.0,
        depth_multiplier: float = 1.0,
        image_size: int = 224,
        num_classes: int = 1000,
        dropout_rate: float = 0.2,
    ) -> None:
        super().__init__()
        self.image_size = image_size
        self.embedding_dim = HEAD_CHANNELS
        size = image_size
        self._conv_stem = SameConv2d(3, STEM_CHANNELS, 3, image_size=size, stride=2)
        self._bn0 = _bn(STEM_CHANNELS)
        size = math.ceil(size / 2)

        blocks: list[nn.Module] = []
        last = len(STAGES) - 1
        for i, (repeats, kernel, stride, expand, cin, cout) in enumerate(STAGES):
            cin = STEM_CHANNELS if i == 0 else round_filters(cin, width_multiplier)
            cout = round_filters(cout, width_multiplier)
            if i not in (0, last):  # Lite keeps the first and last stage's depth fixed
                repeats = round_repeats(repeats, depth_multiplier)
            for r in range(repeats):
                s = stride if r == 0 else 1
                blocks.append(MBConvBlock(cin if r == 0 else cout, cout, kernel, s, expand, size))
                size = math.ceil(size / s)
        self._blocks = nn.ModuleList(blocks)

        self._conv_head = SameConv2d(cout, HEAD_CHANNELS, 1, image_size=size)
        self._bn1 = _bn(HEAD_CHANNELS)
        self._act = nn.ReLU6(inplace=True)
        self._dropout = nn.Dropout(dropout_rate)
        self._fc = nn.Linear(HEAD_CHANNELS, num_classes)

    def forward_feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) normalised images -> (N, 1280, S/32, S/32): what each region looks like."""
        x = self._act(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        feature_map: torch.Tensor = self._act(self._bn1(self._conv_head(x)))
        return feature_map

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) normalised images -> (N, 1280) globally pooled embeddings."""
        return torch.flatten(F.adaptive_avg_pool2d(self.forward_feature_map(x), 1), 1)

    def forward_head(self, embedding: torch.Tensor) -> torch.Tensor:
        """(N, 1280) embeddings -> (N, num_classes) ImageNet logits."""
        logits: torch.Tensor = self._fc(self._dropout(embedding))
        return logits

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedding = self.forward_features(x)
        return embedding, self.forward_head(embedding)


def remap_checkpoint_keys(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Checkpoint keys -> our keys. The lukemelas layout is ours already; only strip the
    `module.` prefix that nn.DataParallel checkpoints carry."""
    return {k.removeprefix("module."): v for k, v in state_dict.items()}


def load_weights(model: EfficientNetLite, state_dict: Mapping[str, torch.Tensor], *, source: str) -> None:
    """Load a checkpoint, refusing any missing or unexpected key (a silent partial load would
    leave random layers and still produce plausible-looking embeddings)."""
    weights = remap_checkpoint_keys(state_dict)
    expected = set(model.state_dict())
    missing, unexpected = sorted(expected - weights.keys()), sorted(weights.keys() - expected)
    if missing or unexpected:
        raise ValueError(
            f"checkpoint {source} does not fit the EfficientNet-Lite architecture: "
            f"missing keys {missing}, unexpected keys {unexpected}; "
            "check the backbone's entry in models/backbones.toml"
        )
    model.load_state_dict(weights, strict=True)
