"""Render the report without Quarto (which cannot be installed offline).

    python scripts/render.py readme          # README.md from nbs/index.ipynb, executed afresh
    python scripts/render.py docs [--out D]  # an HTML site of every notebook in nbs/ (default _docs/)

Cell directives are applied as nbdev's docs would (`#| hide` drops a cell, `#| echo: false` drops
its input, directive lines are not shown). The HTML site needs no network: output figures are
embedded in the pages, `plots/` is copied beside them for the markdown figures (`![](../plots/x.png)`),
no MathJax or require.js is loaded from a CDN, and a navigation bar links every chapter. When `quarto`
is on the PATH, use `nbdev_docs` instead for the full nbdev site.
"""
import argparse
import html
import re
import shutil
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter, MarkdownExporter
from nbconvert.preprocessors import ExecutePreprocessor, TagRemovePreprocessor

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'


def strip_directives(nb):
    "Drop `#| hide` cells, tag `#| echo: false` cells for input removal, and remove directive lines."
    cells = []
    for c in nb.cells:
        lines = c.source.splitlines()
        flags = {l.strip()[3:].strip() for l in lines if l.startswith('#|')}
        if 'hide' in flags: continue
        c.source = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
        if c.cell_type == 'code' and ('echo: false' in flags or not c.source):
            c.metadata.setdefault('tags', []).append('remove_input')
        cells.append(c)
    nb.cells = cells
    return nb


def _remove_input(exporter):
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}, enabled=True), enabled=True)
    return exporter


def render_readme():
    "Execute nbs/index.ipynb in memory and write README.md at the repository root."
    nb = nbformat.read(NBS/'index.ipynb', as_version=4)
    ExecutePreprocessor(timeout=600, kernel_name='python3').preprocess(nb, {'metadata': {'path': str(NBS)}})
    md, _ = _remove_input(MarkdownExporter(exclude_input_prompt=True, exclude_output_prompt=True)).from_notebook_node(strip_directives(nb))
    md = re.sub(r'\]\(\.\./', '](', md)                              # ../plots/x.png -> plots/x.png
    md = re.sub(r'\]\(([\w-]+\.ipynb)', r'](nbs/\1', md)               # 00_core.ipynb -> nbs/00_core.ipynb
    (ROOT/'README.md').write_text(md.strip() + '\n')
    print('wrote README.md')


def chapter_title(nb, fallback):
    "The first markdown `# heading` of a notebook, else `fallback`."
    for c in nb.cells:
        m = re.match(r'#\s+(.+)', c.source) if c.cell_type == 'markdown' else None
        if m: return m.group(1).strip()
    return fallback


def nav_bar(pages, current):
    links = ' · '.join(f'<b>{html.escape(t)}</b>' if n == current else f'<a href="{n}.html">{html.escape(t)}</a>' for n, t in pages)
    return f'<nav class="report-nav" style="padding:8px 16px;border-bottom:1px solid #ccc;font-family:sans-serif;font-size:14px">{links}</nav>'


def render_docs(out:Path):
    "Write one offline HTML page per notebook in nbs/ to `out`, with a navigation bar between them."
    out.mkdir(parents=True, exist_ok=True)
    nbs = sorted(NBS.glob('*.ipynb'), key=lambda p: (p.stem != 'index', p.stem))
    books = {p.stem: strip_directives(nbformat.read(p, as_version=4)) for p in nbs}
    pages = [(n, 'Home' if n == 'index' else n) for n in books]
    exporter = _remove_input(HTMLExporter(template_name='lab', embed_images=True, exclude_input_prompt=True, exclude_output_prompt=True))
    exporter.mathjax_url = ''
    for name, nb in books.items():
        body, _ = exporter.from_notebook_node(nb, resources={'metadata': {'path': str(NBS), 'name': chapter_title(nb, name)}})
        body = re.sub(r'<script\b.*?</script>', lambda m: '' if 'https://' in m.group(0) else m.group(0), body, flags=re.S)  # nothing from a CDN
        body = re.sub(r'href="(?:\./)?([\w-]+)\.ipynb', r'href="\1.html', body)   # chapter links -> pages
        body = body.replace('src="../plots/', 'src="plots/')                           # figures travel with the site
        body = body.replace('<body', '<body data-report="alexnet"', 1)
        body = re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + nav_bar(pages, name), body, count=1)
        (out/f'{name}.html').write_text(body)
    shutil.copytree(ROOT/'plots', out/'plots', dirs_exist_ok=True)
    print(f'wrote {len(books)} pages to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out.name}/')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('what', choices=['readme', 'docs'])
    ap.add_argument('--out', default=str(ROOT/'_docs'), help='docs: output folder')
    a = ap.parse_args()
    render_readme() if a.what == 'readme' else render_docs(Path(a.out).resolve())


if __name__ == '__main__':
    main()
