"""Learning from the user's corrections, from the Tags menu: retraining (by hand, or
automatically after N corrections), the training report (which asks before a training
that scored lower is used), rolling a training back, and the threshold policy. Each job
is an op with its own outcome; the views refresh from the `Changes` it returns."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QInputDialog, QMessageBox

from photo_tagger.core import ops as core_ops
from photo_tagger.core import service
from photo_tagger.core.library import Library
from photo_tagger.core.report import TrainReport
from photo_tagger.gui.library_ops import LibraryOps, job_op
from photo_tagger.gui.op_runner import Op
from photo_tagger.gui.train_report_dialog import TrainReportDialog

RETRAIN_JOB = "Retraining"
ROLLBACK_JOB = "Rolling back the training"
ACTIVATE_JOB = "Using the new training"
AUTO_RETRAIN_DEFAULT = 50  # corrections
# Threshold policies offered in Tags > Suggestion thresholds: (label, target precision or None = max F1).
THRESHOLD_POLICIES = (
    ("Balanced: fewest missed and wrong suggestions together (best F1)", None),
    ("Surer: at least 80% of suggestions right", 0.8),
    ("Surer still: at least 90% right", 0.9),
    ("Almost always right: at least 95%", 0.95),
)


class Retraining(QObject):
    # the setting "Retrain automatically after N corrections": (enabled, N)
    auto_retrain_changed = Signal(bool, int)

    def __init__(self, ops: LibraryOps, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops, self.notifier, self.settings = ops, ops.notifier, settings
        self._auto_retrain_floor = 0  # after a failed automatic retrain: wait for N more corrections

    # -- by hand -------------------------------------------------------------------------
    def retrain(self) -> None:
        """A report follows, which asks when the new training scored lower."""
        self.ops.start_by_hand(RETRAIN_JOB, "retrain", lambda library: job_op(
            self.notifier, RETRAIN_JOB, core_ops.train, library).success(self.open_report))

    def rollback(self) -> None:
        """Re-activate the suggestions from before the last training (Tags › Roll back, or
        the report's button); the user's own tags are not touched."""
        def rolled_back(head_id: int | None) -> None:
            self.notifier.status("Rolled back: suggestions come from the zero-shot model again." if head_id is None
                                 else "Rolled back: suggestions come from the training before the last one again.",
                                 10000)

        self.ops.start_by_hand(ROLLBACK_JOB, "roll back", lambda library: job_op(
            self.notifier, ROLLBACK_JOB, core_ops.rollback, library).success(rolled_back))

    def activate_anyway(self, head_id: int) -> None:
        """The report's "Use it anyway": a training kept inactive for scoring lower."""
        self.ops.start_by_hand(ACTIVATE_JOB, "use the new training", lambda library: job_op(
            self.notifier, ACTIVATE_JOB, core_ops.activate_head, library, head_id).success(
            lambda _head_id: self.notifier.status("The new training is in use.", 10000)))

    def show_training_report(self) -> None:
        """Tags › Training report: the report stored with the suggestions in use."""
        library = self.ops.library()
        if library is None:
            return

        def show(report: TrainReport | None) -> None:
            if report is not None:
                self.open_report(report)
                return
            box = QMessageBox(QMessageBox.Icon.Information, "Training report",
                              "No training yet: the suggestions come from the zero-shot model. Correct some "
                              "photos, then use Tags \u203a Retrain suggestions.",
                              QMessageBox.StandardButton.Ok, self.notifier.parent)
            box.setObjectName("noTrainReport")
            self.notifier.open_dialog(box)

        self.ops.read(lambda: service.training_report(library), show)

    def open_report(self, report: TrainReport) -> None:
        """The report dialog: roll back from it, or use a training that was kept inactive."""
        dialog = TrainReportDialog(report, self.notifier.parent)
        dialog.rollback_requested.connect(self.rollback)
        dialog.activate_requested.connect(self.activate_anyway)
        self.notifier.open_dialog(dialog)

    def ask_threshold_policy(self) -> None:
        """How retraining sets each tag's threshold: best F1 or a precision to keep. Stored in
        the library (the CLI's `train --target-precision` reads and writes the same setting)."""
        library = self.ops.library()
        if library is None:
            return
        # The current setting is read off the GUI thread (the catalogue may be busy indexing).
        self.ops.read(lambda: service.training_target_precision(library),
                      lambda current: self._choose_threshold_policy(library, current))

    def _choose_threshold_policy(self, library: Library, current: float | None) -> None:
        labels = [label for label, _ in THRESHOLD_POLICIES]
        values = [value for _, value in THRESHOLD_POLICIES]
        if current not in values:  # set from the CLI to another value
            labels.append(f"At least {current:.0%} right (set from the command line)")
            values.append(current)
        label, ok = QInputDialog.getItem(
            self.notifier.parent, "Suggestion thresholds", "When retraining, choose each tag's threshold for:",
            labels, values.index(current), False,
        )
        if ok:
            self.ops.runner.run(
                Op(core_ops.set_threshold_policy, library, values[labels.index(label)])
                .success(lambda _none: self.notifier.status("Suggestion thresholds: used from the next retraining.",
                                                            8000))
                .failure(lambda message: self.notifier.error(message, modal_box=True)))

    # -- automatically -------------------------------------------------------------------
    def auto_retrain_enabled(self) -> bool:
        return bool(self.settings.value("autoRetrain/enabled", False, type=bool))

    def auto_retrain_after(self) -> int:
        return max(1, int(self.settings.value("autoRetrain/after", AUTO_RETRAIN_DEFAULT, type=int)))  # type: ignore[call-overload]

    def set_auto_retrain(self, enabled: bool, after: int | None = None) -> None:
        """The setting "Retrain automatically after N corrections" (kept in QSettings)."""
        self.settings.setValue("autoRetrain/enabled", bool(enabled))
        if after is not None:
            self.settings.setValue("autoRetrain/after", max(1, int(after)))
        self._auto_retrain_floor = 0
        self.auto_retrain_changed.emit(self.auto_retrain_enabled(), self.auto_retrain_after())

    def ask_auto_retrain_after(self) -> None:
        n, ok = QInputDialog.getInt(self.notifier.parent, "Auto-retrain",
                                    "Retrain automatically after this many corrections:",
                                    self.auto_retrain_after(), 1, 100_000)
        if ok:
            self.set_auto_retrain(True, n)

    def maybe_auto_retrain(self, count: int | None) -> bool:
        """After a tag change: retrain in the background once enough corrections piled up.
        `count` comes with the change, counted by the writer (None: it could not)."""
        session, runner = self.ops.session, self.ops.runner
        if session is None or runner.busy or count is None or not self.auto_retrain_enabled():
            return False
        if count < max(self.auto_retrain_after(), self._auto_retrain_floor):
            return False

        def trained(report: TrainReport) -> None:
            if not report.activated:  # kept inactive: the report asks
                self.open_report(report)
                return
            self._auto_retrain_floor = 0
            self.notifier.status(self._auto_retrain_summary(count, report), 15000)

        def ask_again_later() -> None:  # after N more corrections
            self._auto_retrain_floor = count + self.auto_retrain_after()

        def failed(message: str) -> None:
            ask_again_later()
            self.notifier.error(f"Automatic retrain stopped: {message}")

        def cancelled() -> None:
            ask_again_later()
            self.notifier.status(f"{RETRAIN_JOB} cancelled; finished work is saved.", 5000)

        op = Op(core_ops.train, session.library, in_child_process=True)
        return runner.start(RETRAIN_JOB, op.success(trained).failure(failed).on_cancel(cancelled))

    @staticmethod
    def _auto_retrain_summary(count: int, report: TrainReport) -> str:
        text = f"Retrained automatically after {count:,} corrections"
        before, after = report.before, report.after
        if getattr(before, "map", None) is not None and getattr(after, "map", None) is not None:
            text += f": mAP {before.map:.2f} \u2192 {after.map:.2f} (cross-validated)"
        return text + ". Tags \u203a Training report shows the details."
