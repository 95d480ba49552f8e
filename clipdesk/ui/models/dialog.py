"""Models: download, switch and remove CLIP models; choose CPU or GPU.

Downloads run on the long-jobs pool through :func:`clipdesk.core.modelhub.download_model`;
its progress callback (a worker thread) becomes a signal that moves the row's
progress bar. Cancelling keeps what was downloaded for the next attempt.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

from clipdesk.core import modelhub
from clipdesk.core.changes import Changes
from clipdesk.core.library import Library
from clipdesk.core.models import ModelStatus
from clipdesk.core.paths import Paths
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.settings import Settings
from clipdesk.ui.workers import Pools

log = logging.getLogger(__name__)

DEVICE_CHOICES = (
    ("auto", "Automatic (GPU when there is one)"),
    ("cpu", "CPU only"),
    ("gpu", "GPU"),
)


class _RowControls(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setMinimumWidth(120)
        self.bar.setFormat("%p%")
        self.bar.hide()
        self.download = QPushButton("Download", self)
        self.cancel = QPushButton("Cancel", self)
        self.cancel.hide()
        self.use = QPushButton("Use", self)
        self.remove = QPushButton("Remove", self)
        for w in (self.bar, self.download, self.cancel, self.use, self.remove):
            lay.addWidget(w)


class ModelsDialog(QDialog):
    modelChosen = Signal(str)
    downloadFinished = Signal(str, str)  # model id, error ("" when it worked)
    listed = Signal()  # the installed models were read and the table filled

    def __init__(self, library: Library, paths: Paths, pools: Pools, hub: ChangeHub, settings: Settings,
                 parent=None, *, endpoint: str | None = None):
        super().__init__(parent)
        self.setObjectName("modelsDialog")
        self.setWindowTitle("Models")
        self.library = library
        self.paths = paths
        self.pools = pools
        self.hub = hub
        self.settings = settings
        self.endpoint = endpoint
        self.installed: dict[str, modelhub.InstalledModel] = {}
        self.status: ModelStatus | None = None
        self.rows: dict[str, tuple[QTreeWidgetItem, _RowControls]] = {}
        self._cancels: dict[str, threading.Event] = {}

        lay = QVBoxLayout(self)
        self.banner = QLabel(self)
        self.banner.setObjectName("modelBanner")
        self.banner.setWordWrap(True)
        lay.addWidget(self.banner)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("modelsTree")
        self.tree.setHeaderLabels(["Model", "Size", "Good for", "State", ""])
        self.tree.setRootIsDecorated(False)
        self.tree.setWordWrap(True)
        self.tree.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(4, QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.tree, 1)
        dev = QHBoxLayout()
        dev.addWidget(QLabel("Run models on:", self))
        self.device = QComboBox(self)
        self.device.setObjectName("deviceChoice")
        for key, text in DEVICE_CHOICES:
            self.device.addItem(text, key)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.device.currentIndexChanged.connect(self._device_changed)
        dev.addWidget(self.device)
        self.providers = QLabel("", self)
        dev.addWidget(self.providers, 1)
        lay.addLayout(dev)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(980, 420)
        self._build_rows()
        self.refresh()

    # -- table ---------------------------------------------------------------------
    def _build_rows(self) -> None:
        for info in modelhub.REGISTRY:
            self._add_row(info.name, info)

    def _add_row(self, model_id: str, info: modelhub.ModelInfo | None) -> None:
        size = f"{info.size_mb:,} MB" if info and info.size_mb else ""
        good = (info.good_for if info else "") + ("  (recommended)" if info and info.recommended else "")
        item = QTreeWidgetItem(self.tree, [model_id, size, good, "", ""])
        item.setData(0, Qt.ItemDataRole.UserRole, model_id)
        controls = _RowControls(self.tree)
        controls.setObjectName(f"controls:{model_id}")
        controls.download.clicked.connect(lambda: self.download(model_id))
        controls.cancel.clicked.connect(lambda: self.cancel(model_id))
        controls.use.clicked.connect(lambda: self.use(model_id))
        controls.remove.clicked.connect(lambda: self.remove(model_id))
        self.tree.setItemWidget(item, 4, controls)
        self.rows[model_id] = (item, controls)

    def refresh(self) -> None:
        """Read the installed models, the active model and the providers (worker)."""
        paths, library = self.paths, self.library

        def job():
            installed = {m.model_id: m for m in modelhub.installed_models(paths)}
            status = library.models.status()
            from clipdesk.core.engine import available_providers

            return installed, status, available_providers()

        self.pools.run(self.pools.general, job, self._fill, lambda e: self.banner.setText(f"Could not list models: {e}"),
                       owner=self)

    def _fill(self, value) -> None:
        self.installed, self.status, providers = value
        for model_id, m in self.installed.items():
            if model_id not in self.rows:
                self._add_row(model_id, m.info)
        active = self.active_model()
        for model_id, (item, c) in self.rows.items():
            m = self.installed.get(model_id)
            downloading = model_id in self._cancels
            if downloading:
                state = "downloading"
            elif m is None:
                state = "not installed"
            elif m.bundled:
                state = "built in (demo)" if model_id == "clipdesk-mini" else "built in"
            else:
                state = f"installed, {m.size_bytes / 1e6:,.0f} MB" if m.size_bytes else "installed"
            if model_id == active:
                state += " · in use"
            item.setText(3, state)
            c.download.setVisible(m is None and not downloading)
            c.cancel.setVisible(downloading)
            c.bar.setVisible(downloading)
            c.use.setVisible(m is not None and model_id != active)
            c.remove.setVisible(m is not None and not m.bundled)
        st = self.status
        if st is not None and st.is_demo:
            rec = st.recommended or modelhub.DEFAULT_MODEL
            self.banner.setText(
                f"<b>You are using the demo model.</b> {st.message or ''} "
                f"For real photos, download <b>{rec}</b> (about "
                f"{modelhub.model_info(rec).size_mb:,} MB) below."
            )
        elif st is not None:
            self.banner.setText(f"Searches use <b>{st.model_id}</b>." + (f" {st.message}" if st.message else ""))
        else:
            self.banner.setText("Pick the model searches use; downloads resume if interrupted.")
        gpu = [p for p in providers if p != "CPUExecutionProvider"]
        self.providers.setText(
            ("GPU available: " + ", ".join(p.replace("ExecutionProvider", "") for p in gpu) if gpu
             else "No GPU provider in this installation: models run on the CPU.")
            + " A change applies at the next start."
        )
        gpu_index = self.device.findData("gpu")
        item = self.device.model().item(gpu_index) if gpu_index >= 0 else None
        if item is not None:
            item.setEnabled(bool(gpu))
        self.tree.resizeColumnToContents(0)
        self.listed.emit()

    def active_model(self) -> str | None:
        return self.status.model_id if self.status is not None else None

    # -- actions -------------------------------------------------------------------
    def download(self, model_id: str) -> None:
        if model_id in self._cancels:
            return
        item, c = self.rows[model_id]
        cancel = threading.Event()
        self._cancels[model_id] = cancel
        c.download.hide()
        c.cancel.show()
        c.bar.show()
        c.bar.setValue(0)
        item.setText(3, "starting download…")
        paths, endpoint, dispatcher = self.paths, self.endpoint, self.pools.dispatcher
        info = modelhub.model_info(model_id)
        last = [0.0]

        def progress(p: modelhub.Progress) -> None:  # worker thread
            now = time.monotonic()
            if now - last[0] < 0.1 and p.done < p.total:
                return
            last[0] = now
            dispatcher.post(lambda: self._progress(model_id, p))

        def job():
            return modelhub.download_model(info, paths, endpoint=endpoint, progress=progress, cancel=cancel)

        self.pools.run(self.pools.long, job, lambda _: self._finished(model_id, ""),
                       lambda e: self._finished(model_id, str(e)), owner=self)

    def _progress(self, model_id: str, p: modelhub.Progress) -> None:
        row = self.rows.get(model_id)
        if row is None or model_id not in self._cancels:
            return
        item, c = row
        if p.total:
            c.bar.setValue(int(1000 * p.done / p.total))
            item.setText(3, f"downloading {p.done / 1e6:,.1f} / {p.total / 1e6:,.1f} MB")

    def _finished(self, model_id: str, error: str) -> None:
        self._cancels.pop(model_id, None)
        item, c = self.rows[model_id]
        c.cancel.hide()
        c.bar.hide()
        if error:
            item.setText(3, error)
            item.setToolTip(3, error)
            c.download.show()
        elif self.status is None or self.status.model_id is None:
            # With no model before, searches now use this one.
            self.hub.announce(Changes(model=True))
        self.downloadFinished.emit(model_id, error)
        self.refresh()

    def cancel(self, model_id: str) -> None:
        event = self._cancels.get(model_id)
        if event is not None:
            event.set()
            self.rows[model_id][0].setText(3, "cancelling…")

    def use(self, model_id: str) -> None:
        """Make ``model_id`` the model searches use; photos are re-embedded in the background."""
        library = self.library

        def done(_) -> None:
            self.modelChosen.emit(model_id)
            self.refresh()

        self.hub.write(lambda: library.models.set_model(model_id), done, lambda e: self.banner.setText(str(e)),
                       owner=self)

    def remove(self, model_id: str) -> None:
        paths = self.paths
        self.pools.run(self.pools.general, lambda: modelhub.remove_model(paths, model_id),
                       lambda _: self.refresh(), lambda e: self.banner.setText(str(e)), owner=self)

    def _device_changed(self) -> None:
        key = self.device.currentData()
        if key and key != self.settings.device:
            self.settings.device = key

    def done(self, result: int) -> None:
        for event in self._cancels.values():
            event.set()
        super().done(result)
