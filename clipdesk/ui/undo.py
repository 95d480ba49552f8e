"""Undo and redo for every edit the user makes, fed by the change hub.

The core keeps no history: each user edit returns :class:`~clipdesk.core.changes.Changes`
whose ``undo`` is an :class:`~clipdesk.core.changes.UndoStep`, and running a
step returns the Changes of the inverse, whose ``undo`` is the redo. The GUI
keeps the stack. Every edit reaches the views through the
:class:`~clipdesk.ui.hub.ChangeHub`, so the history listens there and records
whatever carries an undo step: an edit made by a new panel is undoable without
that panel knowing about undo.

Undoing and redoing run the step on the writes pool, after every write asked
for before, and announce its Changes through the hub like any edit (the
history does not record those a second time), so the views refresh.
"""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack

from clipdesk.core.changes import Changes, UndoStep
from clipdesk.ui.hub import ChangeHub

log = logging.getLogger(__name__)

#: Edits kept on the stack (each holds what it needs to put things back).
UNDO_LIMIT = 100


class _Edit(QUndoCommand):
    """One user edit on the stack. It is already done when pushed; ``step``
    is what to run next: the undo while the edit stands, the redo once undone."""

    def __init__(self, history: UndoHistory, step: UndoStep):
        super().__init__(step.label)
        self.history = history
        self.step: UndoStep | None = step
        self._pushed = False

    def redo(self) -> None:
        if not self._pushed:  # QUndoStack.push redoes; the edit is done already
            self._pushed = True
            return
        self.history._run(self, "redo")

    def undo(self) -> None:
        self.history._run(self, "undo")


class UndoHistory(QObject):
    """The undo stack of the window; ``undo_action``/``redo_action`` for its menus."""

    #: An undo or redo could not be done: what the user should read. The
    #: history is cleared then (what it holds no longer matches the library).
    failed = Signal(str)
    #: An undo or redo was done: its Changes (after the hub announced them).
    applied = Signal(object)

    def __init__(self, hub: ChangeHub, parent: QObject | None = None):
        super().__init__(parent)
        self.hub = hub
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(UNDO_LIMIT)
        #: The Changes of an undo or redo being announced (not recorded again).
        self._replaying: Changes | None = None
        #: Undos and redos asked for and not yet done (the writes pool is busy).
        self.pending = 0
        hub.changed.connect(self._record)

    # -- recording -----------------------------------------------------------------
    def _record(self, changes: Changes) -> None:
        if changes is self._replaying:
            return
        if changes.undo is not None:
            self.stack.push(_Edit(self, changes.undo))

    # -- undoing -------------------------------------------------------------------
    def undo(self) -> None:
        self.stack.undo()

    def redo(self) -> None:
        self.stack.redo()

    def _run(self, edit: _Edit, what: str) -> None:
        label = edit.text()

        def job() -> Changes:
            # Read on the writes thread: a redo asked for while its undo was
            # still running uses the step that undo returned.
            step = edit.step
            if step is None:
                raise RuntimeError("there is nothing to take back")
            changes = step.run()
            edit.step = changes.undo
            return changes

        def announce(changes: Changes) -> Changes:
            self._replaying = changes
            return changes

        def done(changes: Changes) -> None:
            self._replaying = None
            self.pending -= 1
            self.applied.emit(changes)

        def failed(exc: BaseException) -> None:
            self.pending -= 1
            log.warning("%s of %r failed", what, label, exc_info=exc)
            # Not at once: this may run inside the stack's own undo() (a synchronous pool).
            QTimer.singleShot(0, self.stack.clear)
            self.failed.emit(f"Could not {what} “{label}”: {exc}")

        self.pending += 1
        self.hub.write(job, done, failed, owner=self, changes=announce)

    # -- the Edit menu ---------------------------------------------------------------
    def undo_action(self, parent: QObject) -> QAction:
        """Edit ▸ Undo “what” (Ctrl+Z), enabled when there is something to undo."""
        action = QAction(parent)
        action.setObjectName("undoAction")
        action.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.Undo))
        action.triggered.connect(self.undo)
        self._follow(action, "Undo", self.stack.canUndoChanged, self.stack.undoTextChanged,
                     self.stack.canUndo, self.stack.undoText)
        return action

    def redo_action(self, parent: QObject) -> QAction:
        """Edit ▸ Redo “what” (Ctrl+Shift+Z everywhere, and the platform's own
        keys: Ctrl+Y on Windows)."""
        action = QAction(parent)
        action.setObjectName("redoAction")
        keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Redo)
        ctrl_shift_z = QKeySequence(Qt.Modifier.CTRL | Qt.Modifier.SHIFT | Qt.Key.Key_Z)
        if ctrl_shift_z not in keys:
            keys.insert(0, ctrl_shift_z)
        action.setShortcuts(keys)
        action.triggered.connect(self.redo)
        self._follow(action, "Redo", self.stack.canRedoChanged, self.stack.redoTextChanged,
                     self.stack.canRedo, self.stack.redoText)
        return action

    @staticmethod
    def _follow(action: QAction, verb: str, can_changed, text_changed, can, text) -> None:
        # From the signals' values only: the stack emits them while it is destroyed too.
        # The edit's name goes on in lower case: "Undo label 1 photo red".
        def set_text(what: str) -> None:
            if shiboken6.isValid(action):
                action.setText(f"&{verb} {what[:1].lower()}{what[1:]}" if what else f"&{verb}")

        can_changed.connect(action.setEnabled)
        text_changed.connect(set_text)
        action.setEnabled(can())
        set_text(text())
