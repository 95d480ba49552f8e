"""The demo library: scenes drawn from held-out Fashion-MNIST items, written as
JPEG photos, with the ground truth beside them (no Qt here).

Used by the first run's demo, `clipdesk demo`, the self-test, the trainer of
the small built-in model (``models/train_mini``) and its evaluations; never by
the search path.
"""

from __future__ import annotations

from pathlib import Path

#: Where the demo library is written, below the data folder.
DEMO_FOLDER = "Demo library"


def needs_demo(library) -> bool:
    """An empty library and no real model: the first run shows the demo library."""
    if library.folders.roots() or any(library.folders.counts().values()):
        return False
    return all(m.bundled for m in library.models.installed())


def setup_demo(library, count: int = 300) -> Path:
    """Write the demo library into the data folder (once) and add it to the
    library; the caller indexes it. Returns the folder.

    A library that is only the demo is searched with the demo's own model
    (clipdesk-mini, the one that knows its scenes), unless a model was chosen."""
    from clipdesk.core import modelhub
    from clipdesk.demo.scenes import write_demo_library

    if needs_demo(library) and library.catalog.get_meta("model") is None \
            and modelhub.find_model(library.paths, modelhub.DEMO_MODEL) is not None:
        library.models.set_model(modelhub.DEMO_MODEL)
    dest = library.paths.data_dir / DEMO_FOLDER
    if not (dest / "ground_truth.json").exists():
        dest.mkdir(parents=True, exist_ok=True)
        write_demo_library(dest, count=count, resources_dir=library.paths.resources_dir)
    library.folders.add(dest)
    return dest
