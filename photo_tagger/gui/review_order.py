"""The order of Show › Review queue: most informative first (`service.review_queue`), the
rest after in name order. The ranking (~0.5 s at 10k photos) runs in the background once per
visit to the queue and after indexing or retraining, not at every refresh, so photos do not
jump around while you answer them."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from photo_tagger.core import service
from photo_tagger.core.library import Library
from photo_tagger.gui.notifier import Notifier
from photo_tagger.gui.op_runner import Op, OpRunner

REVIEW_RANK_LIMIT = 1_000_000  # photos ranked for the review queue's order: all of them


class ReviewOrder(QObject):
    """Orders the ids of the review queue, ranked by an op on `runner`."""

    ranked = Signal()  # a ranking is ready, or was dropped as stale: order the queue again

    def __init__(self, runner: OpRunner, notifier: Notifier, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner, self._notifier = runner, notifier
        self.rank: dict[int, int] | None = None  # photo id -> place in service.review_queue
        self._generation = 0  # bumped to drop a ranking computed for an older state
        self._ranking = False  # a ranking is being computed in the background

    def order(self, ids: list[int], library: Library) -> list[int]:
        """`ids` in queue order; unchanged (and a ranking started) until one is ready."""
        if self.rank is None:
            self._start_ranking(library)
            return ids
        last = len(self.rank)
        rank = self.rank
        return sorted(ids, key=lambda photo_id: rank.get(photo_id, last))

    def forget(self) -> None:
        self.rank = None
        self._generation += 1

    def _start_ranking(self, library: Library) -> None:
        """Ranks every unreviewed photo: the queue's ranking also covers photos outside
        the review band, so a limit of the grid's length could cut band photos off."""
        if self._ranking:
            return
        self._ranking = True
        generation = self._generation

        def done(ranked: list[int]) -> None:
            self._ranking = False
            if generation == self._generation:
                self.rank = {photo_id: place for place, photo_id in enumerate(ranked)}
            self.ranked.emit()  # the new order, or (stale result) ask again

        def failed(message: str) -> None:
            self._ranking = False
            self._notifier.error(message, modal_box=True)

        self._runner.run(Op(service.review_queue, library, REVIEW_RANK_LIMIT).success(done).failure(failed))
