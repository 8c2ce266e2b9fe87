#!/usr/bin/env python3
"""Citations of the project's notes: `PAPER_NOTES.md <id>` and `DESIGN_NOTES.md §<n>`.

The notes live in `references/PAPER_NOTES.md` (the paper, the 2012 code and the public record; ids
`0`, `A`…`F`, `A.1`…`E.18`) and `references/DESIGN_NOTES.md` (the project's design; ids `§1`…`§5`).
Text anywhere in the repository cites a section as `PAPER_NOTES.md D.3`, `PAPER_NOTES.md D.1, C.4`,
`PAPER_NOTES.md C.1–C.4`, `PAPER_NOTES.md A.3 item 6`, `PAPER_NOTES.md E.1 b` or `DESIGN_NOTES.md §5`.
Older revisions cited the same sections as `PAPER.md <id>` / `DESIGN.md §<n>`, files that were never
part of the repository.

    python scripts/citations.py check      # exit 1: a cited id without a heading, or an old-style reference left
    python scripts/citations.py list       # every citation, and the count per id
    python scripts/citations.py rewrite    # PAPER.md -> PAPER_NOTES.md, DESIGN.md -> DESIGN_NOTES.md, in place
    python scripts/citations.py rewrite --outputs   # also in the notebooks' saved outputs

Notebooks are read cell by cell (the `source` of each cell; `rewrite --outputs` also edits text outputs)
and written back in nbdev_clean's format (`json.dump(nb, f, indent=1, ensure_ascii=False)` and a newline);
a notebook that does not round-trip byte for byte is left alone and reported. Standard library only.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import NamedTuple
from collections.abc import Iterator

# Notes files (relative to the repository root), keyed by the name they are cited by.
NOTES = {'PAPER_NOTES.md': 'references/PAPER_NOTES.md', 'DESIGN_NOTES.md': 'references/DESIGN_NOTES.md'}
# Old name -> new name.
RENAMES = {'PAPER.md': 'PAPER_NOTES.md', 'DESIGN.md': 'DESIGN_NOTES.md'}

# The files that may cite the notes (globs relative to the root; `**` recurses).
GLOBS = ('nbs/*.ipynb', 'alexnet/*.py', 'configs/**/*.yaml', 'README.md', 'references/*', 'bench/**/*.py',
         'scripts/**/*.py', 'scripts/**/*.sh', 'scripts/**/*.sbatch', 'tests/*.py',
         'plots/*.md', 'plots/*.csv', 'results/**/*.md', 'results/**/*.yaml', 'Makefile', 'settings.ini', 'pyproject.toml')
# Not scanned at all: this script and its test (they hold example citations and the old names on purpose).
EXCLUDE = frozenset({'scripts/citations.py', 'tests/test_citations.py'})
# Scanned for citations, but allowed to mention the old names, and never rewritten: the notes themselves.
KEEP_OLD = frozenset(NOTES.values())

_NAME = re.compile(r'(?<![\w.])(PAPER|DESIGN)(_NOTES)?\.md(?!\w)')
_OLD = re.compile(r'(?<![\w.])(PAPER|DESIGN)\.md(?!\w)')
# One id: `0`, a section letter `A`-`F` (upper case, not the start of a word) with an optional `.n`.
# Not followed by a word character, nor by `.x` / `..` (so `D.3.` ends a sentence but the truncated `D...` is no id).
_PAPER_ID = re.compile(r'§?\s*(0|[A-F](?:\.\d+)?)(?!\w|\.\w|\.\.)')
_DESIGN_ID = re.compile(r'§\s*(\d+)(?!\w|\.\w|\.\.)|(\d+)(?!\w|\.\w|\.\.)')
_SEP = re.compile(r'\s*(,|–|-|/|\band\b|&)\s*')
_HEADING = re.compile(r'^#{1,6}[ \t]+§?(\d+(?:\.\d+)*|[A-Z](?:\.\d+)*)(?=[\s.:)]|$)')


class Citation(NamedTuple):
    file: str   # path relative to the root, with /
    where: str  # 'line 12', or for a notebook 'cell 7 line 3' (cell index from 0 in nb['cells'], line from 1)
    id: str     # the section id as written ('D.3', '0', 'A'); for DESIGN_NOTES the number without '§'
    notes: str  # the notes file the citation points to: 'PAPER_NOTES.md' or 'DESIGN_NOTES.md'
    old: bool   # True when written with the old name (PAPER.md / DESIGN.md)


class Mention(NamedTuple):
    file: str
    where: str
    text: str   # the mention and a little of what follows


class Report(NamedTuple):
    citations: list      # every Citation
    missing: list        # Citations whose id has no heading in their notes file
    leftovers: list      # Mentions of PAPER.md / DESIGN.md in scanned text (sources, not outputs)
    stale_outputs: list  # Mentions of the old names in notebook outputs (refreshed when the notebook runs)

    @property
    def ok(self) -> bool: return not self.missing and not self.leftovers


# ---------------------------------------------------------------------------- files

def text_files(root) -> list[Path]:
    "The files that may cite the notes, sorted, without EXCLUDE and without non-text or cache files."
    root = Path(root); seen = set()
    for g in GLOBS:
        for p in root.glob(g):
            rel = p.relative_to(root).as_posix()
            if p.is_file() and rel not in EXCLUDE and '__pycache__' not in p.parts and not rel.startswith('.'):
                seen.add(p)
    return sorted(seen)


def _read_nb(path: Path) -> tuple[str, dict]:
    raw = path.read_text(encoding='utf-8')
    return raw, json.loads(raw)


def _dump_nb(nb: dict) -> str:
    "nbdev_clean's format."
    return json.dumps(nb, indent=1, ensure_ascii=False) + '\n'


def chunks(path: Path, root: Path) -> Iterator[tuple[str, int, str]]:
    """(prefix, first line number, text) for each piece of text of a file: the whole file, or each notebook
    cell's joined source, with prefix '' or 'cell N '."""
    if path.suffix == '.ipynb':
        _, nb = _read_nb(path)
        for i, cell in enumerate(nb.get('cells', [])):
            src = cell.get('source', '')
            yield f'cell {i} ', 1, ''.join(src) if isinstance(src, list) else src
    else:
        try: yield '', 1, path.read_text(encoding='utf-8')
        except UnicodeDecodeError: return


