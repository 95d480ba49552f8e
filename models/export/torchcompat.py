"""Make ``import torchvision`` work beside the CPU build of torch.

Why this exists: the torchvision wheel on PyPI is built against the CUDA
torch wheel; beside ``torch==2.13.0+cpu`` it cannot load its compiled ops
library, and its pure-Python part then fails at import time with
``RuntimeError: operator torchvision::nms does not exist`` while registering
fake (meta) kernels for two detection ops. open_clip imports torchvision only
for its PIL transforms (Resize, CenterCrop, ToTensor, Normalize), which never
touch those ops. Defining the two op schemas ourselves lets the import finish;
calling nms would still fail loudly, which is what we want.

Use :func:`import_open_clip` (or :func:`ensure_torchvision`) instead of a bare
import in the export tool, the parity tests and the benchmark. Nothing here is
done unless the plain import fails with exactly that error.
"""

from __future__ import annotations

import sys

#: Keeps the schema library alive: torch unregisters it when it is collected.
_LIBRARY = None

_MISSING_OP = "operator torchvision::nms does not exist"


def ensure_torchvision():
    """Import torchvision, defining its two detection-op schemas if the import needs them."""
    global _LIBRARY
    import torch

    try:
        import torchvision
    except RuntimeError as exc:
        if _MISSING_OP not in str(exc):
            raise
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        if _LIBRARY is None:
            lib = torch.library.Library("torchvision", "DEF")
            lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
            lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
            _LIBRARY = lib
        import torchvision
    return torchvision


def import_open_clip():
    """``import open_clip`` after :func:`ensure_torchvision`."""
    ensure_torchvision()
    import open_clip

    return open_clip
