"""MTCNN's three networks in torch, used only to export them to ONNX once (see core.faces).

Architecture of Zhang et al. 2016 as laid out by facenet-pytorch, whose state dicts
(models/mtcnn.safetensors, built by scripts/build_mtcnn_weights.py) these modules load
strictly. This module imports torch at the top: only core.faces' one-time export imports it.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

from photo_tagger.core.atomic import atomic_write_bytes

OPSET = 17
# Inputs are (x - 127.5) / 128 pixels; each net's outputs: (box regression, face/no-face softmax).
OUTPUT_NAMES = ("regression", "probability")


class PNet(nn.Module):
    """Proposal net: fully convolutional, a 12x12 window per output cell at stride 2."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, kernel_size=3)
        self.prelu1 = nn.PReLU(10)
        self.pool1 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(10, 16, kernel_size=3)
        self.prelu2 = nn.PReLU(16)
        self.conv3 = nn.Conv2d(16, 32, kernel_size=3)
        self.prelu3 = nn.PReLU(32)
        self.conv4_1 = nn.Conv2d(32, 2, kernel_size=1)
        self.conv4_2 = nn.Conv2d(32, 4, kernel_size=1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.conv4_2(x), torch.softmax(self.conv4_1(x), dim=1)


class RNet(nn.Module):
    """Refine net: 24x24 crops -> face probability and box regression."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 28, kernel_size=3)
        self.prelu1 = nn.PReLU(28)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(28, 48, kernel_size=3)
        self.prelu2 = nn.PReLU(48)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(48, 64, kernel_size=2)
        self.prelu3 = nn.PReLU(64)
        self.dense4 = nn.Linear(576, 128)
        self.prelu4 = nn.PReLU(128)
        self.dense5_1 = nn.Linear(128, 2)
        self.dense5_2 = nn.Linear(128, 4)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.prelu3(self.conv3(x))
        # The weights were converted from Caffe's (N, W, H, C) flattening order: keep it.
        x = x.permute(0, 3, 2, 1).flatten(1)
        x = self.prelu4(self.dense4(x))
        return self.dense5_2(x), torch.softmax(self.dense5_1(x), dim=1)


class ONet(nn.Module):
    """Output net: 48x48 crops -> face probability and box regression (landmarks unused)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3)
        self.prelu1 = nn.PReLU(32)
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)
        self.prelu2 = nn.PReLU(64)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv3 = nn.Conv2d(64, 64, kernel_size=3)
        self.prelu3 = nn.PReLU(64)
        self.pool3 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.conv4 = nn.Conv2d(64, 128, kernel_size=2)
        self.prelu4 = nn.PReLU(128)
        self.dense5 = nn.Linear(1152, 256)
        self.prelu5 = nn.PReLU(256)
        self.dense6_1 = nn.Linear(256, 2)
        self.dense6_2 = nn.Linear(256, 4)
        # Landmarks: kept so the state dict loads strictly; not exported.
        self.dense6_3 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.pool1(self.prelu1(self.conv1(x)))
        x = self.pool2(self.prelu2(self.conv2(x)))
        x = self.pool3(self.prelu3(self.conv3(x)))
        x = self.prelu4(self.conv4(x))
        x = x.permute(0, 3, 2, 1).flatten(1)  # Caffe order, as in RNet
        x = self.prelu5(self.dense5(x))
        return self.dense6_2(x), torch.softmax(self.dense6_1(x), dim=1)


# name -> (module class, example input shape, dynamic axes of the input)
NETS: dict[str, tuple[type[nn.Module], tuple[int, ...], dict[int, str]]] = {
    "pnet": (PNet, (1, 3, 64, 80), {2: "height", 3: "width"}),
    "rnet": (RNet, (2, 3, 24, 24), {0: "batch"}),
    "onet": (ONet, (2, 3, 48, 48), {0: "batch"}),
}


def load_nets(weights: Path) -> dict[str, nn.Module]:
    """The three nets in eval mode, each loaded strictly from its `<name>.` prefix."""
    state = load_file(str(weights))
    nets: dict[str, nn.Module] = {}
    for name, (cls, _, _) in NETS.items():
        net = cls()
        prefix = f"{name}."
        own = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
        result = net.load_state_dict(own, strict=True)
        # strict=True already raises; the assert documents that nothing is left over.
        assert not result.missing_keys and not result.unexpected_keys, result
        nets[name] = net.eval()
    if unknown := sorted(k for k in state if k.split(".", 1)[0] not in NETS):
        raise ValueError(f"{weights}: unexpected tensors {unknown[:5]}")
    return nets


def export(net: nn.Module, name: str, path: Path) -> None:
    """Export one net to `path` atomically, with its dynamic axes."""
    import onnx

    _, shape, dynamic = NETS[name]
    axes: dict[str, dict[int, str]] = {"input": dynamic}
    if name != "pnet":
        axes.update({out: {0: "batch"} for out in OUTPUT_NAMES})
    else:
        axes.update({out: {2: "out_height", 3: "out_width"} for out in OUTPUT_NAMES})
    with tempfile.TemporaryDirectory(prefix="photo-tagger-mtcnn-") as work:
        raw = Path(work) / f"{name}.onnx"
        # The TorchScript exporter warns about its own deprecation; the graph is what we verify.
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                net,
                (torch.zeros(shape),),
                str(raw),
                input_names=["input"],
                output_names=list(OUTPUT_NAMES),
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
                do_constant_folding=True,
            )
        model = onnx.load(str(raw))
    onnx.checker.check_model(model)
    atomic_write_bytes(path, model.SerializeToString())


def check_inputs(name: str) -> np.ndarray:
    """A deterministic input in the nets' value range; PNet's is not square and not a
    multiple of the pooling stride, to exercise the dynamic axes and ceil-mode pooling."""
    rng = np.random.default_rng(7)
    shape = {"pnet": (1, 3, 57, 91), "rnet": (5, 3, 24, 24), "onet": (3, 3, 48, 48)}[name]
    smooth = np.cumsum(rng.normal(0.0, 0.15, shape), axis=-1)
    return np.clip(smooth, -1.0, 1.0).astype(np.float32)


def torch_outputs(net: nn.Module, batch: np.ndarray) -> list[np.ndarray]:
    with torch.inference_mode():
        return [t.numpy() for t in net(torch.from_numpy(batch))]
