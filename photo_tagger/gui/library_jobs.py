"""Library-wide jobs from the File menu: indexing, importing tags, exporting a CSV or XMP
sidecars. Each runs as an op with its own outcome: what it changed goes to the views
through the `OpRunner`, what it did to the user through the `Notifier`."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from photo_tagger.core import ops as core_ops
from photo_tagger.core import service
from photo_tagger.core.csv_io import ExportSummary, ImportSummary
from photo_tagger.core.indexer import IndexSummary
from photo_tagger.core.sidecars import SidecarSummary
from photo_tagger.gui.library_ops import LibraryOps, job_op

INDEX_JOB = "Indexing"
SIDECAR_JOB = "Exporting XMP sidecars"
IMPORT_JOB = "Importing tags"


def sidecar_summary_text(summary: SidecarSummary) -> str:
    """One line for the status bar."""
    parts = [f"{len(summary.written):,} written", f"{len(summary.backups):,} previous versions kept as .bak",
             f"{summary.unchanged:,} unchanged", f"{len(summary.errors):,} errors"]
    if summary.skipped_missing:
        parts.append(f"{summary.skipped_missing:,} photos missing")
    return "XMP sidecars (confirmed tags only): " + ", ".join(parts)


class LibraryJobs:
    def __init__(self, ops: LibraryOps) -> None:
        self.ops = ops
        self.notifier = ops.notifier

    # -- indexing -----------------------------------------------------------------------
    def start_indexing(self) -> None:
        """Quietly nothing without a library or while another job runs (it is started
        when a library opens, and again when its folder comes back)."""
        session, runner = self.ops.session, self.ops.runner
        if session is not None and not runner.busy:
            runner.start(INDEX_JOB, job_op(self.notifier, INDEX_JOB, core_ops.index, session.library)
                         .success(self._indexed))

    def _indexed(self, summary: IndexSummary) -> None:
        if summary.earlier_training:
            self.notifier.status("Your corrections trained the suggestions of an earlier model; your tags are "
                                 "kept. Tags \u203a Retrain learns from them again.", 20000)
        else:
            self.notifier.status(f"{INDEX_JOB} done: {summary.photos:,} photos", 6000)

    # -- export ----------------------------------------------------------------------------
    def export_csv(self, out: Path | None = None) -> None:
        library = self.ops.library()
        if library is None:
            return
        if out is None:
            name, _ = QFileDialog.getSaveFileName(self.notifier.parent, "Export tags as CSV",
                                                  str(Path.home() / "tags.csv"), "CSV files (*.csv)")
            if not name:
                return
            out = Path(name)
        path = out

        def written(result: ExportSummary) -> None:
            self.notifier.status(f"Wrote {result.photos:,} photos to {result.path}", 8000)

        self.ops.read(lambda: service.export_library_csv(library, path), written)

    def export_sidecars(self) -> None:
        """Write or update an XMP sidecar next to each photo (File › Export XMP sidecars)."""
        self.ops.start_by_hand(SIDECAR_JOB, "export sidecars", lambda library: job_op(
            self.notifier, SIDECAR_JOB, core_ops.export_sidecars, library).success(self._show_sidecar_summary))

    def _show_sidecar_summary(self, summary: SidecarSummary) -> None:
        text = sidecar_summary_text(summary)
        self.notifier.status(text, 15000)
        if summary.errors:
            box = QMessageBox(QMessageBox.Icon.Warning, "Export XMP sidecars",
                              text + "\nThese files were left untouched:\n" + "\n".join(summary.errors[:10])
                              + ("\n\u2026" if len(summary.errors) > 10 else ""),
                              QMessageBox.StandardButton.Ok, self.notifier.parent)
            box.setObjectName("sidecarErrors")
            box.setDetailedText("\n".join(summary.errors))
            self.notifier.open_dialog(box)

    # -- import ----------------------------------------------------------------------------
    def import_tags(self, source: Path | None = None) -> None:
        """File › Import tags…: choose a file (or pass `source`), work out in the pool what
        importing it would change, then ask before applying it as a job."""
        library = self.ops.library()
        if library is None:
            return
        if source is None:
            name, _ = QFileDialog.getOpenFileName(self.notifier.parent, "Import tags", str(Path.home()),
                                                  "Tag files (*.csv *.json);;All files (*)")
            if not name:
                return
            source = Path(name)
        path = source
        self.ops.read(lambda: service.plan_library_import(library, path), self._ask_to_apply)

    def _ask_to_apply(self, plan: service.ImportPlan) -> None:
        text = f"Importing {plan.source.name} will change: {plan.summary_text()}."
        if plan.problems:
            text += "\n\n" + "\n".join(plan.problems[:5]) + ("\n\u2026" if len(plan.problems) > 5 else "")
        if not plan.changes:
            self.notifier.status(f"{plan.source.name}: nothing to change ({plan.summary_text()})", 10000)
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Import tags", text + "\n\nApply?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self.notifier.parent)
        box.setObjectName("importPlan")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.accepted.connect(lambda: self.ops.start_by_hand(IMPORT_JOB, "import tags", lambda library: job_op(
            self.notifier, IMPORT_JOB, core_ops.apply_import, library, plan).success(self._imported)))
        box.open()

    def _imported(self, summary: ImportSummary) -> None:
        self.notifier.status(f"Imported tags: {summary.updated:,} photos, {len(summary.created_tags):,} new tags, "
                             f"{len(summary.problems):,} problems", 10000)
