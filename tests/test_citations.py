"""Every `PAPER_NOTES.md <id>` / `DESIGN_NOTES.md §<n>` citation in the repository names a heading of the notes in
references/, and nothing points to the old PAPER.md / DESIGN.md, which were never part of the repository."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location('citations', ROOT/'scripts'/'citations.py')
citations = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(citations)


def test_every_citation_resolves_and_no_old_names_are_left():
    r = citations.check(ROOT)
    assert r.citations, 'no citations found: has the notes naming changed?'
    missing = [f'{c.file}:{c.where}: {c.notes} {c.id}' for c in r.missing]
    assert not missing, 'cited ids without a heading in references/:\n' + '\n'.join(missing)
    left = [f'{m.file}:{m.where}: {m.text}' for m in r.leftovers]
    assert not left, ('references to PAPER.md / DESIGN.md (outside the repository); '
                      'run `python scripts/citations.py rewrite`:\n' + '\n'.join(left))


def _notebook(*sources):
    return dict(nbformat=4, nbformat_minor=5, metadata={}, cells=[
        dict(cell_type='markdown', id=f'c{i}', metadata={}, source=s.splitlines(keepends=True)) for i, s in enumerate(sources)])


def test_find_citations_and_section_ids(tmp_path):
    (tmp_path/'references').mkdir(); (tmp_path/'nbs').mkdir()
    (tmp_path/'references'/'PAPER_NOTES.md').write_text(
        '# Notes\n\n## A Architecture\n\n### A.1 The text\n\n```\n## B.9 not a heading: inside a code block\n```\n', encoding='utf-8')
    assert citations.section_ids(tmp_path/'references'/'PAPER_NOTES.md') == {'A', 'A.1'}
    nb = _notebook('Intro.', 'Five conv layers (PAPER_NOTES.md A.1) and\nthe LR schedule (PAPER_NOTES.md B.2, A).')
    (tmp_path/'nbs'/'00_x.ipynb').write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    found = citations.find_citations(tmp_path)
    assert [(c.file, c.where, c.id) for c in found] == [
        ('nbs/00_x.ipynb', 'cell 1 line 1', 'A.1'), ('nbs/00_x.ipynb', 'cell 1 line 2', 'B.2'), ('nbs/00_x.ipynb', 'cell 1 line 2', 'A')]
    r = citations.check(tmp_path)
    assert [(c.where, c.id) for c in r.missing] == [('cell 1 line 2', 'B.2')] and not r.ok
    assert citations.main(['check', '--root', str(tmp_path)]) == 1


def test_rewrite_renames_sources_only_and_keeps_the_notebook_format(tmp_path):
    (tmp_path/'references').mkdir(); (tmp_path/'nbs').mkdir(); (tmp_path/'configs').mkdir()
    (tmp_path/'references'/'PAPER_NOTES.md').write_text('## 0 Headline\n\n### C.1 Preprocessing\n', encoding='utf-8')
    (tmp_path/'references'/'DESIGN_NOTES.md').write_text('## §5 Speed\n', encoding='utf-8')
    nb = _notebook('Run #145 (PAPER.md 0) and the mean image (PAPER.md\nC.1); speed (DESIGN.md §5).')
    nb['cells'][0]['outputs'] = [dict(output_type='stream', name='stdout', text=['see PAPER.md C.1\n'])]
    path = tmp_path/'nbs'/'00_x.ipynb'
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    (tmp_path/'configs'/'a.yaml').write_text('# the paper (PAPER.md C.1)\nx: 1\n', encoding='utf-8')
    assert citations.check(tmp_path).leftovers
    assert citations.rewrite(tmp_path) == {'configs/a.yaml': 1, 'nbs/00_x.ipynb': 3}
    r = citations.check(tmp_path)
    assert r.ok and sorted(c.id for c in r.citations) == ['0', '5', 'C.1', 'C.1'], r
    assert len(r.stale_outputs) == 1  # outputs are left alone unless asked
    new = json.loads(path.read_text(encoding='utf-8'))
    assert ''.join(new['cells'][0]['source']) == 'Run #145 (PAPER_NOTES.md 0) and the mean image (PAPER_NOTES.md\nC.1); speed (DESIGN_NOTES.md §5).'
    assert path.read_text(encoding='utf-8') == json.dumps(new, indent=1, ensure_ascii=False) + '\n'
    assert citations.rewrite(tmp_path, outputs=True) == {'nbs/00_x.ipynb': 1} and not citations.check(tmp_path).stale_outputs
