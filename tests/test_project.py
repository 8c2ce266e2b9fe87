"""Project-level promises: the README's two commands, what CI calls, and the nbdev settings that
papermill relies on."""
import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT/'.venv'/'bin'


def test_readme_states_the_two_commands_first():
    readme = (ROOT/'README.md').read_text()
    blocks = re.findall(r'```(?:bash)?\n(.*?)```', readme, re.S)
    assert blocks, 'README.md has no command block'
    first = [l.split('#')[0].strip() for l in blocks[0].splitlines() if l.strip()]
    assert first == ['make train', 'make test'], f'the first command block of README.md is {first}'
    assert 'papermill nbs/05_train.ipynb' in readme and '--cwd nbs' in readme, 'README.md lacks the cluster command'


def test_ci_runs_the_readme_test_command():
    assert re.search(r'^make test$', (ROOT/'.ci'/'run').read_text(), re.M), '.ci/run must call `make test`'


def test_nbdev_clean_keeps_the_papermill_parameters_tag(tmp_path):
    "Without `allowed_cell_metadata_keys = tags`, nbdev_clean strips the tag and papermill's -p is silently ignored."
    nb = dict(nbformat=4, nbformat_minor=5, metadata={}, cells=[
        dict(cell_type='code', id='a1', metadata={'tags': ['parameters'], 'scrolled': True}, source='epochs = 2', outputs=[], execution_count=3)])
    p = tmp_path/'x.ipynb'; p.write_text(json.dumps(nb))
    subprocess.run([str(BIN/'nbdev_clean'), '--fname', str(p)], cwd=ROOT, check=True, capture_output=True)
    cell = json.loads(p.read_text())['cells'][0]
    assert cell['metadata'] == {'tags': ['parameters']}, cell['metadata']


def test_every_notebook_exports_its_module():
    expected = {'00_core': 'core', '00a_images': 'images', '00b_demo': 'demo', '00c_sources': 'sources',
                '01_preprocessing': 'preprocessing', '02_statistics': 'statistics', '03_augmentation': 'augmentation',
                '04_model': 'model', '04a_metrics': 'metrics', '05a_training': 'train', '06a_evaluation': 'evaluate',
                '06b_tables': 'tables', '06c_figures': 'figures', '07_tasks': 'tasks'}
    for nb, mod in expected.items():
        src = (ROOT/'nbs'/f'{nb}.ipynb').read_text()
        assert f'#| default_exp {mod}' in src, f'nbs/{nb}.ipynb does not export alexnet/{mod}.py'
        assert (ROOT/'alexnet'/f'{mod}.py').exists(), f'alexnet/{mod}.py is missing: run nbdev_export'
    for mod in expected.values():  # nbdev takes the module docstring from the chapter's `>` summary: one whole sentence, not its first line
        doc = (ROOT/'alexnet'/f'{mod}.py').read_text().split('\n', 1)[0]
        assert doc.startswith('"""') and doc.endswith(('."""', '.)"""')), f'alexnet/{mod}.py: the docstring is cut: {doc[-60:]}'


def test_papermill_reads_every_parameters_cell():
    "papermill parses each `parameters` cell line by line; a line it cannot parse (an `=` in a comment) loses that parameter's name and help."
    import papermill as pm
    for nb in sorted((ROOT/'nbs').glob('*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        params = [''.join(c['source']) for c in cells if 'parameters' in c['metadata'].get('tags', [])]
        names = {m.group(1) for p in params for m in re.finditer(r'^(\w+)\s*(?::[^=]*)?=', p, re.M)}
        assert set(pm.inspect_notebook(str(nb))) == names, f'{nb.name}: papermill reads {sorted(pm.inspect_notebook(str(nb)))}, the cell sets {sorted(names)}'


def test_pre_commit_hooks_use_installed_tools():
    "Every pre-commit hook runs a tool that `make install` put in .venv (nothing is downloaded), and ruff's hook leaves out generated code."
    import yaml
    hooks = [h for r in yaml.safe_load((ROOT/'.pre-commit-config.yaml').read_text())['repos'] for h in r['hooks']]
    assert {h['id'] for h in hooks} == {'nbdev-clean', 'nbdev-export', 'ruff'}
    for h in hooks: assert (ROOT/h['entry'].split()[0]).exists(), f"{h['id']}: {h['entry']} is not installed (make install)"
    assert next(h for h in hooks if h['id'] == 'ruff')['exclude'] == '^alexnet/'
