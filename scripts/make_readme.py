"""Render README.md from nbs/index.ipynb without Quarto (which cannot be installed offline).

The front page is executed afresh (nbconvert's ExecutePreprocessor, in `nbs/`), so every number on it
is computed now; the cell directives (`#| hide`, `#| echo: false`) are applied as nbdev's docs would,
and nbconvert's Markdown exporter writes the page. Links and images that point at `../x` from `nbs/`
are rewritten to `x`, as seen from the repository root.
"""
import re
from pathlib import Path

import nbformat
from nbconvert import MarkdownExporter
from nbconvert.preprocessors import ExecutePreprocessor, TagRemovePreprocessor

ROOT = Path(__file__).resolve().parents[1]


def strip_directives(nb):
    "Drop `#| hide` cells, the input of `#| echo: false` cells and every directive line."
    cells = []
    for c in nb.cells:
        lines = c.source.splitlines()
        flags = {l.strip()[3:].strip() for l in lines if l.startswith('#|')}
        if 'hide' in flags: continue
        c.source = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
        if c.cell_type == 'code' and 'echo: false' in flags: c.metadata.setdefault('tags', []).append('remove_input')
        cells.append(c)
    nb.cells = cells
    return nb


def main():
    nb = nbformat.read(ROOT/'nbs'/'index.ipynb', as_version=4)
    ExecutePreprocessor(timeout=600, kernel_name='python3').preprocess(nb, {'metadata': {'path': str(ROOT/'nbs')}})
    nb = strip_directives(nb)
    exporter = MarkdownExporter(exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}, enabled=True), enabled=True)
    md, _ = exporter.from_notebook_node(nb)
    md = re.sub(r'\]\(\.\./', '](', md)
    (ROOT/'README.md').write_text(md.strip() + '\n')
    print('wrote README.md')


if __name__ == '__main__':
    main()
