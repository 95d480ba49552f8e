"""Real sample photos that ship inside the scikit-image, scikit-learn and matplotlib wheels (no downloads)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SAMPLES = {
    "skimage": [
        "data/astronaut.png", "data/brick.png", "data/camera.png", "data/cell.png", "data/chelsea.png",
        "data/clock_motion.png", "data/coffee.png", "data/coins.png", "data/color.png", "data/grass.png",
        "data/gravel.png", "data/hubble_deep_field.jpg", "data/ihc.png", "data/moon.png",
        "data/motorcycle_left.png", "data/motorcycle_right.png", "data/page.png", "data/retina.jpg",
        "data/rocket.jpg", "data/text.png", "data/microaneurysms.png",
    ],
    "sklearn": ["datasets/images/china.jpg", "datasets/images/flower.jpg"],
    "matplotlib": ["mpl-data/sample_data/grace_hopper.jpg", "mpl-data/sample_data/Minduka_Present_Blue_Pack.png"],
}


def sample_photos() -> list[Path]:
    found = []
    for package, names in SAMPLES.items():
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(list(spec.submodule_search_locations)[0])
        found += [root / n for n in names if (root / n).is_file()]
    return found


