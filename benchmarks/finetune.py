"""Would fine-tuning the backbone's last stages on ../shared/trainset give better embeddings?

Research, not the app's path: the app's embeddings come from the ImageNet weights as they ship.
The frozen trunk (stem and blocks[:SPLIT]) runs once per view (centre + whole at the app's input
size) and its output is kept in memory; the blocks from --first-block on, the 1x1 head conv and
a new linear layer over COCO's classes (trainset classes with >= 5 photos, person aside) are
then trained on the mean of both views' pooled embeddings, as the app pools them:
  frozen     only the new linear layer learns (a linear probe trained the same way)
  finetuned  the chosen blocks learn too (AdamW, one-cycle, BatchNorm statistics frozen,
             random horizontal flips of the kept trunk output), with learning without
             forgetting: a KL term keeps the ImageNet classifier's outputs (T = 2) where they
             were, so the taxonomy's ImageNet prior would still hold
Both report mAP on ../shared/devset over the classes with >= 3 photos there (measured once,
nothing chosen on it).

    python benchmarks/finetune.py [--first-block 11] [--epochs 6] [--lwf 1.0]

Blocks 11-15 are EfficientNet-Lite0's last two stages (192 and 320 channels). About 20 minutes
on 2 cores at --first-block 11; the trunk outputs take ~550 MB. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from script_modules import BUILD_SCRIPT, load_module
from torch import nn

from photo_tagger.core.backbone import build_torch_model, get_backbone_spec, to_model_views
from photo_tagger.core.imaging import decode_photo
from photo_tagger.core.indexer import decode_short_side
from photo_tagger.core.metrics import average_precision_score

REPO = Path(__file__).resolve().parents[1]
SPLIT = 11  # the trunk ends here: the latest first trainable block offered
BATCH = 32
TEMPERATURE = 2.0


def trunk_outputs(model, folder: Path, paths: list[str]) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """(N, 2, C, H, W) float16 trunk outputs of both views, (N, 2, 1000) ImageNet logits."""
    spec = get_backbone_spec()
    trunks, logits = [], []
    started = time.perf_counter()
    for begin in range(0, len(paths), 16):
        chunk = paths[begin: begin + 16]
        views = np.stack([to_model_views(decode_photo(folder / p, decode_short_side(spec)).model_image,
                                         spec.preprocessing) for p in chunk])
        with torch.no_grad():
            x = torch.from_numpy(views.reshape(-1, *views.shape[2:]))
            x = model._act(model._bn0(model._conv_stem(x)))
            for block in model._blocks[:SPLIT]:
                x = block(x)
            trunks.append(x.half().numpy().reshape(len(chunk), 2, *x.shape[1:]))
            for block in model._blocks[SPLIT:]:
                x = block(x)
            embedding = model._act(model._bn1(model._conv_head(x))).mean((2, 3))
            logits.append(model._fc(embedding).numpy().reshape(len(chunk), 2, -1))
        print(f"\r{folder.name}: {begin + len(chunk)}/{len(paths)} photos, {time.perf_counter() - started:.0f} s",
              end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return np.concatenate(trunks), np.concatenate(logits)


class Top(nn.Module):
    """The trainable end of the backbone plus a linear layer over the classes."""

    def __init__(self, model, first_block: int, classes: int, prevalence: np.ndarray) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.frozen = nn.Sequential(*model._blocks[SPLIT:first_block]).eval()
        self.blocks = nn.Sequential(*copy.deepcopy(list(model._blocks[first_block:])))
        self.conv = copy.deepcopy(model._conv_head)
        self.bn = copy.deepcopy(model._bn1)
        self.imagenet = model._fc
        self.classes = nn.Linear(model._fc.in_features, classes)
        nn.init.zeros_(self.classes.weight)
        with torch.no_grad():
            self.classes.bias.copy_(torch.from_numpy(np.log(prevalence / (1 - prevalence))))
        for p in list(self.frozen.parameters()) + list(self.imagenet.parameters()):
            p.requires_grad_(False)

    def embed_views(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            x = self.frozen(x)
        return F.relu6(self.bn(self.conv(self.blocks(x)))).mean((2, 3))

    def freeze_statistics(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()


def train(top: Top, trunks: np.ndarray, teacher: np.ndarray, y: np.ndarray, *, finetune: bool, epochs: int,
          lwf: float, lr: float, head_lr: float) -> float:
    for p in list(top.blocks.parameters()) + list(top.conv.parameters()) + list(top.bn.parameters()):
        p.requires_grad_(finetune)
    groups = [{"params": list(top.classes.parameters()), "lr": head_lr, "weight_decay": 1e-4}]
    if finetune:
        groups.append({"params": [p for m in (top.blocks, top.conv, top.bn) for p in m.parameters()],
                       "lr": lr, "weight_decay": 1e-4})
    optimiser = torch.optim.AdamW(groups)
    steps = epochs * -(-len(y) // BATCH)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=[g["lr"] for g in groups], total_steps=steps,
                                                   pct_start=0.15)
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    for epoch in range(epochs):
        top.train()
        top.freeze_statistics()
        order = rng.permutation(len(y))
        total = 0.0
        for begin in range(0, len(order), BATCH):
            rows = np.sort(order[begin: begin + BATCH])
            n = len(rows)
            x = torch.from_numpy(trunks[rows].astype(np.float32)).reshape(n * 2, *trunks.shape[2:])
            flip = torch.from_numpy(rng.random(n) < 0.5).repeat_interleave(2)
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            views = top.embed_views(x)
            logit = top.classes(F.dropout(views.reshape(n, 2, -1).mean(1), 0.2, training=True))
            loss = F.binary_cross_entropy_with_logits(logit, torch.from_numpy(y[rows]))
            if finetune and lwf:
                student = F.log_softmax(top.imagenet(views) / TEMPERATURE, -1)
                target = F.softmax(torch.from_numpy(teacher[rows]).reshape(n * 2, -1) / TEMPERATURE, -1)
                loss = loss + lwf * F.kl_div(student, target, reduction="batchmean") * TEMPERATURE ** 2
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * n
        print(f"  epoch {epoch + 1}/{epochs}: loss {total / len(y):.4f}, {time.perf_counter() - started:.0f} s",
              file=sys.stderr, flush=True)
    return time.perf_counter() - started


def devset_map(top: Top, trunks: np.ndarray, y: np.ndarray) -> float:
    top.eval()
    scores = []
    with torch.no_grad():
        for begin in range(0, len(trunks), 64):
            x = torch.from_numpy(trunks[begin: begin + 64].astype(np.float32))
            n = x.shape[0]
            embedding = top.embed_views(x.reshape(n * 2, *x.shape[2:])).reshape(n, 2, -1).mean(1)
            scores.append(torch.sigmoid(top.classes(embedding)).numpy())
    s = np.concatenate(scores)
    return float(np.mean([average_precision_score(y[:, j], s[:, j]) for j in range(y.shape[1]) if y[:, j].sum() >= 3]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trainset", type=Path, default=REPO.parent / "shared" / "trainset")
    parser.add_argument("--devset", type=Path, default=REPO.parent / "shared" / "devset")
    parser.add_argument("--first-block", type=int, default=11, help=f"first trained block, {SPLIT}-15")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lwf", type=float, default=1.0, help="weight of the ImageNet-output KL term")
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--head-lr", type=float, default=3e-3)
    args = parser.parse_args()
    if not SPLIT <= args.first_block <= 15:
        parser.error(f"--first-block must be {SPLIT}-15")
    torch.manual_seed(0)
    torch.set_num_threads(2)

    model = build_torch_model(get_backbone_spec())
    build = load_module(BUILD_SCRIPT)
    train_paths, train_classes = build.read_labels(args.trainset, None)
    dev_paths, dev_classes = build.read_labels(args.devset, None)
    classes = sorted(c for c in {c for cs in train_classes for c in cs} - {"person"}
                     if sum(c in cs for cs in train_classes) >= 5)
    y_train = np.array([[c in cs for c in classes] for cs in train_classes], np.float32)
    y_dev = np.array([[c in cs for c in classes] for cs in dev_classes], np.float32)
    train_trunks, teacher = trunk_outputs(model, args.trainset, train_paths)
    dev_trunks, _ = trunk_outputs(model, args.devset, dev_paths)
    prevalence = y_train.mean(0).clip(1e-3, 1 - 1e-3)

    figures: dict[str, float | int] = {"train_photos": len(y_train), "devset_photos": len(y_dev),
                                       "classes": len(classes), "first_block": args.first_block,
                                       "epochs": args.epochs}
    for kind in ("frozen", "finetuned"):
        print(f"{kind}:", file=sys.stderr)
        top = Top(model, args.first_block, len(classes), prevalence)
        seconds = train(top, train_trunks, teacher, y_train, finetune=kind == "finetuned", epochs=args.epochs,
                        lwf=args.lwf, lr=args.lr, head_lr=args.head_lr)
        figures[f"{kind}_devset_map"] = round(devset_map(top, dev_trunks, y_dev), 4)
        figures[f"{kind}_train_s"] = round(seconds, 1)
        print(f"{kind}: devset mAP {figures[f'{kind}_devset_map']} over the classes with >= 3 photos"
              f" ({seconds:.0f} s training)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
