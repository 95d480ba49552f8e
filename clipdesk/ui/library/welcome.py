"""The first start: a library with no folders says what to do, over the empty grid.

``clipdesk gui`` from an installer starts with an empty library; the window
offers what ``./dev.sh start`` does by itself: the demo library (indexed with
the built-in model), a real model to download, or the user's own folder.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget,
)

from clipdesk.core.models import ModelStatus


class WelcomePanel(QScrollArea):
    """Covers ``host`` (the grid's viewport) while the library has no folders;
    scrolls when the window is too short for it."""

    addFolderRequested = Signal()
    demoRequested = Signal()
    modelRequested = Signal()

    def __init__(self, host: QWidget):
        super().__init__(host)
        self.setObjectName("welcome")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget(self)
        content.setAutoFillBackground(True)
        content.setBackgroundRole(content.backgroundRole().Base)
        self.setWidget(content)
        outer = QVBoxLayout(content)
        outer.setSpacing(10)
        outer.addStretch(1)
        self.title = QLabel("<h2>Welcome to ClipDesk</h2>", content)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.title)
        self.text = QLabel(
            "Add a folder of photos: ClipDesk indexes them on this computer, and then you find them by "
            "typing what you remember. Or try it first on the demo library: 300 pictures of clothing that "
            "the built-in model knows.", content)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text.setMaximumWidth(560)
        policy = self.text.sizePolicy()  # keeps its height-for-width (wrapped text)
        policy.setHorizontalPolicy(QSizePolicy.Policy.Expanding)
        self.text.setSizePolicy(policy)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.text, 20)
        row.addStretch(1)
        outer.addLayout(row)
        self.add_folder = QPushButton("Add a folder…", content)
        self.demo = QPushButton("Try the demo library", content)
        self.model = QPushButton("Download a model…", content)
        self.model.setToolTip("The built-in model only knows clothing, colours and a few backgrounds; "
                              "a CLIP model (about 600 MB) knows what is in your own photos")
        for b, signal in ((self.add_folder, self.addFolderRequested), (self.demo, self.demoRequested),
                          (self.model, self.modelRequested)):
            b.setAutoDefault(False)
            b.setMinimumWidth(200)
            b.clicked.connect(signal)
            outer.addWidget(b, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self._busy = False
        host.installEventFilter(self)
        self.setGeometry(host.rect())
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return super().eventFilter(watched, event)

    def show_for(self, has_folders: bool) -> None:
        """Shown while the library has no folders (and the demo is not being set up)."""
        self.setVisible(not has_folders and not self._busy)
        if self.isVisible():
            self.raise_()

    def set_busy(self, busy: bool) -> None:
        """The demo library is being set up: the grid will show it soon."""
        self._busy = busy
        self.demo.setEnabled(not busy)
        if busy:
            self.hide()

    def set_model_status(self, status: ModelStatus | None) -> None:
        """A model download is offered while searches use the demo model or none."""
        self.model.setVisible(status is None or status.is_demo or status.model_id is None)