def _line_of(text: str, pos: int) -> int: return text.count('\n', 0, pos) + 1


# ---------------------------------------------------------------------------- parsing

def parse_ids(text: str, pos: int, design: bool) -> list[str]:
    "The ids cited right after a notes name that ends at `pos`: one id, then more after `,` `–` `/` `and`."
    idre = _DESIGN_ID if design else _PAPER_ID
    m = re.compile(r'\s+').match(text, pos)
    if not m: return []
    m = idre.match(text, m.end())
    ids = []
    while m:
        ids.append(m.group(1) or (m.group(2) if design else None))
        s = _SEP.match(text, m.end())
        if not s: break
        nxt = idre.match(text, s.end())
        if not nxt: break
        if s.group(1) in ('–', '-') and not design:  # a range C.1–C.4: every id in between
            a, b = ids[-1], nxt.group(1)
            if '.' in a and '.' in b and a.split('.')[0] == b.split('.')[0]:
                ids += [f"{a.split('.')[0]}.{k}" for k in range(int(a.split('.')[1]) + 1, int(b.split('.')[1]))]
        m = nxt
    return ids


def citations_in(text: str) -> Iterator[tuple[int, str, str, bool]]:
    "(offset, id, notes name, old) for each cited id in `text`."
    for m in _NAME.finditer(text):
        design, old = m.group(1) == 'DESIGN', m.group(2) is None
        notes = 'DESIGN_NOTES.md' if design else 'PAPER_NOTES.md'
        for i in parse_ids(text, m.end(), design): yield m.start(), i, notes, old


