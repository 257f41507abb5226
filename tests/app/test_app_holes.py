"""AE next to VAE: both models side by side in every row, one link reproduces the pictures, bad links fall back to
the shipped pair, and without a pair the page says what to train."""
from __future__ import annotations

import shutil

from app_support import OTHER_PAGES, PRETRAINED, assert_clean, open_app, plotly_specs, trace_array
from explorer import palette, state

PAGE = "holes"
SHIPPED_AE, SHIPPED_VAE = "pretrained/fashion_ae", "pretrained/fashion_vae"
PRIOR_TRACE = "draws of N(0, I)"


def sample_grids(at) -> list[str]:
    """The two sides' grids of prior samples (the page's only pictures without captions), as their media URLs."""
    return [image.value[0] for image in at.image if not any(image.captions)]


def paths(at) -> list:
    """The two sides' decoded paths from A to B."""
    return [image for image in at.image if image.captions and image.captions[0] == "A"]


def test_the_page_picks_its_own_models():
    assert OTHER_PAGES[PAGE] == "views/holes.py"  # no sidebar picker: the page runs through OTHER_PAGES


def test_the_shipped_pair_side_by_side():
    at = open_app(PAGE)
    assert_clean(at)
    assert not at.warning, [w.value for w in at.warning]
    assert at.selectbox(key="holes.ae").value == SHIPPED_AE and at.selectbox(key="holes.vae").value == SHIPPED_VAE
    ae_grid, vae_grid = sample_grids(at)
    assert ae_grid != vae_grid  # the same codes, two decoders

    maps = plotly_specs(at)
    assert len(maps) == 2
    for spec in maps:
        traces = {trace["name"]: trace for trace in spec["data"]}
        prior = traces.pop(PRIOR_TRACE)
        assert spec["data"][-1]["name"] == PRIOR_TRACE  # drawn on top of the codes
        assert prior["marker"]["color"] == palette.PRIOR and len(trace_array(prior["x"])) == 1000
        assert len(traces) == 10  # one per Fashion-MNIST class, each in its own colour
        assert {trace["marker"]["color"] for trace in traces.values()} == set(palette.CLASSES)
        assert sum(len(trace_array(trace["x"])) for trace in traces.values()) == 1000
    ae_holes, vae_holes = (float(metric.value.rstrip("%")) for metric in at.metric)
    assert ae_holes > vae_holes + 25

    ends = next(image for image in at.image if image.captions and image.captions[0].startswith("A: #"))
    assert ends.captions[0].split(", ")[1] != ends.captions[1].split(", ")[1]  # two different classes by default
    assert [len(path.value) for path in paths(at)] == [9, 9]
    assert {key: at.query_params[key] for key in ("ae", "vae")} == {"ae": SHIPPED_AE, "vae": SHIPPED_VAE}


def test_the_path_shows_the_chosen_number_of_pictures():
    at = open_app(PAGE, steps="5")
    assert_clean(at)
    assert all(path.captions == ["A", "0.25", "0.50", "0.75", "B"] for path in paths(at))
    at.slider(key="holes.steps").set_value(12).run()
    assert_clean(at)
    assert [len(path.value) for path in paths(at)] == [12, 12]
    assert at.query_params["steps"] == "12"


def test_a_link_reproduces_the_pictures():
    link = dict(ae=SHIPPED_AE, vae=SHIPPED_VAE, i="3", j="42", seed="7")
    first, second = open_app(PAGE, **link), open_app(PAGE, **link)
    assert_clean(first)
    assert not first.warning, [w.value for w in first.warning]
    assert (first.number_input(key="holes.i").value, first.number_input(key="holes.j").value) == (3, 42)
    assert sample_grids(first) == sample_grids(second)
    assert [p.value for p in paths(first)] == [p.value for p in paths(second)]
    assert {key: first.query_params[key] for key in link} == link

    other = open_app(PAGE, **{**link, "seed": "8"})
    assert sample_grids(other)[0] != sample_grids(first)[0]  # other draws...
    assert [p.value for p in paths(other)] == [p.value for p in paths(first)]  # ...the same path


def test_new_draws_change_the_samples_and_the_link():
    at = open_app(PAGE, seed="5")
    before = sample_grids(at)
    next(b for b in at.button if b.label == "New draws").click().run()
    assert_clean(at)
    assert at.query_params["seed"] != "5" and sample_grids(at) != before


def test_hostile_values_fall_back_to_the_defaults():
    bad = dict(ae="../../etc", vae="pretrained/digits_vae", i="-5", j="1e9", seed="abc", steps="nan")
    at = open_app(PAGE, **bad)
    assert_clean(at)
    warned = " ".join(w.value for w in at.warning)
    assert all(f"`{name}={value}`" in warned for name, value in bad.items()), warned
    assert at.selectbox(key="holes.ae").value == SHIPPED_AE and at.selectbox(key="holes.vae").value == SHIPPED_VAE
    assert at.query_params["seed"] == "0" and at.query_params["steps"] == "9"
    assert all(at.query_params[name] != value for name, value in bad.items())
    assert len(sample_grids(at)) == 2 and len(paths(at)) == 2


def test_another_autoencoder_offers_only_vaes_of_its_data_and_size():
    at = open_app(PAGE)
    aes = at.selectbox(key="holes.ae").options
    assert len(aes) >= 2, aes  # the shipped one and the briefly trained runs/variant_ae
    other = next(option for option in aes if not option.startswith(SHIPPED_AE))
    at.selectbox(key="holes.ae").select_index(aes.index(other)).run()
    assert_clean(at)
    ae = state.service().info(at.selectbox(key="holes.ae").value)
    assert ae.capabilities.unregularised and ae.id != SHIPPED_AE
    offered = [state.service().info(label.split(" · ")[0]) for label in at.selectbox(key="holes.vae").options]
    assert offered and all((v.dataset, v.latent_dim) == (ae.dataset, ae.latent_dim) for v in offered)
    assert all(v.capabilities.has_kl and v.capabilities.normal_prior for v in offered)
    assert at.query_params["ae"] == ae.id and at.query_params["vae"] in [v.id for v in offered]
    assert len(sample_grids(at)) == 2 and len(plotly_specs(at)) == 2 and len(paths(at)) == 2


def test_without_a_pair_the_page_says_what_to_train(tmp_path, monkeypatch):
    """Only the VAE of the pair is here: the page names the recipe lines and draws nothing."""
    shutil.copytree(PRETRAINED / "fashion_vae", tmp_path / "pretrained" / "fashion_vae")
    monkeypatch.setenv("VAE_EXPLORER_PRETRAINED", str(tmp_path / "pretrained"))
    monkeypatch.setenv("VAE_EXPLORER_RUNS", str(tmp_path / "runs"))
    state.service.clear()
    state.models.clear()
    try:
        at = open_app(PAGE)
        assert_clean(at)
        (info,) = at.info
        assert "recipes.sh fashion_ae" in info.value and "recipes.sh fashion_vae" in info.value
        assert not at.image and not at.get("plotly_chart")
    finally:
        monkeypatch.undo()
        state.service.clear()
        state.models.clear()
