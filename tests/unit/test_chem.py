"""Drawing molecules and their properties: against numbers computed by hand (molecular weight from atomic masses) and
published ones (Crippen's logP of ethanol, the QED of aspirin in Bickerton et al. 2012); a string that is no molecule
gets None, never an exception."""
from __future__ import annotations

import io

import pytest

pytest.importorskip("rdkit")  # CI installs it with the test extra

from PIL import Image  # noqa: E402

from vae_core.chem import DRAWING_SIZE, drawing_png, properties  # noqa: E402

MASS = {"C": 12.011, "H": 1.008, "O": 15.999}  # IUPAC standard atomic weights, as RDKit's MolWt uses them


def test_properties_against_hand_and_published_numbers():
    ethanol = properties("OCC")
    assert ethanol.smiles == "CCO" and ethanol.atoms == 3
    assert ethanol.weight == pytest.approx(2 * MASS["C"] + 6 * MASS["H"] + MASS["O"])  # C2H6O
    assert ethanol.logp == pytest.approx(-0.0014, abs=1e-4)  # Wildman and Crippen's contributions, summed
    aspirin = properties("CC(=O)Oc1ccccc1C(=O)O")
    assert aspirin.weight == pytest.approx(9 * MASS["C"] + 8 * MASS["H"] + 4 * MASS["O"])  # C9H8O4
    assert aspirin.qed == pytest.approx(0.55, abs=0.005)
    assert properties("C" * 20).qed < aspirin.qed  # an alkane chain is less drug-like than aspirin


@pytest.mark.parametrize("bad", ["C1CC", "", "not a molecule", "C(C)(C)(C)(C)C"])
def test_a_string_that_is_no_molecule_gets_none(bad):
    assert properties(bad) is None and drawing_png(bad) is None


def test_a_drawing_is_a_png_of_the_asked_size():
    picture = Image.open(io.BytesIO(drawing_png("c1ccccc1O")))
    assert picture.format == "PNG" and picture.size == DRAWING_SIZE
    assert Image.open(io.BytesIO(drawing_png("CCO", size=(100, 80)))).size == (100, 80)
    grey = picture.convert("L")
    assert grey.getextrema()[0] < 100 and len(grey.histogram()) - grey.histogram().count(0) > 2  # lines drawn
