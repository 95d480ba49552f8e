"""The contracts between the pipeline, the search code and a model engine.

The pipeline decodes each photo once and hands the decoded image to an
:class:`ImageEmbedder` to turn into model input; the encoder stage batches
those inputs. Anything that satisfies these protocols can be plugged in, which
keeps ``pipeline`` independent of ONNX Runtime.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np
from PIL import Image


@runtime_checkable
class ImageEmbedder(Protocol):
    #: Stable id of the model (the bundle's folder name); embeddings are stored per id.
    model_id: str
    #: Embedding dimension.
    dim: int
    #: The decode must keep the image's shorter side at least this long, so that
    #: JPEG draft mode (DCT scaling) never starves the model input.
    min_input_side: int

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """RGB image (orientation applied) -> float32 [3, S, S] model input."""

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """float32 [N, 3, S, S] -> float32 [N, D], rows L2-normalised."""


@runtime_checkable
class TextEmbedder(Protocol):
    model_id: str
    dim: int

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Texts -> float32 [N, D], rows L2-normalised."""
