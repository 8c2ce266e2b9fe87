"End-to-end tests of nbs/05_train.ipynb and `python -m alexnet.train` (papermill, CLI), on the demo data."
import json, re, subprocess, sys
from pathlib import Path

import papermill as pm
import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT/'nbs'/'05_train.ipynb'
# a few seconds of training: 64 images, batch 16, one epoch, no ten-crop
SMOKE = dict(epochs=1, limit_train=64, limit_val=32, batch_size=16, log_every=2, workers=0, eval_ten_crop=False)


def run_nb(tmp_path, **params):
    "Execute the notebook with papermill (cwd nbs/, output outside nbs/); return the output path."
    out = tmp_path/'05_train.ipynb'
    pm.execute_notebook(str(NB), str(out), parameters=dict(out_dir=str(tmp_path/'runs'), **params),
                        cwd=str(ROOT/'nbs'), kernel_name='python3', progress_bar=False)
    return out


def nb_error(tmp_path, **params) -> str:
    "Run the notebook expecting a failure; return the error text."
    with pytest.raises(pm.PapermillExecutionError) as e: run_nb(tmp_path, **params)
    return f"{e.value.ename}: {e.value.evalue}"


def test_notebook_smoke_run(tmp_path):
    out = run_nb(tmp_path, name='smoke', **SMOKE)
    run = tmp_path/'runs'/'smoke'
    recs = [json.loads(l) for l in (run/'metrics.jsonl').read_text().splitlines()]
    assert {r['epoch'] for r in recs} == {0}, 'epochs=1 must give exactly one epoch'
    assert [r for r in recs if r['kind'] == 'val'], 'a val record per epoch'
    assert yaml.safe_load((run/'config.yaml').read_text())['limit_train'] == 64
    ck = torch.load(run/'last.pt', weights_only=True)
    assert (ck['epoch'], ck['batch'], ck['step']) == (1, 0, 4)  # 64 images / batch 16
    assert not any(k.startswith(('module.', '_orig_mod.')) for k in ck['model'])
    assert (run/'best.pt').exists() and json.loads((run/'results.json').read_text())['center']['top1'] >= 0
    cells = json.loads(out.read_text())['cells']  # what the cells printed (papermill's metadata records the input path itself)
    text = json.dumps([c.get('outputs', []) for c in cells])
    assert 'final val top-1 error' in text and 'epoch 1/1 step 4/4' in text
    assert not re.search(r'/(tmp|work|root)/', text.replace(str(tmp_path), '')), 'machine paths in the notebook beyond those we passed in'


def test_bad_parameter_value(tmp_path):
    msg = nb_error(tmp_path, dataset='nosuch', **SMOKE)
    assert 'ConfigError' in msg and "dataset='nosuch'" in msg and 'imagenet2012' in msg, msg


def test_missing_data_directory(tmp_path):
    msg = nb_error(tmp_path, dataset='imagefolder', data_root='data/nosuch', prepared=str(tmp_path/'nosuch'), **SMOKE)
    assert 'ConfigError' in msg and 'data_root' in msg and 'does not exist' in msg, msg


def test_help_notebook_lists_every_parameter():
    from alexnet.core import Config
    import dataclasses
    r = subprocess.run([sys.executable, '-m', 'papermill', '--help-notebook', str(NB)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    entries = dict(re.findall(r'^  (\w+): (.*?)(?=^  \w+: |\Z)', r.stdout, flags=re.M | re.S))  # help wraps long comments
    for f in dataclasses.fields(Config):
        t = f.type if isinstance(f.type, str) else f.type.__name__
        text = ' '.join(entries.get(f.name, '').split())
        assert text.startswith(f'{t} (default '), (f.name, text)
        assert text.split(')', 1)[1].strip(), f'{f.name} has no comment'


def test_cli_rejects_unknown_flag_and_value():
    r = subprocess.run([sys.executable, '-m', 'alexnet.train', '--nosuch', '1'], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and '--nosuch' in r.stderr
    r = subprocess.run([sys.executable, '-m', 'alexnet.train', '--schedule', 'cosine'], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "--schedule: invalid choice: 'cosine'" in r.stderr and 'plateau' in r.stderr
