"""The explorer's entry point: `streamlit run explorer/app.py` (or `vae-explorer app`). It only routes."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run explorer/app.py` in a checkout puts only explorer/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from explorer.components import model_picker  # noqa: E402
from explorer.pages import PAGES  # noqa: E402

# The tab's icon is the app's own file: a Material icon name would make the browser fetch it from a font host, which
# an offline classroom cannot reach.
st.set_page_config(page_title="VAE explorer", page_icon=str(Path(__file__).parent / "static" / "icon.png"), layout="wide")
# Captions in a contrast a projector keeps: Streamlit's own caption grey is about 3.5:1 on white, this is about 10:1.
st.html(f"<style>{Path(__file__).with_name('app.css').read_text(encoding='utf-8')}</style>")
pages = {spec.url_path: st.Page(spec.script, title=spec.title, icon=spec.icon, url_path=spec.url_path) for spec in PAGES}


def home() -> None:
    """The app's root opens the first page with the same query (a default page would own "/" and leave its own
    address unserved)."""
    st.switch_page(pages[PAGES[0].url_path], query_params=st.query_params.to_dict())


landing = st.Page(home, title="VAE explorer", url_path="home", default=True, visibility="hidden")
page = st.navigation([landing, *pages.values()])
# The landing page only redirects (the link's model is for the page it opens).
if any(spec.shows_model and pages[spec.url_path] is page for spec in PAGES):
    model_picker.show()
page.run()
