"""Running the core's generator jobs (index, train, ...) to the end in tests."""

from __future__ import annotations

from photo_tagger.core.indexer import IndexSummary, index_library
from photo_tagger.core.library import Library
from photo_tagger.core.progress import run_to_end


def run_index(library: Library, embedder, **options) -> IndexSummary:  # type: ignore[no-untyped-def]
    """Index `library` with the session's `embedder`, in small batches as a tiny library wants."""
    return run_to_end(index_library(library, embedder=embedder, batch_size=4, **options))
