"""The explorer's entry point: `streamlit run explorer/app.py` (or `vae-explorer app`). It only routes."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run explorer/app.py` puts only explorer/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from explorer.components import model_picker  # noqa: E402

st.set_page_config(page_title="VAE explorer", page_icon=":material/scatter_plot:", layout="wide")
explore = st.Page("views/explore.py", title="Explore latents", icon=":material/tune:", url_path="explore")


def home() -> None:
    """The app's root opens Explore with the same query (a default page would own "/" and leave /explore unserved)."""
    st.switch_page(explore, query_params=st.query_params.to_dict())


landing = st.Page(home, title="VAE explorer", url_path="home", default=True, visibility="hidden")
page = st.navigation([
    landing,
    explore,
    st.Page("views/interpolate.py", title="Interpolate", icon=":material/linear_scale:", url_path="interpolate"),
    st.Page("views/latent_map.py", title="Latent map", icon=":material/scatter_plot:", url_path="map"),
    st.Page("views/compare.py", title="Compare β", icon=":material/compare:", url_path="compare"),
    st.Page("views/sample.py", title="Sample", icon=":material/casino:", url_path="sample"),
    st.Page("views/anomaly.py", title="Anomaly", icon=":material/report:", url_path="anomaly"),
    train := st.Page("views/train.py", title="Train live", icon=":material/model_training:", url_path="train"),
])
# The landing page only redirects (the link's model is for the page it opens); Train live makes a model, it uses none.
if page not in (landing, train):
    model_picker.show()
page.run()