def find_citations(root='.') -> list[Citation]:
    """Every citation of a notes section in the repository's text files (notebook cell sources, library,
    configs, README, references, bench, scripts, tests, saved tables), old-style ones included."""
    root = Path(root); out = []
    for path in text_files(root):
        rel = path.relative_to(root).as_posix()
        for prefix, first, text in chunks(path, root):
            for pos, i, notes, old in citations_in(text):
                out.append(Citation(rel, f'{prefix}line {first - 1 + _line_of(text, pos)}', i, notes, old))
    return out


def find_leftovers(root='.') -> tuple[list[Mention], list[Mention]]:
    "Mentions of the old names: (in sources and text files, in notebook outputs)."
    root = Path(root); src, outs = [], []
    for path in text_files(root):
        rel = path.relative_to(root).as_posix()
        if rel in KEEP_OLD: continue
        for prefix, first, text in chunks(path, root):
            for m in _OLD.finditer(text):
                src.append(Mention(rel, f'{prefix}line {first - 1 + _line_of(text, m.start())}',
                                   text[m.start():m.end() + 20].split('\n')[0]))
        if path.suffix == '.ipynb':
            _, nb = _read_nb(path)
            for i, cell in enumerate(nb.get('cells', [])):
                for j, o in enumerate(cell.get('outputs', [])):
                    n = sum(len(_OLD.findall(s)) for s in _output_strings(o))
                    if n: outs.append(Mention(rel, f'cell {i} output {j}', f'{n} mention(s)'))
    return src, outs


def section_ids(path) -> set[str]:
    "The ids defined by the Markdown headings of a notes file (`## D.3 title`, `## 0 title`, `## §5 title`)."
    path = Path(path)
    if not path.exists(): return set()
    ids, fence = set(), False
    for line in path.read_text(encoding='utf-8').splitlines():
        if line.lstrip().startswith(('```', '~~~')): fence = not fence; continue
        m = None if fence else _HEADING.match(line)
        if m: ids.add(m.group(1))
    return ids


def check(root='.') -> Report:
    root = Path(root)
    cites = find_citations(root)
    known = {name: section_ids(root/rel) for name, rel in NOTES.items()}
    missing = [c for c in cites if c.id not in known[c.notes]]
    left, stale = find_leftovers(root)
    return Report(cites, missing, left, stale)


# ---------------------------------------------------------------------------- rewriting

def _sub(s: str) -> tuple[str, int]:
    return _OLD.subn(lambda m: RENAMES[m.group(0)], s)


_TEXT_MIME = ('text/', 'application/json')


def _output_strings(o: dict) -> Iterator[str]:
    "The text strings of one notebook output (stream text, text/* and JSON data, tracebacks)."
    vals = [o.get('text'), o.get('traceback')]
    vals += [v for k, v in (o.get('data') or {}).items() if k.startswith(_TEXT_MIME)]
    for v in vals:
        if isinstance(v, str): yield v
        elif isinstance(v, list): yield from (s for s in v if isinstance(s, str))


def _sub_output(o: dict) -> int:
    n = 0
    def fix(v):
        nonlocal n
        if isinstance(v, str):
            v, k = _sub(v); n += k; return v
        if isinstance(v, list): return [fix(s) for s in v]
        return v
    for key in ('text', 'traceback'):
        if key in o: o[key] = fix(o[key])
    for k in list(o.get('data') or {}):
        if k.startswith(_TEXT_MIME): o['data'][k] = fix(o['data'][k])
    return n


def rewrite_notebook(path: Path, outputs: bool = False, dry_run: bool = False) -> int:
    "Rename in the cell sources (and outputs); returns the number of replacements, or -1 if not round-trippable."
    raw, nb = _read_nb(path)
    if _dump_nb(nb) != raw: return -1
    n = 0
    for cell in nb.get('cells', []):
        src = cell.get('source')
        if isinstance(src, list):
            new = []
            for s in src:  # a name never spans two source lines: each line ends with its '\n'
                s, k = _sub(s); new.append(s); n += k
            cell['source'] = new
        elif isinstance(src, str):
            cell['source'], k = _sub(src); n += k
        if outputs:
            for o in cell.get('outputs', []): n += _sub_output(o)
    if n and not dry_run:
        with open(path, 'w', encoding='utf-8', newline='\n') as f:
            json.dump(nb, f, indent=1, ensure_ascii=False); f.write('\n')
    return n


