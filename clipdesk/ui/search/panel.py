"""The search feature as one widget: what the user types, and what is said about it.

The bar, the save button and the filter chips on one row, the message line
and the chips of the marks (rating, flag, colour label) under them, and the
result count (the window puts it in the status bar). The panel owns the
:class:`~clipdesk.ui.search.controller.SearchController`: text typed in the
bar runs it, its parse goes to the chips, its answers' count and notice and
its errors show here. The grid shows the answers' photos.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from clipdesk.core import modelhub
from clipdesk.core import query as querylang
from clipdesk.core.catalog import Photo
from clipdesk.core.library import Library
from clipdesk.core.models import ModelStatus
from clipdesk.core.wording import plural
from clipdesk.ui.hub import ChangeHub
from clipdesk.ui.search.bar import (
    CLIP_EXAMPLES,
    DEMO_EXAMPLES,
    NO_MODEL_EXAMPLES,
    OFFLINE_EXAMPLES,
    ErrorLine,
    FilterChips,
    SearchBar,
)
from clipdesk.ui.search.controller import Answer, SearchController
from clipdesk.ui.search.markfilters import MarkFilters
from clipdesk.ui.settings import Settings
from clipdesk.ui.workers import Pools

SYNTAX_HELP = (
    "<p><b>dog on a beach</b> — what the photo shows<br>"
    "<b>beach + sunset</b> — both<br><b>red car -night</b> — push away from a word<br>"
    "<b>folder:Holidays</b>, <b>after:2023-07</b>, <b>before:2024</b>, <b>type:heic</b>, "
    "<b>camera:pixel</b>, <b>tag:family</b>, <b>-tag:\"to delete\"</b><br>"
    "<b>rating:&gt;=3</b>, <b>rating:0</b> (unrated), <b>flag:pick</b>, <b>-flag:reject</b>, <b>label:red</b><br>"
    "<b>similar:~/Pictures/cat.jpg</b> — photos like a file (or drop it on the search bar)<br>"
    "<b>sort:newest</b>, <b>sort:oldest</b></p>"
)

#: How long typing must pause before a problem with the query is shown.
TYPING_PAUSE_MS = 700


def count_words(answer: Answer) -> str:
    """How many photos an answer shows, in words that say what they are."""
    n, result = len(answer.ids), answer.result
    if answer.kind == "list":
        return plural(n, "photo")
    if answer.kind == "similar":
        return plural(n, "similar photo")
    if answer.withheld or (result.unknown and not n):
        return "no match"
    if not result.model_id:
        return plural(n, "photo")
    if result.unknown or not result.confident:
        return plural(n, "closest match", "closest matches")
    return plural(n, "result")


class SearchPanel(QWidget):
    """Search bar, save button, filter chips and the line under them; runs the searches."""

    #: The user named the current search to keep it: (name, query text).
    saveRequested = Signal(str, str)
    #: A passing message for the status bar: (text, milliseconds).
    statusMessage = Signal(str, int)
    #: The query on screen and what it filters by: (text, Query or None when
    #: it does not parse or is no typed query). The chips and the sidebar follow it.
    filtersShown = Signal(str, object)

    def __init__(self, library: Library, pools: Pools, hub: ChangeHub, settings: Settings, parent=None):
        super().__init__(parent)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.setSpacing(4)
        row = QHBoxLayout()
        self.bar = SearchBar(self)
        self.save_button = QToolButton(self)
        self.save_button.setText("☆ Save")
        self.save_button.setToolTip("Save this search; it stays live as photos arrive")
        row.addWidget(self.bar, 1)
        row.addWidget(self.save_button)
        v.addLayout(row)
        # The filter chips on a line of their own (the marks' chips with them),
        # wrapping when the window is narrow; the message line under them.
        self.chips = FilterChips(self.bar, self)
        self.mark_chips = MarkFilters(self.bar, self.chips)
        self.chips.add_chips(self.mark_chips)
        v.addWidget(self.chips)
        self.message = ErrorLine(self)
        v.addWidget(self.message)
        self.count_label = QLabel("", self)
        self.count_label.setObjectName("countLabel")
        self.controller = SearchController(library, pools, hub, limit=settings.result_limit,
                                           delay_ms=settings.search_delay_ms, parent=self)
        self.settings = settings
        #: View > "Show the last search at start" (the restore_search setting).
        self.restore_action = QAction("Show the last search at &start", self)
        self.restore_action.setCheckable(True)
        self.restore_action.setChecked(settings.restore_search)
        self.restore_action.toggled.connect(lambda on: setattr(settings, "restore_search", on))
        if settings.restore_search and settings.last_search:
            self.bar.setText(settings.last_search)  # searched when the window starts
        #: What the model banner says already; an answer's notice leaves it out.
        self._said_elsewhere: str | None = None
        #: The query text and count of the answer on screen, and a problem
        #: with the text in the bar that waits for typing to pause.
        self._shown_text: str | None = None
        self._shown_count = ""
        self._problem: str | None = None
        #: A notice about the answer on screen that waits for typing to pause:
        #: (text, warning).
        self._waiting_notice: tuple[str, bool] | None = None
        #: Since the user's last keystroke in the bar (not a text set for them).
        self._last_key = QElapsedTimer()
        self._pause = QTimer(self)
        self._pause.setSingleShot(True)
        self._pause.setInterval(TYPING_PAUSE_MS)
        self._pause.timeout.connect(self._typing_paused)

        self.bar.textChanged.connect(self.controller.search)
        self.bar.textEdited.connect(self._last_key.restart)
        self.save_button.clicked.connect(self.save_current)
        self.controller.parsed.connect(self._parsed)
        self.controller.answered.connect(self._answered)
        self.controller.failed.connect(self._failed)

    def focus(self) -> None:
        """Put the cursor in the bar, its text selected (Ctrl+F, Ctrl+L)."""
        self.bar.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.bar.selectAll()

    def set_query(self, text: str) -> None:
        """Search for ``text`` as if typed. The focus stays where it is (on the
        tag or saved search clicked, on the photos): only the user's own
        Ctrl+F or click puts the cursor in the bar, so that the next F2 or
        Delete reaches what the user meant and not the query's text."""
        self.bar.setText(text)

    def filter_by(self, key: str, value: str, add: bool = False) -> None:
        """Show the photos of a folder or tag picked in the sidebar: it replaces
        the query's filter of that kind, or (``add``) joins it."""
        text = self.bar.text()
        self.set_query(querylang.add_filter(text, key, value) if add else querylang.set_filter(text, key, value))

    def _parsed(self, q) -> None:
        self.chips.show_query(q)
        self.mark_chips.show_query(q)
        self.filtersShown.emit(self.bar.text(), q)

    def find_similar_photo(self, photo_id: int, photo: Photo | None = None) -> None:
        """Photos like a catalogued one (``photo``, when known, names it)."""
        self._show_similar_text(photo.path if photo else None)
        self.controller.similar(photo_id, label=f"photos like {photo.name if photo else photo_id}")

    def find_similar_file(self, path: str) -> None:
        """Photos like an image file (catalogued or not)."""
        self._show_similar_text(path)
        self.controller.similar(path, label=f"photos like {os.path.basename(path)}")

    def _show_similar_text(self, path: str | None) -> None:
        """Put the equivalent query in the bar without searching again."""
        self.bar.blockSignals(True)
        self.bar.setText(f"similar:{querylang.quote_value(path)}" if path else "")
        self.bar.blockSignals(False)
        self._parsed(None)

    def save_current(self) -> None:
        """Ask for a name and save the current search."""
        query = self.bar.text().strip()
        if not query:
            self.statusMessage.emit("Type a search first", 3000)
            return
        name, ok = QInputDialog.getText(self, "Save search", "Name:", text=query[:40])
        if ok and name.strip():
            self.saveRequested.emit(name.strip(), query)

    def set_model_status(self, status: ModelStatus | None) -> None:
        """The model searches use (read by the banner): the bar suggests queries
        it knows, and what the banner says about it is left out of the notices."""
        self._said_elsewhere = status.message if status is not None and (status.is_demo or not status.model_id) else None
        if status is not None and status.is_demo:
            self.bar.set_examples(OFFLINE_EXAMPLES if status.model_id == modelhub.OFFLINE_MODEL else DEMO_EXAMPLES)
        elif status is not None and status.model_id is None:
            self.bar.set_examples(NO_MODEL_EXAMPLES)
        else:
            self.bar.set_examples(CLIP_EXAMPLES)

    def show_syntax(self) -> None:
        QMessageBox.information(self, "Search syntax", SYNTAX_HELP)

    def _answered(self, answer: Answer) -> None:
        result = answer.result
        text = count_words(answer)
        self._shown_text, self._shown_count = answer.text, text
        if answer.kind != "similar" and self.settings.last_search != answer.text:
            self.settings.last_search = answer.text
        if self._problem is not None and answer.kind != "similar" and answer.text != self.bar.text():
            # The last good search ran again (the library changed) while the bar
            # holds a query with a problem: the problem stays, and so does the mark.
            self.count_label.setText(f"{text} · for “{answer.text}”")
            return
        self.count_label.setText(f"{text} · {result.elapsed_ms:.0f} ms")
        self._problem = None
        self._pause.stop()
        notice = result.notice
        if notice and self._said_elsewhere:
            notice = notice.replace(self._said_elsewhere, "").strip()
        if notice and result.unknown and not answer.ids:  # "...; these are only the closest matches": none shown
            notice = notice.split(";", 1)[0] + "."
        self._waiting_notice = None
        said = self.message.isVisible() and self.message.text() == notice  # a refresh says it again
        if notice and not said and answer.kind != "similar" \
                and (answer.text != self.bar.text() or self._typing_a_token()):
            # The text's last token is still being typed ("red aft", "tag:bea",
            # "rating:"): what the answer says of it is no verdict yet.
            self._waiting_notice = (notice, result.unknown or not result.confident)
            self._pause.start()
            self.message.clear_message()
        elif notice:
            self.message.show_notice(notice, warning=result.unknown or not result.confident)
        else:
            self.message.clear_message()

    def _typing_a_token(self) -> bool:
        """The user is typing the token that ends at the cursor: they pressed a
        key in the bar less than a typing pause ago (a tag clicked or a chip
        picked is no typing) and no space follows what they typed."""
        if not self._last_key.isValid() or self._last_key.elapsed() >= TYPING_PAUSE_MS:
            return False
        text, at = self.bar.text(), self.bar.cursorPosition()
        return 0 < at and not text[at - 1].isspace() and (at == len(text) or text[at].isspace())

    def _failed(self, message: str, position: int) -> None:
        """A query that does not parse (or could not run). The text and the caret
        stay exactly as the user typed them; the last answer stays on screen,
        marked as the last complete search's; the problem is shown under the
        bar once typing pauses (half-typed filters such as ``tag:`` are no
        problem while the user is still typing). A notice about the text
        before it goes: it was about other words."""
        self._problem = message
        self._waiting_notice = None
        if self.message.isVisible() and self.message.property("kind") != "error":
            self.message.clear_message()  # a notice about the text before this one
        self._pause.start()
        shown = self._shown_text
        if shown is not None and shown != self.bar.text():
            self.count_label.setText(f"{self._shown_count} · for “{shown}”")

    def _typing_paused(self) -> None:
        if self._problem is not None:
            self.message.show_error(self._problem)
        elif self._waiting_notice is not None and self._shown_text == self.bar.text():
            notice, warning = self._waiting_notice
            self._waiting_notice = None
            self.message.show_notice(notice, warning=warning)
