"""One set of colours for the whole app: a class keeps its colour on every page, and the prior's colour is one no
class uses."""
from __future__ import annotations

# Ten classes (Fashion-MNIST, digits): Tableau's ten, with its grey swapped for a dark blue, since grey is the prior's.
CLASSES = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79",
)
PRIOR = "#7f7f7f"  # draws of N(0, I), and the prior's circles
NO_CLASS = "#444444"  # points without a class (dSprites, coloured by a factor instead)
FACTOR_SCALE = "Viridis"  # a ground-truth factor's value


def class_colour(label: int) -> str:
    return CLASSES[int(label) % len(CLASSES)]


# A factor's value in steps (dark to light), where a page draws discrete colours rather than a continuous scale.
FACTOR_STEPS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")  # Viridis at 0, 1/4, 1/2, 3/4, 1
