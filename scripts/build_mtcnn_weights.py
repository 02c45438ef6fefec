"""Build models/mtcnn.safetensors from the facenet-pytorch wheel, once, deterministically.

    python scripts/build_mtcnn_weights.py /tmp/fp/facenet_pytorch-2.5.3-py3-none-any.whl

facenet-pytorch (MIT, Tim Esler) ships MTCNN's three state dicts as pickled `.pt` files inside
its wheel. We never import that package (it pins an old torch and pulls `requests`); this
script reads the three files straight out of the wheel (a zip), loads them with
`weights_only=True` (no code runs), prefixes their keys with `pnet.`/`rnet.`/`onet.` and writes
one safetensors file, a format that cannot execute code. Same wheel in, same bytes out.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import torch
from safetensors.torch import save_file

NETS = ("pnet", "rnet", "onet")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "models" / "mtcnn.safetensors"


def read_state_dicts(wheel: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """All three state dicts merged under net-name prefixes, and each source file's SHA-256."""
    tensors: dict[str, torch.Tensor] = {}
    sources: dict[str, str] = {}
    with zipfile.ZipFile(wheel) as archive:
        for net in NETS:
            member = f"facenet_pytorch/data/{net}.pt"
            raw = archive.read(member)
            sources[f"{net}_pt_sha256"] = hashlib.sha256(raw).hexdigest()
            state = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
            for key in sorted(state):
                # contiguous float32 clones: safetensors refuses shared or strided storage.
                tensors[f"{net}.{key}"] = state[key].detach().to(torch.float32).contiguous().clone()
    return tensors, sources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheel", type=Path, help="facenet_pytorch-2.5.3-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    tensors, sources = read_state_dicts(args.wheel)
    metadata = {"source": "facenet-pytorch 2.5.3 (MIT, Tim Esler)", **sources}
    save_file(dict(sorted(tensors.items())), str(args.out), metadata=metadata)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {len(tensors)} tensors, sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
