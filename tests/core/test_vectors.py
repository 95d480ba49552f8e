"""The one vector normaliser."""

from __future__ import annotations

import numpy as np
import pytest

from clipdesk.core.vectors import BadRows, unit, unit_rows


def test_rows_come_back_unit_length_in_float32_and_keep_their_direction():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 16)).astype(np.float32) * np.array([[1e-8], [1], [1e6], [3], [1e30]], np.float32)
    out = unit_rows(x, 16)
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    cos = np.sum(out * x.astype(np.float64), axis=1) / np.linalg.norm(x.astype(np.float64), axis=1)
    np.testing.assert_allclose(cos, 1.0, atol=1e-6)


def test_bad_rows_are_named_and_shapes_refused():
    x = np.ones((4, 3), np.float32)
    x[1] = np.nan
    x[3] = 0
    with pytest.raises(BadRows) as err:
        unit_rows(x)
    assert err.value.rows == [1, 3]
    with pytest.raises(BadRows, match=r"\[N, 8\]"):
        unit_rows(x, 8)
    with pytest.raises(BadRows, match="floating"):
        unit_rows(np.ones((2, 3), np.int64))


def test_unit_of_a_single_vector_and_of_nothing():
    np.testing.assert_allclose(unit([3.0, 4.0]), [0.6, 0.8], atol=1e-7)
    with pytest.raises(BadRows):
        unit([0.0, 0.0])
