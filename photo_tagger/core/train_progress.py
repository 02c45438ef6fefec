"""Progress of a training, a rollback or a suggestion refresh."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TrainProgress:
    phase: str  # "loading", "cross-validating", "fitting", "saving", "refreshing", "done"
    done: int
    total: int
    elapsed_s: float
    message: str = ""
