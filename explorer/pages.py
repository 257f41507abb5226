"""The app's pages, in the order the sidebar lists them. app.py builds its navigation from this list, and the tests
walk the same list, so a new page is added here once (and its script in views/)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    script: str  # relative to explorer/
    title: str
    icon: str
    url_path: str  # the page's address: /explore, /map, ...
    shows_model: bool = True  # shows the model chosen in the sidebar (Train live makes a model instead)


PAGES = (
    Page("views/explore.py", "Explore latents", ":material/tune:", "explore"),
    Page("views/plane.py", "Latent plane", ":material/grid_on:", "plane"),
    Page("views/interpolate.py", "Interpolate", ":material/linear_scale:", "interpolate"),
    Page("views/latent_map.py", "Latent map", ":material/scatter_plot:", "map"),
    Page("views/compare.py", "Compare β", ":material/compare:", "compare"),
    Page("views/holes.py", "AE next to VAE", ":material/vertical_split:", "holes", shows_model=False),
    Page("views/sample.py", "Sample", ":material/casino:", "sample"),
    Page("views/bound.py", "The bound", ":material/trending_up:", "bound"),
    Page("views/anomaly.py", "Anomaly", ":material/report:", "anomaly"),
    Page("views/train.py", "Train live", ":material/model_training:", "train", shows_model=False),
)
