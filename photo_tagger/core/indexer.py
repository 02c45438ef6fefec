"""Index a library: scan, prepare photos in a thread pool, store and suggest in batches.

Each photo is prepared whole in one of `workers` threads: decoded, made into the backbone's
views, searched for faces and embedded (Pillow and ONNX Runtime release the GIL). This thread
only scores and writes a batch at a time. So every core works until the last photo, and no
batch of views waits in memory for the backbone (benchmarks/ingest.py: embedding batches
in this thread left a core idle while the last batch ran, and cost 4 CPU ms per photo more
in copies and page faults). ONNX Runtime gives the same embedding for a photo alone as in
any batch (tests/core/test_indexer_stored_values.py).
A photo whose preparation runs past `decode_timeout_s` becomes an error row and its stuck
thread is replaced (decode_pool), so one hanging file costs one photo, never the whole run.
Progress is yielded, never printed; closing the generator cancels the job, and every
finished batch is already committed, so the next run resumes where this one stopped.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from photo_tagger.core import photo_errors
from photo_tagger.core.backbone import (
    BackboneSpec,
    Embedder,
    Preprocessing,
    classifier_weights,
    embed_views,
    get_backbone_spec,
    load_embedder,
    to_model_views,
)
from photo_tagger.core.decode_pool import CallTimedOut, DecodePool, PoolStalled, Task
from photo_tagger.core.decode_warnings import warnings_logged
from photo_tagger.core.faces import FACE_FEATURES, FaceDetector, face_summary, load_face_detector
from photo_tagger.core.imaging import PhotoDecodeError, decode_photo
from photo_tagger.core.keywords import (
    KeywordResult,
    KeywordSource,
    apply_sources,
    read_sources,
    sync_keywords,
)
from photo_tagger.core.library import Library
from photo_tagger.core.progress import Progress
from photo_tagger.core.scan import ScanSummary, reconcile, walk_photos
from photo_tagger.core.store import heads, photos, settings, suggestions
from photo_tagger.core.store.connection import Catalogue
from photo_tagger.core.suggest import (
    SUGGESTION_FLOOR,
    SuggestionModel,
    apply_model_thresholds,
    encode_faces,
    encode_vector,
    load_suggestion_model,
)

log = logging.getLogger(__name__)

# A 12 MP JPEG decodes in ~30 ms and the largest PNG we accept in ~12 s on a slow laptop, so
# a minute means the read or the decoder is stuck, not slow.
DECODE_TIMEOUT_S = 60.0
# Faces are looked for in the decoded photo at this shorter side (a 4:3 photo: 480 x 360), the
# backbone's views are made from the same image: one decode. A 12 MP JPEG still decodes at 1/8.
FACE_SHORT_SIDE = 360
# The smallest face looked for, in pixels of that image. benchmarks/faces.py on devset (person AP
# of the face alone, ms per photo): 480 px long side with 20 / 30 / 40 px faces 0.888 / 0.878 /
# 0.862, 27 / 15 / 10 ms. 40 keeps indexing 12 MP photos at 5.2x the naive loop (30: 4.8x,
# benchmarks/ingest.py) for person AP 0.956 instead of 0.960 (benchmarks/quality.py).
FACE_MIN_PX = 40


@dataclass
class IndexSummary:
    photos: int  # photos in the catalogue that are indexed and present
    indexed: int  # decoded + embedded in this run
    errors: int  # files that failed in this run
    seconds: float
    scan: ScanSummary = field(default_factory=ScanSummary)
    error_messages: list[str] = field(default_factory=list)
    keywords: KeywordResult = field(default_factory=KeywordResult)  # tags from embedded/sidecar keywords
    # A head was trained for an earlier pipeline (other views or weights) and none for this one:
    # the user's corrections are kept, but the suggestions learn from them only once retrained.
    earlier_training: bool = False

    @property
    def photos_per_s(self) -> float:
        return self.indexed / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Preparation:
    workers: int
    timeout_s: float
    read_keywords: bool
    faces: FaceDetector
    embedder: Embedder


@dataclass
class _Prepared:
    photo_id: int
    path: str
    embedding: np.ndarray | None = None  # the mean of its views' embeddings
    faces: np.ndarray | None = None  # face_summary
    thumbnail: bytes = b""
    thumbnail_size: tuple[int, int] = (0, 0)
    width: int = 0
    height: int = 0
    taken_at: str | None = None
    error: str | None = None
    keywords: list[KeywordSource] | None = None  # None: keyword reading is off


def decode_short_side(spec: BackboneSpec) -> int:
    """The shorter side photos are decoded to: enough for the backbone and for faces."""
    return max(spec.preprocessing.resize_size, FACE_SHORT_SIDE)


def backbone_key(spec: BackboneSpec) -> str:
    """Identifies the embedding space: a new backbone, new weights or other views re-embed."""
    return f"{spec.id}:{spec.weights_sha256()[:16]}:{'+'.join(spec.preprocessing.views)}"


def index_library(
    library: Library,
    *,
    batch_size: int = 16,
    workers: int = 2,
    embedder: Embedder | None = None,
    faces: FaceDetector | None = None,
    keywords: bool | None = None,
    decode_timeout_s: float = DECODE_TIMEOUT_S,
) -> Generator[Progress, None, IndexSummary]:
    """Bring the catalogue up to date with the folder. Yields progress; returns a summary.
    `batch_size`: photos scored and written in one transaction; `workers`: threads that prepare photos.
    `keywords`: read keywords already in the photos and sidecars (None: the library setting).
    `decode_timeout_s`: a photo whose preparation (read, decode, faces, embedding) takes longer is
    skipped with an error row."""
    if batch_size < 1 or workers < 1:
        raise ValueError("batch_size and workers must be at least 1")
    if not decode_timeout_s > 0:
        raise ValueError(f"decode_timeout_s must be positive, not {decode_timeout_s!r}")
    start = time.perf_counter()
    with library.connect() as catalogue:
        read_keywords = settings.keywords_enabled(catalogue) if keywords is None else keywords
        yield Progress("scanning", message=f"Scanning {library.root}")
        files = list(walk_photos(library.root))
        scan = reconcile(catalogue, library.root, files)
        spec = embedder.spec if embedder is not None else get_backbone_spec()
        key = backbone_key(spec)
        todo = photos.photos_to_index(catalogue, key)
        summary = IndexSummary(0, 0, scan.errors, 0.0, scan)
        total = len(todo)
        if todo:  # an unchanged library never pays for loading the model
            detector = faces or load_face_detector(min_face_px=FACE_MIN_PX)
            preparation = _Preparation(workers, decode_timeout_s, read_keywords, detector,
                                       embedder or load_embedder(spec.id))
            yield from _embed_all(catalogue, library.root, todo, key, summary, batch_size, preparation, start)
        if read_keywords:  # sidecars edited since, photos indexed while reading was off
            yield Progress("scanning", 0, 0, time.perf_counter() - start, "Reading keywords", summary.errors)
            with warnings_logged(f"reading keywords under {library.root}"):
                synced = sync_keywords(catalogue, library.root)
            summary.keywords = _merge_keywords(summary.keywords, synced)
        summary.photos = photos.library_counts(catalogue).get("ok", 0)
        summary.earlier_training = heads.trained_only_for_other_backbones(catalogue, key)
        summary.seconds = time.perf_counter() - start
        yield Progress("done", summary.indexed + summary.errors - scan.errors, total, summary.seconds,
                       errors=summary.errors)
        return summary


def _embed_all(
    catalogue: Catalogue,
    root: Path,
    todo: list[tuple[int, str]],
    key: str,
    summary: IndexSummary,
    batch_size: int,
    preparation: _Preparation,
    start: float,
) -> Iterator[Progress]:
    spec = preparation.embedder.spec
    model = load_suggestion_model(catalogue, key, classifier_weights(spec))
    apply_model_thresholds(catalogue, model)
    total = len(todo)
    yield Progress("indexing", 0, total, time.perf_counter() - start, errors=summary.errors)
    batch: list[_Prepared] = []
    # Scoring a batch is a few small matrix products. A multi-threaded BLAS wakes a thread
    # per core for each and leaves them spinning, which takes the cores from the decoders:
    # one BLAS thread makes the whole pipeline ~12 % faster (benchmarks/ingest.py).
    with threadpool_limits(limits=1, user_api="blas"):
        for prepared in _prepare_in_pool(root, todo, preparation, batch_size):
            batch.append(prepared)
            if len(batch) >= batch_size:
                _store_batch(catalogue, batch, spec.embedding_dim, model, key, summary)
                batch = []
                yield _progress(summary, total, start)
        if batch:
            _store_batch(catalogue, batch, spec.embedding_dim, model, key, summary)


def _progress(summary: IndexSummary, total: int, start: float) -> Progress:
    done = summary.indexed + summary.errors - summary.scan.errors
    return Progress("indexing", done, total, time.perf_counter() - start, errors=summary.errors)


def _prepare_in_pool(
    root: Path, todo: list[tuple[int, str]], preparation: _Preparation, batch_size: int
) -> Iterator[_Prepared]:
    """Prepare photos in a thread pool, at most a few batches ahead of the consumer."""
    spec = preparation.embedder.spec
    preprocessing = spec.preprocessing
    short_side = decode_short_side(spec)
    window = max(2 * batch_size, 4 * preparation.workers)
    pool = DecodePool(preparation.workers, preparation.timeout_s)
    pending: deque[tuple[int, str, Task[_Prepared]]] = deque()
    rows = iter(todo)
    try:
        while True:
            while len(pending) < window:
                row = next(rows, None)
                if row is None:
                    break
                photo_id, path = row
                pending.append((photo_id, path, pool.submit(partial(
                    _prepare_one, root, photo_id, path, short_side, preprocessing, preparation.faces,
                    preparation.embedder, preparation.read_keywords))))
            if not pending:
                return
            yield _collect(pool, *pending.popleft())
    finally:
        # Closing the generator (cancel) drops queued decodes; running ones end on their own.
        pool.close()


def _collect(pool: DecodePool, photo_id: int, path: str, task: Task[_Prepared]) -> _Prepared:
    try:
        return pool.result(task)
    except CallTimedOut:
        return _Prepared(photo_id, path, error=photo_errors.decode_timed_out(pool.timeout_s))
    except PoolStalled:
        return _Prepared(photo_id, path, error=photo_errors.pool_stalled(pool.stuck))


def _prepare_one(
    root: Path, photo_id: int, path: str, short_side: int, preprocessing: Preprocessing,
    faces: FaceDetector, embedder: Embedder, read_keywords: bool = False,
) -> _Prepared:
    try:
        decoded = decode_photo(root / path, short_side)
        views = to_model_views(decoded.model_image, preprocessing)
        image = decoded.model_image
        found = faces.detect(np.asarray(image))
        summary = face_summary(found, *image.size)
    except PhotoDecodeError as exc:
        return _Prepared(photo_id, path, error=str(exc))
    except Exception as exc:  # a decoder bug must cost one photo, not the whole run
        log.exception("%s: unexpected error while decoding", path)
        return _Prepared(photo_id, path, error=f"unexpected decoder error ({type(exc).__name__}: {exc})")
    # Outside the try: a failing backbone is no fault of the photo, and stops the run.
    embedding = embed_views(embedder, views[None])[0]
    keywords = None
    if read_keywords:
        with warnings_logged(path):
            keywords = read_sources(root, path)  # headers only, no pixels
    return _Prepared(
        photo_id, path, embedding, summary, decoded.thumbnail_jpeg, decoded.thumbnail_size,
        decoded.width, decoded.height, decoded.taken_at, keywords=keywords,
    )


def _store_batch(
    catalogue: Catalogue,
    batch: list[_Prepared],
    embedding_dim: int,
    model: SuggestionModel,
    key: str,
    summary: IndexSummary,
) -> None:
    good = [p for p in batch if p.error is None]
    embeddings = np.zeros((0, embedding_dim), np.float32)
    faces = np.zeros((len(good), FACE_FEATURES), np.float32)
    if good:
        embeddings = np.stack([p.embedding for p in good])  # type: ignore[misc]
        faces = np.stack([p.faces for p in good])  # type: ignore[misc]
    scores = model.score(embeddings, faces)
    now = time.time()
    with catalogue.transaction():
        for prepared in batch:
            if prepared.error is not None:
                photos.set_index_error(catalogue, prepared.photo_id, prepared.error, now)
                log.warning("%s: %s", prepared.path, prepared.error)
                summary.errors += 1
                summary.error_messages.append(f"{prepared.path}: {prepared.error}")
        for prepared, vector in zip(good, embeddings, strict=True):
            photos.store_indexed(catalogue, photos.IndexedPhoto(
                prepared.photo_id, prepared.width, prepared.height, prepared.taken_at, prepared.thumbnail,
                prepared.thumbnail_size, encode_vector(vector), encode_faces(prepared.faces),  # type: ignore[arg-type]
            ), key, now)
            if prepared.keywords is not None:
                apply_sources(catalogue, prepared.photo_id, prepared.keywords, summary.keywords)
        suggestions.write_suggestions(catalogue, [p.photo_id for p in good], scores, model.tag_ids,
                                   floor=SUGGESTION_FLOOR)
    summary.indexed += len(good)


def _merge_keywords(a: KeywordResult, b: KeywordResult) -> KeywordResult:
    return KeywordResult(a.applied + b.applied, a.created_tags + b.created_tags, a.warnings + b.warnings)
