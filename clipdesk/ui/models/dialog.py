"""Models: download, switch and remove CLIP models; choose CPU or GPU.

Downloads run on the long-jobs pool through :func:`clipdesk.core.modelhub.download_model`;
its progress callback (a worker thread) becomes a signal that moves the row's
progress bar. Cancelling keeps what was downloaded for the next attempt.
"""

from __future__ import annotations

import html
import logging
import threading
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton,
    QScrollArea, QVBoxLayout, QWidget,
)

from clipdesk.core import modelhub
from clipdesk.core.changes import Changes
from clipdesk.core.library import Library
from clipdesk.core.models import ModelStatus
from clipdesk.core.paths import Paths
from clipdesk.ui import theme
from clipdesk.ui.fitting import fit_over
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.settings import Settings
from clipdesk.ui.workers import Pools

log = logging.getLogger(__name__)

DEVICE_CHOICES = (
    ("auto", "Automatic (GPU when there is one)"),
    ("cpu", "CPU only"),
    ("gpu", "GPU"),
)


class ModelRow(QFrame):
    """One model: its name, size and what it is good for, its state, and what can
    be done with it. A failed download says why here, in the row, with Retry
    (not only in a tooltip), and keyboard focus stays in the row."""

    def __init__(self, model_id: str, info: modelhub.ModelInfo | None, parent=None):
        super().__init__(parent)
        self.setObjectName(f"modelRow:{model_id}")
        self.model_id = model_id
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.name = QLabel(f"<b>{html.escape(model_id)}</b>" + (
            " · recommended" if info is not None and info.recommended else ""), self)
        self.size = QLabel(f"{info.size_mb:,} MB" if info is not None and info.size_mb else "", self)
        self.size.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.about = QLabel(info.good_for if info is not None else "", self)
        self.about.setWordWrap(True)
        self.about.setVisible(bool(self.about.text()))
        self.state = QLabel("", self)
        self.state.setObjectName("modelState")
        self.state.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setFormat("%p%")
        self.bar.hide()
        self.error = QLabel("", self)
        self.error.setObjectName("modelError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        theme.set_tint(self.error, "error")
        self.error.hide()
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.download = QPushButton("Download", self)
        self.cancel = QPushButton("Cancel", self)
        self.use = QPushButton("Use", self)
        self.remove = QPushButton("Remove", self)
        for b in (self.download, self.cancel, self.use, self.remove):
            b.setAutoDefault(False)
            b.hide()
            buttons.addWidget(b)
        grid.addWidget(self.name, 0, 0)
        grid.addWidget(self.size, 0, 1)
        grid.addWidget(self.about, 1, 0, 1, 2)
        grid.addWidget(self.state, 2, 0)
        grid.addLayout(buttons, 2, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.bar, 3, 0, 1, 2)
        grid.addWidget(self.error, 4, 0, 1, 2)
        grid.setColumnStretch(0, 1)

    def show_error(self, text: str | None) -> None:
        """Say what went wrong (None: nothing); the Download button becomes Retry."""
        self.error.setText(text or "")
        self.error.setVisible(bool(text))
        self.download.setText("Retry" if text else "Download")


class ModelsDialog(QDialog):
    modelChosen = Signal(str)
    downloadFinished = Signal(str, str)  # model id, error ("" when it worked)
    listed = Signal()  # the installed models were read and the rows filled

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
        self.rows: dict[str, ModelRow] = {}
        self._cancels: dict[str, threading.Event] = {}
        #: A row whose download finished while its Cancel button had the focus:
        #: the focus goes to what can be done next in that row.
        self._focus_after_refresh: str | None = None

        lay = QVBoxLayout(self)
        self.banner = QLabel(self)
        self.banner.setObjectName("modelBanner")
        self.banner.setWordWrap(True)
        lay.addWidget(self.banner)
        self.list = QWidget(self)
        self.list_layout = QVBoxLayout(self.list)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.setSpacing(6)
        self.list_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setObjectName("modelsList")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.list)
        lay.addWidget(scroll, 1)
        dev = QHBoxLayout()
        dev.addWidget(QLabel("Run models on:", self))
        self.device = QComboBox(self)
        self.device.setObjectName("deviceChoice")
        for key, text in DEVICE_CHOICES:
            self.device.addItem(text, key)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.device.currentIndexChanged.connect(self._device_changed)
        dev.addWidget(self.device)
        dev.addStretch(1)
        lay.addLayout(dev)
        self.providers = QLabel("", self)
        self.providers.setObjectName("providers")
        self.providers.setWordWrap(True)
        lay.addWidget(self.providers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        fit_over(self, 720, 560)  # as large as the list wants, never larger than the window
        self._build_rows()
        self.refresh()

    # -- rows ------------------------------------------------------------------------
    def _build_rows(self) -> None:
        for info in modelhub.REGISTRY:
            self._add_row(info.name, info)

    def _add_row(self, model_id: str, info: modelhub.ModelInfo | None) -> None:
        row = ModelRow(model_id, info, self.list)
        row.download.clicked.connect(lambda: self.download(model_id))
        row.cancel.clicked.connect(lambda: self.cancel(model_id))
        row.use.clicked.connect(lambda: self.use(model_id))
        row.remove.clicked.connect(lambda: self.remove(model_id))
        self.list_layout.insertWidget(self.list_layout.count() - 1, row)
        self.rows[model_id] = row

    def refresh(self) -> None:
        """Read the installed models, the active model and the accelerators (worker)."""
        paths, library = self.paths, self.library

        def job():
            installed = {m.model_id: m for m in modelhub.installed_models(paths)}
            status = library.models.status()
            from clipdesk.core.engine import gpu_providers

            return installed, status, gpu_providers()

        self.pools.run(self.pools.general, job, self._fill, lambda e: self.banner.setText(f"Could not list models: {e}"),
                       owner=self)

    def _fill(self, value) -> None:
        self.installed, self.status, gpus = value
        for model_id, m in self.installed.items():
            if model_id not in self.rows:
                self._add_row(model_id, m.info)
        active = self.active_model()
        for model_id, row in self.rows.items():
            m = self.installed.get(model_id)
            downloading = model_id in self._cancels
            if downloading:
                state = row.state.text()
            elif m is None:
                state = "not installed"
            elif m.bundled:
                state = "built in (demo)" if model_id == "clipdesk-mini" else "built in"
            else:
                state = f"installed, {m.size_bytes / 1e6:,.0f} MB" if m.size_bytes else "installed"
            if model_id == active and not downloading:
                state += " · in use"
            row.state.setText(state)
            row.download.setVisible(m is None and not downloading)
            row.cancel.setVisible(downloading)
            row.bar.setVisible(downloading)
            row.use.setVisible(m is not None and model_id != active)
            row.remove.setVisible(m is not None and not m.bundled)
            if m is not None:
                row.show_error(None)
        st = self.status
        if st is not None and st.is_demo:
            rec = st.recommended or modelhub.DEFAULT_MODEL
            offline = st.model_id == modelhub.OFFLINE_MODEL
            knows = modelhub.BUNDLED_KNOWS.get(st.model_id, "it knows only what it was built for")
            self.banner.setText(
                f"<b>You are using the {'built-in offline' if offline else 'demo'} model.</b> "
                f"{html.escape(knows[0].upper() + knows[1:])}. To search "
                f"{'for anything' if offline else 'your own photos'}, download <b>{html.escape(rec)}</b> (about "
                f"{modelhub.model_info(rec).size_mb:,} MB) below."
            )
        elif st is not None and st.model_id is not None:
            self.banner.setText(f"Searches use <b>{html.escape(st.model_id)}</b>.")
        else:
            self.banner.setText("No model is installed yet: download one below to search by meaning. "
                                "Downloads resume if they are interrupted.")
        self.providers.setText(
            ("GPU available: " + ", ".join(gpus) if gpus else "No GPU in this installation: models run on the CPU.")
            + " A change applies at the next start."
        )
        gpu_index = self.device.findData("gpu")
        item = self.device.model().item(gpu_index) if gpu_index >= 0 else None
        if item is not None:
            item.setEnabled(bool(gpus))
        focus, self._focus_after_refresh = self._focus_after_refresh, None
        if focus in self.rows:
            row = self.rows[focus]
            for button in (row.use, row.remove, row.download):
                if not button.isHidden():
                    button.setFocus()
                    break
        self.listed.emit()

    def active_model(self) -> str | None:
        return self.status.model_id if self.status is not None else None

    # -- actions -------------------------------------------------------------------
    def download(self, model_id: str) -> None:
        if model_id in self._cancels:
            return
        row = self.rows[model_id]
        cancel = threading.Event()
        self._cancels[model_id] = cancel
        had_focus = row.download.hasFocus()
        row.show_error(None)
        row.cancel.show()
        row.download.hide()
        if had_focus:
            row.cancel.setFocus()  # not the next row's button
        row.bar.show()
        row.bar.setValue(0)
        row.state.setText("starting the download…")
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
                       lambda e: self._finished(model_id, str(e) or type(e).__name__), owner=self)

    def _progress(self, model_id: str, p: modelhub.Progress) -> None:
        row = self.rows.get(model_id)
        if row is None or model_id not in self._cancels:
            return
        if p.total:
            row.bar.setValue(int(1000 * p.done / p.total))
            row.state.setText(f"downloading {p.done / 1e6:,.1f} of {p.total / 1e6:,.1f} MB")

    def _finished(self, model_id: str, error: str) -> None:
        cancelled = self._cancels.pop(model_id, threading.Event()).is_set()
        row = self.rows[model_id]
        had_focus = row.cancel.hasFocus()
        row.bar.hide()
        if error:
            row.state.setText("download cancelled" if cancelled else "not installed")
            row.show_error(None if cancelled else f"The download failed: {error}")
            row.download.show()
            row.cancel.hide()
            if had_focus:
                row.download.setFocus()
        else:
            row.cancel.hide()
            if self.status is None or self.status.model_id is None:
                # With no model before, searches now use this one.
                self.hub.announce(Changes(model=True))
            if had_focus:
                self._focus_after_refresh = model_id
        self.downloadFinished.emit(model_id, error)
        self.refresh()

    def cancel(self, model_id: str) -> None:
        event = self._cancels.get(model_id)
        if event is not None:
            event.set()
            self.rows[model_id].state.setText("cancelling…")

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
