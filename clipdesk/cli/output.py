"""What every command writes for ``--json``: one writer, so that every
command's output is valid JSON in valid UTF-8."""

from __future__ import annotations

import json
import sys
from typing import Any

from clipdesk.core.names import display_path


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout. A path that is not valid UTF-8
    (os.fsdecode keeps its bytes as lone surrogates, which no JSON reader
    accepts) is written as :func:`display_path` shows it, with U+FFFD."""
    json.dump(_valid(data), sys.stdout, indent=2, default=str)
    print()


def _valid(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            try:
                return display_path(value)
            except UnicodeEncodeError:  # a surrogate that is no escaped byte
                return value.encode("utf-8", "replace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {_valid(k): _valid(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_valid(v) for v in value]
    return value
