"""Running the core's generator jobs (index, train, ...) to the end in tests."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from photo_tagger.core.indexer import IndexSummary, index_library
from photo_tagger.core.library import Library


def run_job(job: Generator[Any, None, Any]) -> Any:
    """Drive `job` through all its progress; returns what it returns."""
    try:
        while True:
            next(job)
    except StopIteration as done:
        return done.value


def run_index(library: Library, embedder, **options) -> IndexSummary:  # type: ignore[no-untyped-def]
    """Index `library` with the session's `embedder`, in small batches as a tiny library wants."""
    return run_job(index_library(library, embedder=embedder, batch_size=4, **options))
