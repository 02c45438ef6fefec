"""The app never runs code from a library or a cache (no pickle, weights_only torch
loads, heads in safetensors) and, while indexing, writes nothing in the library outside
its own `.photo-tagger/` folder."""

from __future__ import annotations

import ast
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
from photos import noise_photo, save_photo
from robustness.common import EXE

import photo_tagger
from photo_tagger.core.backbone import classifier_weights, get_backbone_spec
from photo_tagger.core.head import HeadFormatError, TagHead
from photo_tagger.core.indexer import backbone_key
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.suggest import load_suggestion_model

PACKAGE = Path(photo_tagger.__file__).parent
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "joblib", "shelve", "marshal", "cloudpickle"}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            keywords = {k.arg: k.value for k in node.keywords}
            yield node, owner, name, keywords


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def test_no_module_can_unpickle_or_eval() -> None:
    problems = []
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 10
    for source in sources:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        where = source.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                problems += [f"{where}:{node.lineno} imports {a.name}" for a in node.names
                             if a.name.split(".")[0] in UNSAFE_MODULES]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
                problems.append(f"{where}:{node.lineno} imports from {node.module}")
        for node, owner, name, keywords in _calls(tree):
            if owner == "torch" and name == "load" and not _is_true(keywords.get("weights_only")):
                problems.append(f"{where}:{node.lineno} torch.load without weights_only=True")
            if name == "load" and owner in ("np", "numpy") and not (
                isinstance(keywords.get("allow_pickle"), ast.Constant) and keywords["allow_pickle"].value is False
            ):
                problems.append(f"{where}:{node.lineno} np.load without allow_pickle=False")
            if owner == "" and name in ("eval", "exec"):
                problems.append(f"{where}:{node.lineno} calls {name}()")
    assert problems == []


class _Payload:
    """Unpickling this would create `marker`: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickled_head_in_the_catalogue_is_refused_and_never_run(tmp_path: Path, embedder) -> None:
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Payload(marker))
    try:
        TagHead.from_bytes(payload)
    except HeadFormatError:
        pass
    spec = get_backbone_spec()
    key = backbone_key(spec)
    with Catalogue(tmp_path / "c.sqlite") as cat:
        with cat.transaction() as conn:
            # a head knows a tag by its path: the taxonomy's animal|cat, in every catalogue
            conn.execute(
                "INSERT INTO heads(backbone, created_at, format_version, tag_names, weights, active)"
                " VALUES (?, 0, 1, '[\"cat\"]', ?, 1)", (key, payload),
            )
        model = load_suggestion_model(cat, key, classifier_weights(spec))
    assert model.head_id is None  # fell back to the taxonomy prior
    assert np.isfinite(model.score(np.zeros((1, spec.embedding_dim), np.float32))[0, 1])
    assert not marker.exists()


def _tree_state(root: Path) -> dict[str, tuple[int, int]]:
    state = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".photo-tagger"]
        for name in files + dirs:
            path = Path(folder) / name
            st = path.lstat()
            state[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return state


def test_indexing_writes_only_inside_the_app_folder(tmp_path: Path, embedder) -> None:
    root = tmp_path / "Photos"
    for i in range(5):
        save_photo(noise_photo(i, (200, 150)), root / f"sub{i % 2}" / f"p{i}.jpg", quality=80)
    (root / "notes.txt").write_text("not a photo")
    (root / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    before = _tree_state(root)
    result = subprocess.run([EXE, "index", str(root)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert _tree_state(root) == before
    assert sorted(p.name for p in root.iterdir()) == [".photo-tagger", "broken.jpg", "notes.txt", "sub0", "sub1"]
