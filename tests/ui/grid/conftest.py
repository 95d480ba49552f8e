"""A library whose photos were taken over three years (the timeline's tests)."""

from __future__ import annotations

import pytest
from support import age, make_photo

#: (file name, EXIF DateTimeOriginal): 2 photos in Dec 2021, 3 in Jun 2022, 1 in Jan 2023, 4 in Aug 2023.
SHOTS = [("dec21_a.jpg", "2021:12:24 18:00:00"), ("dec21_b.jpg", "2021:12:31 23:00:00"),
         ("jun22_a.jpg", "2022:06:01 09:00:00"), ("jun22_b.jpg", "2022:06:15 12:00:00"),
         ("jun22_c.jpg", "2022:06:30 20:00:00"), ("jan23_a.jpg", "2023:01:02 08:00:00"),
         ("aug23_a.jpg", "2023:08:03 10:00:00"), ("aug23_b.jpg", "2023:08:04 10:00:00"),
         ("aug23_c.jpg", "2023:08:05 10:00:00"), ("aug23_d.jpg", "2023:08:06 10:00:00")]


@pytest.fixture
def dated(colour_model, tmp_path):
    """An indexed library of SHOTS (real JPEGs with camera dates)."""
    from clipdesk.core.library import Library

    root = tmp_path / "dated"
    for i, (name, taken) in enumerate(SHOTS):
        make_photo(root / name, (96, 72), seed=i, taken=taken, make="Canon", model="Canon EOS R6")
        age(root / name)
    with Library(colour_model) as lib:
        lib.folders.add(root)
        assert lib.folders.index().indexed == len(SHOTS)
    return colour_model