def rewrite(root='.', outputs: bool = False, dry_run: bool = False) -> dict[str, int]:
    """Replace `PAPER.md` by `PAPER_NOTES.md` and `DESIGN.md` by `DESIGN_NOTES.md` in every scanned file
    (notebooks: cell sources, and text outputs when `outputs`). Returns {file: replacements}; -1 marks a
    notebook left alone because it is not in nbdev_clean's format."""
    root = Path(root); done = {}
    for path in text_files(root):
        rel = path.relative_to(root).as_posix()
        if rel in KEEP_OLD: continue
        if path.suffix == '.ipynb':
            n = rewrite_notebook(path, outputs, dry_run)
        else:
            try: raw = path.read_bytes().decode('utf-8')
            except UnicodeDecodeError: continue
            new, n = _sub(raw)
            if n and not dry_run: path.write_bytes(new.encode('utf-8'))
        if n: done[rel] = n
    return done


# ---------------------------------------------------------------------------- CLI

def _print_report(r: Report, verbose: bool = False) -> None:
    by_id = Counter((c.notes, c.id) for c in r.citations)
    old = sum(c.old for c in r.citations)
    print(f'{len(r.citations)} citations of {len(by_id)} sections ({old} still written with the old file names)')
    if verbose:
        for (notes, i), n in sorted(by_id.items(), key=lambda t: (t[0][0], _idkey(t[0][1]))):
            print(f'  {notes} {"§" if notes.startswith("DESIGN") else ""}{i}: {n}')
    if r.missing:
        print(f'\n{len(r.missing)} citations of ids without a heading:')
        for c in r.missing: print(f'  {c.file}:{c.where}: {c.notes} {c.id}  (add `## {c.id} ...` to {NOTES[c.notes]})')
    if r.leftovers:
        print(f'\n{len(r.leftovers)} references to PAPER.md / DESIGN.md (files outside the repository); '
              'run `python scripts/citations.py rewrite`:')
        for m in r.leftovers: print(f'  {m.file}:{m.where}: {m.text}')
    if r.stale_outputs:
        print(f'\nnote: {len(r.stale_outputs)} saved notebook outputs still show the old names; they are refreshed '
              'when the notebook runs again (or `rewrite --outputs`):')
        for m in r.stale_outputs: print(f'  {m.file}:{m.where}: {m.text}')
    print('\nOK' if r.ok else '\nFAILED')


def _idkey(i: str):
    return [(0, int(p), '') if p.isdigit() else (1, 0, p) for p in i.split('.')]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('command', choices=('check', 'list', 'rewrite'))
    ap.add_argument('--root', default=str(Path(__file__).resolve().parents[1]), help='repository root (default: this checkout)')
    ap.add_argument('--outputs', action='store_true', help='rewrite: also the text of saved notebook outputs')
    ap.add_argument('--dry-run', action='store_true', help='rewrite: only report what would change')
    a = ap.parse_args(argv)
    root = Path(a.root)
    if a.command == 'rewrite':
        done = rewrite(root, a.outputs, a.dry_run)
        for f, n in done.items():
            print(f'{f}: ' + ('left alone, not in nbdev_clean format (rewrite it by hand)' if n < 0 else f'{n} replaced'))
        print(f'{sum(n for n in done.values() if n > 0)} replacements in {sum(n > 0 for n in done.values())} files'
              + (' (dry run)' if a.dry_run else ''))
        return 1 if any(n < 0 for n in done.values()) else 0
    if a.command == 'list':
        for c in find_citations(root): print(f'{c.file}:{c.where}: {c.notes} {c.id}' + (' (old name)' if c.old else ''))
    r = check(root)
    _print_report(r, verbose=a.command == 'list')
    return 0 if r.ok else 1


if __name__ == '__main__':
    sys.exit(main())
