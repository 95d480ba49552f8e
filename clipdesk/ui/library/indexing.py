"""Indexing from the window: the library's pipeline on a thread of its own.

:class:`IndexController` runs :meth:`~clipdesk.core.folders.FolderService.pipeline`
on a :class:`QThread` at low priority; the pipeline's
:class:`~clipdesk.core.pipeline.Progress` callback (its threads) becomes a Qt
signal on the GUI thread, and what a run adds or changes in the catalog is
announced on the change hub as ``Changes(catalog=True)``: every few seconds
while it runs, and when it ends.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from clipdesk.core.changes import Changes
from clipdesk.core.pipeline import Progress, RunResult
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.workers import lower_thread_priority

log = logging.getLogger(__name__)


class IndexController(QObject):
    """Runs the library's pipeline on its own thread and reports by signal.

    ``start()`` while a run is going asks for one more run afterwards (changes
    arrived meanwhile); runs never overlap.
    """

    progress = Signal(object)  # Progress
    finished = Signal(object)  # RunResult
    pausedChanged = Signal(bool)
    #: The pipeline's progress callback, called on its threads, queued to ours.
    _relay = Signal(object)

    def __init__(self, library, hub: ChangeHub, *, parent: QObject | None = None,
                 pipeline_kwargs: dict | None = None, change_interval_ms: int = 2000):
        super().__init__(parent)
        self.library = library
        self.hub = hub
        self.pipeline_kwargs = dict(pipeline_kwargs or {})
        self._thread: _PipelineThread | None = None
        self._again = False
        self._paused = False
        self._last_done = 0
        self.last: Progress | None = None
        self._changes = QTimer(self)
        self._changes.setSingleShot(True)
        self._changes.setInterval(change_interval_ms)
        self._changes.timeout.connect(self._announce)
        self._relay.connect(self._on_progress)

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def paused(self) -> bool:
        return self._paused

    def start(self) -> None:
        if not getattr(self.library, "exclusive", True):
            return  # another ClipDesk holds the catalog: it indexes, and its work reaches us by polling
        if self._thread is not None:
            self._again = True
            return
        self._again = False
        self._last_done = 0
        # The pipeline is made on its thread: making it loads the model.
        thread = _PipelineThread(self.library, self._relay.emit, self.pipeline_kwargs, self._paused)
        thread.done.connect(self._on_done)
        self._thread = thread
        thread.start(QThread.Priority.LowPriority)

    def pause(self) -> None:
        self._paused = True
        if self._thread is not None:
            self._thread.pause()
        self.pausedChanged.emit(True)

    def resume(self) -> None:
        self._paused = False
        if self._thread is not None:
            self._thread.resume()
        self.pausedChanged.emit(False)

    def cancel(self, wait_ms: int = 30000) -> None:
        """Stop the current run; waits for its thread (shutdown)."""
        self._again = False
        thread = self._thread
        if thread is not None:
            thread.cancel()
            thread.wait(wait_ms)

    @Slot(object)
    def _on_progress(self, p: Progress) -> None:
        self.last = p
        if p.done != self._last_done and p.phase in ("indexing", "paused"):
            self._last_done = p.done
            if not self._changes.isActive():
                self._changes.start()
        self.progress.emit(p)

    def _announce(self) -> None:
        """Photos were added, changed or indexed (throttled while a run goes on)."""
        self.hub.announce(Changes(catalog=True))

    @Slot(object)
    def _on_done(self, result: RunResult) -> None:
        thread = self._thread
        self._thread = None
        if thread is not None:
            thread.wait()
            thread.deleteLater()
        self._changes.stop()
        self._announce()
        self.finished.emit(result)
        if self._again:
            self.start()


class _PipelineThread(QThread):
    """Makes the run's pipeline (loading the model) and runs it.

    pause/resume/cancel may arrive before the pipeline exists; they are kept
    and applied as soon as it does.
    """

    done = Signal(object)

    def __init__(self, library, on_progress, kwargs: dict, paused: bool):
        super().__init__()
        self.library = library
        self.on_progress = on_progress
        self.kwargs = kwargs
        self._lock = threading.Lock()
        self._pipeline = None
        self._paused = paused
        self._cancelled = False

    def pause(self) -> None:
        self._ask("_paused", True, "pause")

    def resume(self) -> None:
        self._ask("_paused", False, "resume")

    def cancel(self) -> None:
        self._ask("_cancelled", True, "cancel")

    def _ask(self, flag: str, value: bool, action: str) -> None:
        """Keep the request for a pipeline still being made; pass it on to one that exists."""
        with self._lock:
            setattr(self, flag, value)
            pipeline = self._pipeline
        if pipeline is not None:
            getattr(pipeline, action)()

    def run(self) -> None:
        lower_thread_priority()
        try:
            pipeline = self.library.folders.pipeline(on_progress=self.on_progress, **self.kwargs)
            with self._lock:
                self._pipeline = pipeline
                paused, cancelled = self._paused, self._cancelled
            if paused:
                pipeline.pause()
            if cancelled:
                result = RunResult(cancelled=True)
            else:
                result = pipeline.run()
        except Exception as exc:  # noqa: BLE001 - reported as a failed run
            log.exception("indexing failed")
            result = RunResult(error=f"indexing stopped: {exc}")
        self.done.emit(result)
