"""The app's undo and redo: the inverses the core hands back, kept in a stack.

A user's edit returns :class:`~clipdesk.core.changes.Changes` whose ``undo``
performs its inverse (DESIGN: the core keeps no history, the GUI keeps the
stack). Whoever makes an edit the user may take back pushes its Changes here
(:meth:`UndoStack.push`); Edit ▸ Undo runs the inverse through the change hub
(on the writes pool, announced like any change) and keeps what it returns
(whose ``undo`` is the redo) for Edit ▸ Redo. An inverse that cannot run now
(the trash was emptied of a file, another file took its place) says why and
stays on the stack.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence

from clipdesk.core.changes import Changes, UndoStep
from clipdesk.ui.hub import ChangeHub


class UndoStack(QObject):
    """Undo and redo of the user's edits, with the Edit menu's two actions."""

    #: An undo or redo ran: what it changed.
    done = Signal(object)  # Changes
    #: An undo or redo could not run: why, in words.
    error = Signal(str)

    def __init__(self, hub: ChangeHub, parent: QObject | None = None):
        super().__init__(parent)
        self.hub = hub
        self._undo: list[UndoStep] = []
        self._redo: list[UndoStep] = []
        self.undo_action = QAction("Undo", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(self.undo)
        self.redo_action = QAction("Redo", self)
        self.redo_action.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Shift+Z")])
        self.redo_action.triggered.connect(self.redo)
        self._update()

    def push(self, changes: Changes) -> None:
        """Remember an edit the user made (its Changes), if it can be undone."""
        if changes.undo is not None:
            self._undo.append(changes.undo)
            self._redo.clear()
            self._update()

    def undo_label(self) -> str | None:
        """What Undo would take back ("Move 2 photos to the trash"), or None."""
        return self._undo[-1].label if self._undo else None

    def redo_label(self) -> str | None:
        return self._redo[-1].label if self._redo else None

    def undo(self) -> None:
        self._run(self._undo, self._redo)

    def redo(self) -> None:
        self._run(self._redo, self._undo)

    def _run(self, source: list[UndoStep], target: list[UndoStep]) -> None:
        if not source:
            return
        step = source.pop()
        self._update()

        def done(changes: Changes) -> None:
            if changes.undo is not None:
                target.append(changes.undo)
            self._update()
            self.done.emit(changes)

        def failed(exc: BaseException) -> None:
            source.append(step)  # it may work once what is in the way is gone
            self._update()
            self.error.emit(f"Could not undo “{step.label}”: {exc}" if target is self._redo
                            else f"Could not redo “{step.label}”: {exc}")

        self.hub.write(step.run, done, failed, owner=self)

    def _update(self) -> None:
        for action, label, verb in ((self.undo_action, self.undo_label(), "Undo"),
                                    (self.redo_action, self.redo_label(), "Redo")):
            action.setEnabled(label is not None)
            action.setText(f"{verb} {label}" if label else verb)
