"""open_clip parity fixtures: one randomly initialised ViT-B-32, exported once per session.

Skipped, with the reason, when torch or open_clip cannot be imported (they are
the ``export`` extra, never a runtime dependency).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import REPO

SEED = 0
ARCH = "ViT-B-32"

def _import_reference():
    """(open_clip, torch) or a skip reason."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        return None, f"torch is not installed ({exc}); install the export extra"
    sys.path.insert(0, str(REPO / "models"))
    try:
        from export.torchcompat import import_open_clip

        open_clip = import_open_clip()
    except ImportError as exc:
        return None, f"open_clip is not importable ({exc}); install the export extra"
    finally:
        sys.path.remove(str(REPO / "models"))
    return open_clip, None


@dataclass
class Reference:
    open_clip: object
    torch: object
    model: object
    preprocess: object
    tokenizer: object
    bundle: Path
    export_seconds: float


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> Reference:
    open_clip, why = _import_reference()
    if open_clip is None:
        pytest.skip(why)
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    model, _, preprocess = open_clip.create_model_and_transforms(ARCH, pretrained=None)
    model.eval()
    tokenizer = open_clip.get_tokenizer(ARCH)

    sys.path.insert(0, str(REPO / "models"))
    try:
        import export_openclip
    finally:
        sys.path.remove(str(REPO / "models"))
    out = tmp_path_factory.mktemp("parity") / "vit-b-32-random"
    t0 = time.perf_counter()
    export_openclip.export_model(model, ARCH, out, card={"pretrained": "none (random init)", "seed": SEED})
    return Reference(open_clip, torch, model, preprocess, tokenizer, out, time.perf_counter() - t0)
