"""Explore's attribute directions: from one class's centre to another's, a strip of steps, a picture at the chosen
step, and a button that puts that code on the sliders."""
from __future__ import annotations

import numpy as np

from app_support import assert_clean, open_app
from explorer import state

MODEL = "pretrained/fashion_vae"
HEADING = "Move along an attribute"


def _code(at) -> np.ndarray:
    return np.asarray(at.session_state["explore.z"], dtype=np.float32)


def test_a_labelled_model_moves_the_sliders_code_from_one_class_toward_another():
    at = open_app(model=MODEL, i="3")
    assert_clean(at)
    assert HEADING in [h.value for h in at.subheader]
    frm, to = at.selectbox(key="explore.away"), at.selectbox(key="explore.to")
    assert (frm.value, to.value) == (0, 1)  # T-shirt/top toward Trouser
    strip = [image for image in at.image if "0 (sliders)" in image.captions]
    assert len(strip) == 1 and len(strip[0].captions) == 7  # -1 to 2 in steps of 0.5
    assert "test images of class “T-shirt/top”" in " ".join(c.value for c in at.caption)
    # the button puts the moved code on the sliders, and the link carries the direction
    to.set_value(3).run()  # toward Dress
    at.slider(key="explore.along").set_value(1.5).run()
    assert_clean(at)
    start = _code(at)
    direction = state.service().attribute_direction(MODEL, "Dress", "T-shirt/top")
    at.button(key="explore.direction.apply").click().run()
    # (AppTest draws the server's sliders, which round to their step of 0.01)
    np.testing.assert_allclose(_code(at), start + 1.5 * direction.vector, rtol=0, atol=0.0051)
    assert (at.query_params["to"], at.query_params["away"], at.query_params["along"]) == ("3", "0", "1.5")


def test_hostile_link_values_are_refused_and_one_class_at_both_ends_says_what_to_do():
    at = open_app(model=MODEL, to="99", along="nan", away="1")
    assert_clean(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "`to=99` was ignored" in warnings and "`along=nan` was ignored" in warnings
    assert at.selectbox(key="explore.to").value == 1 and at.slider(key="explore.along").value == 1.0
    assert any("Pick two different classes" in i.value for i in at.info)  # from Trouser to Trouser
