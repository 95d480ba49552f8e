"""Messages speak the user's language: counts agree in number (core.wording.plural),
never "photo(s)"; query problems are said in words, never "(at character 12)"."""

from __future__ import annotations

import re

from support import REPO

UI = REPO / "clipdesk" / "ui"


def test_no_message_counts_with_s_in_parentheses_or_characters():
    found = []
    for path in sorted(UI.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"[A-Za-z]\(s\)|\(es\)|at character", line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert found == []
