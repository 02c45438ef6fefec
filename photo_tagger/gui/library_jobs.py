"""Library-wide background jobs started from the main window: indexing, CSV and XMP sidecar
export, retraining (by hand or automatically after N corrections), and what the window
shows when one finishes, fails or is cancelled."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from photo_tagger.core import service
from photo_tagger.core.report import TrainReport
from photo_tagger.gui.jobs import apply_import_job, export_sidecars_job, sidecar_summary_text
from photo_tagger.gui.train_report_dialog import TrainReportDialog

if TYPE_CHECKING:
    from photo_tagger.gui.main_window import MainWindow

SIDECAR_JOB = "Exporting XMP sidecars"
IMPORT_JOB = "Importing tags"
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


class LibraryJobs:
    """Owned by the main window; starts jobs on `window.jobs` and reports their outcome."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._auto_retraining = False  # the running "Retraining" job was started by auto-retrain
        self._auto_retrain_floor = 0  # after a failed automatic retrain: wait for N more corrections
        self._auto_retrain_count = 0

    def start_indexing(self) -> None:
        w = self.window
        if w.session is None or w.jobs.busy:
            return
        w.jobs.start("Indexing", service.index, w.session.library)

    # -- export ----------------------------------------------------------------------------
    def export_csv(self, out: Path | None = None) -> None:
        w = self.window
        if w.session is None:
            w.show_error("Open a folder first.", modal_box=True)
            return
        if out is None:
            name, _ = QFileDialog.getSaveFileName(w, "Export tags as CSV", str(Path.home() / "tags.csv"),
                                                  "CSV files (*.csv)")
            if not name:
                return
            out = Path(name)
        library = w.session.library
        w.run_call(lambda: service.export_library_csv(library, out),
                    lambda result: w.statusBar().showMessage(f"Wrote {result.photos:,} photos to {result.path}",
                                                             8000))

    # -- import ----------------------------------------------------------------------------
    def import_tags(self, source: Path | None = None) -> None:
        """File › Import tags…: choose a file (or pass `source`), work out in the pool what
        importing it would change, then ask before applying it as a job."""
        w = self.window
        if w.session is None:
            w.show_error("Open a folder first.", modal_box=True)
            return
        if source is None:
            name, _ = QFileDialog.getOpenFileName(w, "Import tags", str(Path.home()),
                                                  "Tag files (*.csv *.json);;All files (*)")
            if not name:
                return
            source = Path(name)
        library = w.session.library
        w.run_call(lambda: service.plan_library_import(library, source), self._ask_to_apply)

    def _ask_to_apply(self, plan: service.ImportPlan) -> None:
        text = f"Importing {plan.source.name} will change: {plan.summary_text()}."
        if plan.problems:
            text += "\n\n" + "\n".join(plan.problems[:5]) + ("\n\u2026" if len(plan.problems) > 5 else "")
        if not plan.changes:
            self.window.statusBar().showMessage(f"{plan.source.name}: nothing to change ({plan.summary_text()})",
                                                10000)
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Import tags", text + "\n\nApply?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self.window)
        box.setObjectName("importPlan")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.accepted.connect(lambda: self._start_by_hand(IMPORT_JOB, apply_import_job, "import tags", plan,
                                                         child_process=self.window.export_in_child_process))
        box.open()

    def export_sidecars(self) -> None:
        """Write or update an XMP sidecar next to each photo (File › Export XMP sidecars)."""
        self._start_by_hand(SIDECAR_JOB, export_sidecars_job, "export sidecars",
                            child_process=self.window.export_in_child_process)

    def _start_by_hand(self, name: str, target: Any, what: str, *args: Any, child_process: bool = True) -> None:
        """Start `target(library, *args)` as job `name` from a menu or button; `what` the user
        asked for, said back when another job is running."""
        w = self.window
        if w.session is None:
            w.show_error("Open a folder first.", modal_box=True)
        elif w.jobs.busy:
            w.show_error(f"{w.jobs.name} is running; {what} when it has finished.")
        else:
            w.jobs.start(name, target, w.session.library, *args, child_process=child_process)

    def _show_sidecar_summary(self, summary: Any) -> None:
        text = sidecar_summary_text(summary)
        self.window.statusBar().showMessage(text, 15000)
        if summary.errors:
            box = QMessageBox(QMessageBox.Icon.Warning, "Export XMP sidecars",
                              text + "\nThese files were left untouched:\n" + "\n".join(summary.errors[:10])
                              + ("\n\u2026" if len(summary.errors) > 10 else ""),
                              QMessageBox.StandardButton.Ok, self.window)
            box.setObjectName("sidecarErrors")
            box.setDetailedText("\n".join(summary.errors))
            self.window.open_dialog(box)

    # -- retrain -----------------------------------------------------------------------------
    def retrain(self) -> None:
        self._start_by_hand(RETRAIN_JOB, service.train, "retrain", child_process=self.window.train_in_child_process)

    def rollback(self) -> None:
        """Re-activate the suggestions from before the last training (Tags › Roll back, or
        the report's button); the user's own tags are not touched."""
        self._start_by_hand(ROLLBACK_JOB, service.rollback, "roll back")

    def activate_anyway(self, head_id: int) -> None:
        """The report's "Use it anyway": a training kept inactive for scoring lower."""
        self._start_by_hand(ACTIVATE_JOB, service.activate_head, "use the new training", head_id)

    def show_training_report(self) -> None:
        """Tags › Training report: the report stored with the suggestions in use."""
        w = self.window
        if w.session is None:
            w.show_error("Open a folder first.", modal_box=True)
            return
        library = w.session.library

        def show(report: TrainReport | None) -> None:
            if report is None:
                box = QMessageBox(QMessageBox.Icon.Information, "Training report",
                                  "No training yet: the suggestions come from the zero-shot model. Correct some "
                                  "photos, then use Tags \u203a Retrain suggestions.",
                                  QMessageBox.StandardButton.Ok, w)
                box.setObjectName("noTrainReport")
                w.open_dialog(box)
            else:
                self.open_report(report)

        w.run_call(lambda: service.training_report(library), show)

    def ask_threshold_policy(self) -> None:
        """How retraining sets each tag's threshold: best F1 or a precision to keep. Stored in
        the library (the CLI's `train --target-precision` reads and writes the same setting)."""
        w = self.window
        if w.session is None:
            w.show_error("Open a folder first.", modal_box=True)
            return
        current = service.training_target_precision(w.session.library)
        labels = [label for label, _ in THRESHOLD_POLICIES]
        values = [value for _, value in THRESHOLD_POLICIES]
        if current not in values:  # set from the CLI to another value
            labels.append(f"At least {current:.0%} right (set from the command line)")
            values.append(current)
        label, ok = QInputDialog.getItem(
            w, "Suggestion thresholds", "When retraining, choose each tag's threshold for:",
            labels, values.index(current), False,
        )
        if ok:
            service.set_training_target_precision(w.session.library, values[labels.index(label)])
            w.statusBar().showMessage("Suggestion thresholds: used from the next retraining.", 8000)

    def auto_retrain_enabled(self) -> bool:
        return bool(self.window.settings.value("autoRetrain/enabled", False, type=bool))

    def auto_retrain_after(self) -> int:
        return max(1, int(self.window.settings.value("autoRetrain/after", AUTO_RETRAIN_DEFAULT, type=int)))  # type: ignore[call-overload]

    def set_auto_retrain(self, enabled: bool, after: int | None = None) -> None:
        """The setting "Retrain automatically after N corrections" (kept in QSettings)."""
        self.window.settings.setValue("autoRetrain/enabled", bool(enabled))
        if after is not None:
            self.window.settings.setValue("autoRetrain/after", max(1, int(after)))
        self._auto_retrain_floor = 0
        self.update_auto_retrain_action()

    def auto_retrain_toggled(self, checked: bool) -> None:
        self.set_auto_retrain(checked)

    def update_auto_retrain_action(self) -> None:
        action = self.window.auto_retrain_action
        action.setText(f"Retrain a&utomatically after {self.auto_retrain_after():,} corrections")
        action.setChecked(self.auto_retrain_enabled())

    def ask_auto_retrain_after(self) -> None:
        n, ok = QInputDialog.getInt(self.window, "Auto-retrain", "Retrain automatically after this many corrections:",
                                    self.auto_retrain_after(), 1, 100_000)
        if ok:
            self.set_auto_retrain(True, n)

    def maybe_auto_retrain(self, count: int | None) -> bool:
        """After a tag change: retrain in the background once enough corrections piled up.
        `count` comes with the change, counted by the writer (None: it could not)."""
        w = self.window
        if w.session is None or w.jobs.busy or count is None or not self.auto_retrain_enabled():
            return False
        if count < max(self.auto_retrain_after(), self._auto_retrain_floor):
            return False
        started = w.jobs.start(RETRAIN_JOB, service.train, w.session.library,
                               child_process=w.train_in_child_process)
        if started:
            self._auto_retraining = True
            self._auto_retrain_count = count
        return started

    # -- outcomes ----------------------------------------------------------------------------
    def job_cancelled(self, name: str) -> None:
        if name == RETRAIN_JOB and self._auto_retraining:  # cancelled: ask again after N more
            self._auto_retraining = False
            self._auto_retrain_floor = self._auto_retrain_count + self.auto_retrain_after()
        self.window.statusBar().showMessage(f"{name} cancelled; finished work is saved.", 5000)

    def job_failed(self, name: str, message: str) -> None:
        if name == RETRAIN_JOB and self._auto_retraining:
            self._auto_retraining = False
            self._auto_retrain_floor = self._auto_retrain_count + self.auto_retrain_after()
            self.window.show_error(f"Automatic retrain stopped: {message}")
            return
        self.window.show_error(f"{name} stopped: {message}")

    def job_finished(self, name: str, result: Any) -> None:
        w = self.window
        w.forget_review_order()  # new scores: rank the review queue again
        if name == ACTIVATE_JOB:
            w._tags_changed()
            w.statusBar().showMessage("The new training is in use.", 10000)
            return
        if name == ROLLBACK_JOB:
            w._tags_changed()
            w.statusBar().showMessage(
                "Rolled back: suggestions come from the zero-shot model again." if result is None
                else "Rolled back: suggestions come from the training before the last one again.", 10000)
            return
        if name == RETRAIN_JOB:
            w._tags_changed()  # new thresholds and scores everywhere
            if self._auto_retraining and getattr(result, "activated", True):
                self._auto_retraining = False
                self._auto_retrain_floor = 0
                w.statusBar().showMessage(self._auto_retrain_summary(result), 15000)
            else:  # by hand, or kept inactive: show the report, which asks
                self._auto_retraining = False
                self._show_training_report(result)
            return
        if name == SIDECAR_JOB:
            self._show_sidecar_summary(result)
            return
        if name == IMPORT_JOB:
            w._tags_changed()
            w.statusBar().showMessage(f"Imported tags: {result.updated:,} photos, "
                                      f"{len(result.created_tags):,} new tags, {len(result.problems):,} problems",
                                      10000)
            return
        w.poll_catalogue()
        if getattr(result, "earlier_training", False):
            w.statusBar().showMessage("Your corrections trained the suggestions of an earlier model; your tags are "
                                      "kept. Tags \u203a Retrain learns from them again.", 20000)
            return
        summary = getattr(result, "photos", None)
        w.statusBar().showMessage(f"{name} done" + (f": {summary:,} photos" if isinstance(summary, int) else ""),
                                  6000)

    def _auto_retrain_summary(self, report: Any) -> str:
        text = f"Retrained automatically after {self._auto_retrain_count:,} corrections"
        before, after = getattr(report, "before", None), getattr(report, "after", None)
        if getattr(before, "map", None) is not None and getattr(after, "map", None) is not None:
            text += f": mAP {before.map:.2f} \u2192 {after.map:.2f} (cross-validated)"
        return text + ". Tags \u203a Training report shows the details."

    def _show_training_report(self, report: Any) -> None:
        if isinstance(report, TrainReport):
            self.open_report(report)
        else:  # a job that returned no report: still say it is done
            self.window.statusBar().showMessage("Suggestions retrained on your corrections.", 10000)

    def open_report(self, report: TrainReport) -> None:
        """The report dialog: roll back from it, or use a training that was kept inactive."""
        dialog = TrainReportDialog(report, self.window)
        dialog.rollback_requested.connect(self.rollback)
        dialog.activate_requested.connect(self.activate_anyway)
        self.window.open_dialog(dialog)
