"""A molecule model in Chromium: Interpolate draws its path as a row of molecules, and a molecule typed as A changes
the row; hovering a point of the latent map shows that molecule's SMILES."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness import wait_until_loaded
from steps import LOAD_MS, main_area, settle

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PHENOL = "c1ccccc1O"


def row_pictures(page) -> list[str]:
    """The src of each drawing in Interpolate's row, once every one has loaded."""
    drawings = main_area(page).locator(".st-key-interpolate-row img")
    drawings.first.wait_for(state="visible", timeout=LOAD_MS)
    return [wait_until_loaded(page, drawings.nth(i)) for i in range(drawings.count())]


def test_interpolate_draws_a_row_of_molecules_and_a_typed_molecule_changes_it(page, app_server, molecule_model,
                                                                               artifacts, js_errors):
    page.goto(f"{app_server.url}/interpolate?model={molecule_model}&a=2&b=9&steps=4")
    main_area(page).locator(".st-key-interpolate-row").wait_for(state="attached", timeout=LOAD_MS)
    settle(page, artifacts, js_errors, "sequences_01_interpolate")
    before = row_pictures(page)
    assert len(before) >= 2, "the row has no drawings of A and B"  # test molecules 2 and 9 are valid
    row = main_area(page).locator(".st-key-interpolate-row")
    assert row.get_by_test_id("stImageCaption").first.inner_text() == "A"

    main = main_area(page)
    main.locator(".st-key-interpolate-a-mode").get_by_text("Type your own", exact=True).click()
    typed = main.locator(".st-key-interpolate-a-text-molecule input")
    typed.wait_for(state="visible", timeout=LOAD_MS)
    typed.fill(PHENOL)
    typed.press("Enter")
    row.get_by_text(PHENOL, exact=True).first.wait_for(timeout=LOAD_MS)  # A's SMILES, under its drawing
    settle(page, artifacts, js_errors, "sequences_02_typed_a")
    after = row_pictures(page)
    assert after[0] != before[0], "A's drawing did not change to the typed molecule"
    assert after[-1] == before[-1]  # B stays


def test_hovering_a_point_of_the_latent_map_shows_its_smiles(page, app_server, molecule_model, artifacts, js_errors):
    page.goto(f"{app_server.url}/map?model={molecule_model}&n=30")
    chart = main_area(page).get_by_test_id("stPlotlyChart")
    point = chart.locator(".scatterlayer .trace").first.locator("path.point").first  # SVG markers: a few thousand
    point.wait_for(state="attached", timeout=LOAD_MS)
    settle(page, artifacts, js_errors, "sequences_03_map")
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    label = chart.locator(".hoverlayer .hovertext")
    label.first.wait_for(state="visible", timeout=10_000)
    lines = label.first.locator("text.nums tspan.line").all_text_contents()  # SVG text, one tspan a line
    examples = (ROOT / molecule_model / "examples.txt").read_text().split()
    assert lines and lines[0] in examples, f"the hover label {lines} does not start with a test molecule's SMILES"
    assert any(line.startswith("logP") for line in lines)
