"""Export…: copies of the selected photos in a folder, with a progress bar and a report.

The choices are ``library.files.export``'s (:mod:`clipdesk.core.export`): the
original files byte for byte, or JPEGs resized to a long edge at a quality;
metadata kept, kept without the GPS position, or stripped. They are
remembered (the ``export_*`` settings, also in Preferences). The export runs
on the long-jobs pool; its progress comes back through the dispatcher, Cancel
stops it between two photos, and the end says how many were written and
lists every photo that could not be, with why.
"""

from __future__ import annotations

import os
import threading

from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPlainTextEdit, QProgressBar, QPushButton, QRadioButton, QSpinBox, QVBoxLayout, QWidget,
)

from clipdesk.core.catalog import Photo
from clipdesk.core.errors import ClipDeskError
from clipdesk.core.export import ExportOptions, ExportReport
from clipdesk.core.library import Library
from clipdesk.core.names import display_path
from clipdesk.core.wording import plural
from clipdesk.ui.fitting import fit_over
from clipdesk.ui.settings import OPTIONS, Settings
from clipdesk.ui.workers import Pools

_METADATA = next(o for o in OPTIONS if o.name == "export_metadata")


class ExportDialog(QDialog):
    """Export ``photos``: choose, start, watch, cancel, read the report."""

    def __init__(self, library: Library, pools: Pools, settings: Settings, photos: list[Photo],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self.library = library
        self.pools = pools
        self.settings = settings
        self.photos = list(photos)
        #: Set to stop a running export between two photos.
        self.cancel_event: threading.Event | None = None
        #: The last export's report (None before one ends).
        self.report: ExportReport | None = None
        self.running = False

        lay = QVBoxLayout(self)
        self.title = QLabel(f"Export {plural(len(self.photos), 'photo')}", self)
        lay.addWidget(self.title)
        form = QFormLayout()
        self.folder = QLineEdit(settings.export_folder, self)
        self.folder.setObjectName("exportFolder")
        self.folder.setPlaceholderText("The folder the copies go to")
        choose = QPushButton("Choose…", self)
        choose.clicked.connect(self._choose_folder)
        where = QHBoxLayout()
        where.addWidget(self.folder, 1)
        where.addWidget(choose)
        form.addRow("To", where)
        self.originals = QRadioButton("The original files, as they are", self)
        self.resized = QRadioButton("JPEGs resized to", self)
        kind = QButtonGroup(self)
        kind.addButton(self.originals)
        kind.addButton(self.resized)
        (self.resized if settings.export_resize else self.originals).setChecked(True)
        self.long_edge = QSpinBox(self)
        self.long_edge.setRange(16, 20000)
        self.long_edge.setSuffix(" px on the long edge")
        self.long_edge.setValue(settings.export_long_edge)
        self.quality = QSpinBox(self)
        self.quality.setRange(1, 100)
        self.quality.setPrefix("quality ")
        self.quality.setValue(settings.export_quality)
        size = QHBoxLayout()
        size.addWidget(self.resized)
        size.addWidget(self.long_edge)
        size.addWidget(self.quality)
        size.addStretch(1)
        form.addRow("As", self.originals)
        form.addRow("", size)
        self.metadata = QComboBox(self)
        self.metadata.setObjectName("exportMetadata")
        for choice in _METADATA.choices or ():
            self.metadata.addItem(_METADATA.choice_label(choice), choice)
        self.metadata.setCurrentIndex(max(0, self.metadata.findData(settings.export_metadata)))
        form.addRow("Metadata", self.metadata)
        lay.addLayout(form)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, max(1, len(self.photos)))
        self.progress.setValue(0)
        self.progress.hide()
        lay.addWidget(self.progress)
        self.summary = QLabel("", self)
        self.summary.setObjectName("exportSummary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.failures = QPlainTextEdit(self)
        self.failures.setObjectName("exportFailures")
        self.failures.setReadOnly(True)
        self.failures.hide()
        lay.addWidget(self.failures, 1)
        self.buttons = QDialogButtonBox(self)
        self.start_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.start_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self._cancel_or_close)
        lay.addWidget(self.buttons)
        self.resized.toggled.connect(self._follow_kind)
        self._follow_kind()
        fit_over(self, 560, 320)

    def _follow_kind(self, *_args) -> None:
        self.long_edge.setEnabled(self.resized.isChecked())
        self.quality.setEnabled(self.resized.isChecked())

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to", self.folder.text() or os.path.expanduser("~"))
        if folder:
            self.folder.setText(folder)

    def options(self) -> ExportOptions:
        """The choices made, as the core takes them (UsageError when one is not valid)."""
        return ExportOptions(resize=self.long_edge.value() if self.resized.isChecked() else None,
                             quality=self.quality.value(), metadata=self.metadata.currentData())

    def start(self) -> None:
        """Export on a worker; the progress bar follows, the report ends it."""
        if self.running:
            return
        folder = self.folder.text().strip()
        if not folder:
            self.summary.setText("Choose the folder the copies go to.")
            return
        try:
            options = self.options()
        except ClipDeskError as exc:
            self.summary.setText(str(exc))
            return
        s = self.settings
        s.export_folder, s.export_resize = folder, options.resize is not None
        s.export_long_edge, s.export_quality, s.export_metadata = (self.long_edge.value(), self.quality.value(),
                                                                   options.metadata)
        self.running = True
        self.report = None
        self.cancel_event = cancel = threading.Event()
        self.start_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.show()
        self.failures.hide()
        self.summary.setText(f"Exporting {plural(len(self.photos), 'photo')}…")
        ids = [p.id for p in self.photos]
        files, post = self.library.files, self.pools.dispatcher.post

        def progress(done: int, total: int) -> None:  # on the worker thread
            post(lambda: self._progress(done, total))

        self.pools.run(self.pools.long,
                       lambda: files.export(ids, folder, options, on_progress=progress, cancel=cancel),
                       self._finished, self._failed, owner=self)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(1, total))
        self.progress.setValue(done)

    def _finished(self, report: ExportReport) -> None:
        self.running = False
        self.report = report
        self.start_button.setEnabled(True)
        self.close_button.setText("Close")
        where = display_path(self.folder.text().strip())
        done = f"Exported {plural(report.photos, 'photo')} to {where}."
        if report.cancelled:
            done = (f"Cancelled: {plural(report.photos, 'photo')} of {len(self.photos):,} "
                    f"were exported to {where}.")
        lines = [f"{os.path.basename(path)}: {why}" for path, why in report.failed]
        notes = [f"{os.path.basename(path)}: {why}" for path, why in report.notes]
        if report.failed:
            done += f" {plural(len(report.failed), 'photo')} could not be exported:"
        elif notes:
            done += " Notes:"
        self.summary.setText(done)
        self.failures.setPlainText("\n".join(lines + notes))
        self.failures.setVisible(bool(lines or notes))

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.start_button.setEnabled(True)
        self.summary.setText(f"Could not export: {exc}")

    def _cancel_or_close(self) -> None:
        if self.running and self.cancel_event is not None:
            self.cancel_event.set()
            self.summary.setText("Cancelling after the photo being copied…")
            return
        self.reject()
