"""Rewrite the papermill `parameters` cell of nbs/05_train.ipynb from `Config` (after a field or its comment changed).

    python scripts/sync_parameters.py          # rewrite the cell
    python scripts/sync_parameters.py --check  # exit 1 when the cell differs from `Config`
"""
import sys
from pathlib import Path

import nbformat

from alexnet.train import job_parameters_cell

NB = Path(__file__).resolve().parents[1]/'nbs'/'05_train.ipynb'


def parameters_cell_of(nb) -> nbformat.NotebookNode:
    "The cell tagged `parameters` in `nb`."
    cells = [c for c in nb.cells if 'parameters' in c.metadata.get('tags', [])]
    if len(cells) != 1: sys.exit(f'{NB.name}: expected one cell tagged parameters, found {len(cells)}')
    return cells[0]


def main(argv:list[str]):
    nb = nbformat.read(NB, as_version=4)
    cell, want = parameters_cell_of(nb), job_parameters_cell()
    if cell.source == want: return print(f'{NB.name}: parameters cell matches Config')
    if '--check' in argv: sys.exit(f'{NB.name}: parameters cell differs from Config; run python scripts/sync_parameters.py')
    cell.source = want
    nbformat.write(nb, NB)
    print(f'{NB.name}: parameters cell rewritten from Config')


if __name__ == '__main__': main(sys.argv[1:])
