"""Molecules for the pages that show what a code decodes to when it decodes to a SMILES string: a drawing and the
properties a map is coloured by, both from RDKit. A string that is no molecule (a decoder's output often is not) is
an answer, not an error: it gets None, and the page shows the string as invalid.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .metrics.molecules import molecule, rdkit_chem

DRAWING_SIZE = (320, 240)  # pixels; drawn at twice this by the caller for a sharp projector image


@dataclass(frozen=True)
class MoleculeProperties:
    """What RDKit computes for one molecule: Crippen's logP (Wildman and Crippen 1999: how much the molecule prefers
    octanol to water), QED (Bickerton et al. 2012: drug-likeness from 0 to 1), molecular weight in daltons, and
    heavy atoms."""

    smiles: str  # canonical
    logp: float
    qed: float
    weight: float
    atoms: int


PROPERTY_NAMES = {"logp": "logP", "qed": "QED", "weight": "molecular weight", "atoms": "heavy atoms"}


# Both are pure functions of the string, and a page shows the same molecules again on every rerun (a slider moved,
# a sample grid redrawn): each is computed once per process for the last few thousand strings.
@lru_cache(maxsize=4096)
def properties(smiles: str) -> MoleculeProperties | None:
    """The molecule's properties, or None when `smiles` is not a valid molecule."""
    parsed = molecule(smiles)
    if parsed is None:
        return None
    from rdkit.Chem import QED, Crippen, Descriptors

    return MoleculeProperties(smiles=rdkit_chem().MolToSmiles(parsed), logp=float(Crippen.MolLogP(parsed)),
                              qed=float(QED.qed(parsed)), weight=float(Descriptors.MolWt(parsed)),
                              atoms=parsed.GetNumHeavyAtoms())


def smiles_problem(smiles: str) -> str | None:
    """Why `smiles` is no valid molecule, in RDKit's words where it has some, or None when it is one."""
    chem = rdkit_chem()
    parsed = chem.MolFromSmiles(smiles, sanitize=False)
    if parsed is None:
        return ("RDKit cannot read it as SMILES: check that every ( has its ), every ring-closure digit appears twice "
                "and every [ has its ]")
    try:
        chem.SanitizeMol(parsed)
    except Exception as exc:  # RDKit raises its own exception types, e.g. AtomValenceException, KekulizeException
        return f"RDKit reads it but rejects it as a molecule: {str(exc).strip()}"
    return None


@lru_cache(maxsize=4096)
def drawing_png(smiles: str, size: tuple[int, int] = DRAWING_SIZE) -> bytes | None:
    """A 2-D drawing of the molecule as PNG bytes (RDKit's Cairo drawer), or None when `smiles` is not a valid
    molecule."""
    parsed = molecule(smiles)
    if parsed is None:
        return None
    from rdkit.Chem.Draw import rdMolDraw2D

    drawer = rdMolDraw2D.MolDraw2DCairo(*size)
    drawer.DrawMolecule(parsed)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()
