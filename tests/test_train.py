"End-to-end tests of nbs/05_train.ipynb and `python -m alexnet.train` (papermill, CLI), on the demo data."
import json
import os
import re
import subprocess
import sys
import time
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
    "The error the notebook and the CLI show for an absent dataset (the notebook route of errors is tested above)."
    from alexnet.core import ConfigError, load_config
    from alexnet.preprocessing import ensure_prepared
    with pytest.raises(ConfigError) as e:
        ensure_prepared(load_config(dataset='imagefolder', data_root='data/nosuch', prepared=str(tmp_path/'nosuch')))
    assert 'data_root' in str(e.value) and 'does not exist' in str(e.value), str(e.value)


def test_help_notebook_lists_every_parameter():
    "`papermill --help-notebook` lists exactly `Config`'s fields (and `gpus`), each with `Config`'s own comment and default."
    from alexnet.core import Config
    from fastcore.docments import docments
    import dataclasses
    r = subprocess.run([sys.executable, '-m', 'papermill', '--help-notebook', str(NB)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    entries = dict(re.findall(r'^  (\w+): (.*?)(?=^  \w+: |\Z)', r.stdout, flags=re.M | re.S))  # help wraps long comments
    doc = docments(Config, full=True)
    assert list(entries) == [f.name for f in dataclasses.fields(Config)] + ['gpus'], list(entries)
    for f in dataclasses.fields(Config):
        t = f.type if isinstance(f.type, str) else f.type.__name__
        text = ' '.join(entries[f.name].split())
        assert text == ' '.join(f"{t} (default None) {doc[f.name]['docment']} [default: {f.default!r}]".split()), (f.name, text)


def test_parameters_cell_is_generated_from_config():
    "The notebook's parameters cell is `job_parameters_cell()`; `scripts/sync_parameters.py` rewrites it when `Config` changes."
    r = subprocess.run([sys.executable, 'scripts/sync_parameters.py', '--check'], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_cli_rejects_unknown_flag_and_value(capsys):
    from alexnet.train import main  # the CLI's entry point, in this process (argparse exits before any work)
    for argv, expect in ((['--nosuch', '1'], ['--nosuch']), (['--schedule', 'cosine'], ["--schedule: invalid choice: 'cosine'", 'plateau'])):
        with pytest.raises(SystemExit) as e: main(argv)
        err = capsys.readouterr().err
        assert e.value.code == 2 and all(x in err for x in expect), err


# --- in-process runs: fast_dev_run, multi-label + TensorBoard, the NaN guard and the chance warning ---
TINY = dict(epochs=1, limit_train=16, limit_val=8, batch_size=8, log_every=1, workers=0, eval_ten_crop=False, device='cpu')


def test_fast_dev_run_cli_keeps_nothing(tmp_path):
    "CLI smoke run: one summary line; no runs/<name>, no results/ file, nothing left in the temporary folder."
    (tmp_path/'tmp').mkdir(); start = time.time()
    r = subprocess.run([sys.executable, '-m', 'alexnet.train', '--fast_dev_run', 'true', '--device', 'cpu', '--workers', '0',
                        '--out_dir', str(tmp_path/'runs'), '--name', 'dev'], capture_output=True, text=True, cwd=ROOT,
                       env=os.environ | dict(TMPDIR=str(tmp_path/'tmp')), timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    lines = r.stdout.strip().splitlines()
    line = r'fast_dev_run ok: task demo, 2 train \+ 2 val batches, loss [\d.]+, top-1 err [\d.]+%, paper net on 224x224 crops, [\d.]+ s'
    assert len(lines) == 1 and re.fullmatch(line, lines[0]), r.stdout
    assert not (tmp_path/'runs').exists()
    assert not [p.name for p in (tmp_path/'tmp').iterdir() if not p.name.startswith('torchinductor_')]  # torch's own cache may stay
    assert not [p for p in (ROOT/'results').rglob('*') if p.stat().st_mtime >= start], 'fast_dev_run wrote under results/'


def test_multilabel_run_bce_map_and_tensorboard(tmp_path, monkeypatch):
    import alexnet.train as T
    from alexnet.core import Config
    from alexnet.preprocessing import synthetic_store
    from alexnet.statistics import moment_sums, stats_from_sums
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    store = synthetic_store(16, 8, classes=4, multilabel=True); stats = stats_from_sums(moment_sums(store.split('train').images), 'toy')
    losses, real = [], T.make_loss  # a spy: which loss the run asks for
    monkeypatch.setattr(T, 'make_loss', lambda multilabel: losses.append(multilabel) or real(multilabel))
    lines = []
    out = T.fit(Config(out_dir=str(tmp_path), name='ml', tensorboard=True, optimizer='adam', lr=1e-4, **TINY), log=lines.append,
                store=store, stats=stats)  # the store and its statistics injected: nothing prepared on disk
    recs = [json.loads(l) for l in out['metrics'].read_text().splitlines()]
    val = [r for r in recs if r['kind'] == 'val']
    assert len(val) == 1 and 0 < val[0]['mAP'] <= 100 and 'top1' not in val[0], val
    assert losses == [True]  # BCEWithLogitsLoss
    res = json.loads(out['results'].read_text())
    assert res['multilabel'] and res['center'] == dict(mAP=val[0]['mAP'], n=8) and out['mAP'] == val[0]['mAP']
    assert torch.load(out['best'], weights_only=True)['best_top1'] == pytest.approx(100 - val[0]['mAP'])  # the error is 100 - mAP
    assert any('val mAP' in l for l in lines) and any('final val (centre crop): mAP' in l for l in lines), lines
    ea = EventAccumulator(str(tmp_path/'ml'/'tb'), size_guidance={'histograms': 0}).Reload()
    assert {'train/loss', 'train/top1', 'train/lr', 'val/mAP'} <= set(ea.Tags()['scalars']), ea.Tags()
    assert [e.step for e in ea.Scalars('train/loss')] == [1, 2]
    names = {n for n, _ in T.build_model(Config(), 4).named_parameters()}
    assert {f'{kind}/{n}' for n in names for kind in ('weights', 'grads')} <= set(ea.Tags()['histograms']), ea.Tags()['histograms']


def test_early_stop_ends_the_run_and_stays_ended(tmp_path):
    "early_stop=1 with a learning rate too small to change the val error: epoch 2 does not improve, the run stops before epoch 3 of 5; run again, it stays stopped."
    import alexnet.train as T
    from alexnet.core import Config
    from alexnet.preprocessing import synthetic_store
    from alexnet.statistics import moment_sums, stats_from_sums
    store = synthetic_store(16, 8, classes=4, multilabel=True); stats = stats_from_sums(moment_sums(store.split('train').images), 'toy')
    cfg = Config(out_dir=str(tmp_path), name='es', optimizer='sgd', lr=1e-12, early_stop=1, **TINY | dict(epochs=5, log_every=10))
    lines = []; out = T.fit(cfg, log=lines.append, store=store, stats=stats)
    val = [r for r in map(json.loads, out['metrics'].read_text().splitlines()) if r['kind'] == 'val']
    assert [r['epoch'] for r in val] == [0, 1] and val[0]['mAP'] == val[1]['mAP'], val
    assert any(l.startswith('early stop (early_stop=1)') and 'stopping after epoch 2 of 5' in l for l in lines), lines
    ck = torch.load(out['last'], weights_only=True)
    assert (ck['epoch'], ck['since_best']) == (2, 1)
    again = []; T.fit(cfg, log=again.append, store=store, stats=stats)  # resumes, and stops at once
    assert len([r for r in map(json.loads, out['metrics'].read_text().splitlines()) if r['kind'] == 'val']) == 2
    assert any(l.startswith('early stop') for l in again) and any(l.startswith('final val') for l in again), again


def test_nan_guard_keeps_last_good_checkpoint_and_chance_warning(tmp_path, monkeypatch):
    "Loss at ln(C) after the first epoch warns (PAPER_NOTES.md E.1); a NaN loss at step 3 stops the run, last.pt stays at step 2."
    import alexnet.train as T
    from alexnet.core import Config
    real = T.make_loss
    def nan_at_third_call(multilabel):
        f, calls = real(multilabel), []
        def loss(logits, y):
            calls.append(1); v = f(logits, y)
            return v * float('nan') if len(calls) == 3 else v
        return loss
    monkeypatch.setattr(T, 'make_loss', nan_at_third_call)
    lines = []
    cfg = Config(out_dir=str(tmp_path), name='nan', optimizer='sgd', lr=1e-9, **TINY | dict(epochs=2))
    with pytest.raises(FloatingPointError, match='loss is nan at step 3'): T.fit(cfg, log=lines.append)
    assert any('PAPER_NOTES.md E.1' in l and 'ln(10)' in l for l in lines), lines
    ck = torch.load(tmp_path/'nan'/'last.pt', weights_only=True)
    assert ck['step'] == 2 and all(torch.isfinite(v).all() for v in ck['model'].values())


@pytest.mark.parametrize('task, metric', [('cifar10', 'top-1 err'), ('voc2012', 'mAP')])
def test_cli_task_fast_dev_run_on_fixture(tmp_path, task, metric):
    "`python -m alexnet.train --task T --fast_dev_run true` on a fixture in the dataset's real format (VOC: multi-label, mAP)."
    from alexnet.tasks import write_fixture
    root = write_fixture(task, tmp_path/'data')
    r = subprocess.run([sys.executable, '-m', 'alexnet.train', '--task', task, '--data_root', str(root), '--fast_dev_run', 'true',
                        '--device', 'cpu', '--workers', '0', '--out_dir', str(tmp_path/'runs')], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert re.search(rf'^fast_dev_run ok: task {task}, 2 train \+ 2 val batches, loss [\d.]+, {metric} [\d.]+%', r.stdout, re.M), r.stdout
    assert not (tmp_path/'runs').exists()


def test_full_disk_at_a_checkpoint_stops_the_run_keeping_the_last_one(tmp_path, monkeypatch):
    "The third checkpoint write fails midway with ENOSPC: the run stops with a message that says so; last.pt (the second) still loads."
    import errno
    import alexnet.train as T
    from alexnet.core import CheckpointError, Config
    from alexnet.preprocessing import synthetic_store
    from alexnet.statistics import moment_sums, stats_from_sums
    store = synthetic_store(16, 8, classes=4); stats = stats_from_sums(moment_sums(store.split('train').images), 'toy')
    real, calls = torch.save, []
    def save(obj, f):
        calls.append(obj['step'])
        if len(calls) < 3: return real(obj, f)
        f.write(b'PK\x03\x04 half a checkpoint'); raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(torch, 'save', save)
    cfg = Config(out_dir=str(tmp_path), name='full', optimizer='sgd', lr=1e-3, ckpt_every=1, **TINY | dict(epochs=2))
    with pytest.raises(CheckpointError, match=r'could not write checkpoint last\.pt in full/ \(No space left on device\); the one already there is intact'):
        T.fit(cfg, log=lambda *a: None, store=store, stats=stats)
    monkeypatch.setattr(torch, 'save', real)
    assert torch.load(tmp_path/'full'/'last.pt', weights_only=True)['step'] == calls[1] < calls[2]
    assert not (tmp_path/'full'/'last.pt.tmp').exists()
