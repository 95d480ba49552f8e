"""The strip above the search bar that says when searches use the demo model, or none."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from clipdesk.core import modelhub
from clipdesk.core.changes import Changes
from clipdesk.core.library import Library
from clipdesk.core.models import ModelStatus
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.workers import Pools


class ModelBanner(QWidget):
    """Shown while searches use the demo model or no model at all; its button
    opens the Models dialog to download a better one. It speaks of models by
    what they do, not by their ids. The model's status is read on a worker
    when the model changes or an indexing run adds photos."""

    #: The model status was read (None when it could not be): the search bar
    #: suggests queries this model knows, and leaves what the banner says out
    #: of its notices.
    statusChanged = Signal(object)

    def __init__(self, library: Library, pools: Pools, hub: ChangeHub, parent=None):
        super().__init__(parent)
        self.setObjectName("demoBanner")
        self.library = library
        self.pools = pools
        #: The model status last read (None until read, or when it could not be).
        self.status: ModelStatus | None = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.button = QPushButton("Download a better model…", self)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.button)
        self.setAutoFillBackground(True)
        self.hide()
        hub.changed.connect(self._on_changes)

    def refresh(self) -> None:
        """Read the model status (a worker) and show it."""
        self.pools.run(self.pools.general, self.library.models.status, self._show, lambda e: self._show(None),
                       owner=self)

    def _on_changes(self, changes: Changes) -> None:
        if changes.model or changes.catalog:
            self.refresh()

    def _show(self, status: ModelStatus | None) -> None:
        self.status = status
        if status is not None and status.model_id is None:
            self.label.setText("No model is installed yet: searching by what photos show needs one.")
            self.button.setText("Download a model…")
            self.show()
        elif status is not None and status.is_demo:
            which = "built-in offline model" if status.model_id == modelhub.OFFLINE_MODEL else "small demo model"
            knows = modelhub.BUNDLED_BRIEF.get(status.model_id, "it knows only what it was built for")
            self.label.setText(f"Searches use the {which}: {knows}.")
            self.button.setText("Download a better model…")
            self.show()
        else:
            self.hide()
        self.statusChanged.emit(status)
