"""Every task end to end through the CLI (`--task <t> --fast_dev_run true`) on a tiny fixture written in the
task's real on-disk format, the notebook route once (papermill), and the where-to-put-it message for absent data.
A fast_dev_run must leave nothing behind that a real run would read: runs/<task> and the task's prepared store
are compared before and after."""
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from alexnet.core import load_config, resolve_path, task_names
from alexnet.tasks import write_fixture

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT/'.venv'/'bin'
PY = str(BIN/'python') if (BIN/'python').exists() else sys.executable
TASKS = task_names()


def snapshot(path: Path):
    "Every file under `path` with its size and mtime (None when `path` does not exist)."
    if not path.exists(): return None
    return {str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns) for p in path.rglob('*')}


def watched(task: str) -> dict:
    "The folders a real run of `task` writes and reads: runs/<task> and its prepared store."
    c = load_config(task=task)
    return {str(p): snapshot(p) for p in (c.run_dir, resolve_path(c.prepared))}


def train_cli(*args, timeout=600):
    return subprocess.run([PY, '-m', 'alexnet.train', *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope='module')
def smoke_runs(module_tmp):
    "Every task's fast_dev_run through the CLI, two at a time: (completed process, seconds) per task, and the watched folders before."
    base = module_tmp
    before = {t: watched(t) for t in TASKS}

    def run(task):
        root = write_fixture(task, base/task)
        t0 = time.time(); p = train_cli('--task', task, '--data_root', root, '--fast_dev_run', 'true')
        return p, time.time() - t0

    def run_at_224():  # a given crop wins over the preset's 32 (its sizes and variant follow: `follow_crop`)
        root = write_fixture('cifar10', base/'cifar10-224')
        return train_cli('--task', 'cifar10', '--crop', 224, '--data_root', root, '--fast_dev_run', 'true'), 0.

    with ThreadPoolExecutor(2) as pool:
        at_224 = pool.submit(run_at_224)
        done = dict(zip(TASKS, pool.map(run, TASKS)))
    return {**done, 'cifar10 --crop 224': at_224.result()}, before


@pytest.mark.parametrize('task', TASKS)
def test_fast_dev_run_of_every_task_through_the_cli(smoke_runs, task):
    done, before = smoke_runs
    p, seconds = done[task]
    out = p.stdout + p.stderr
    assert p.returncode == 0, f'{task}: exit {p.returncode}\n{out[-3000:]}'
    assert f'fast_dev_run ok: task {task}, 2 train + ' in out, out[-3000:]
    metric = 'mAP' if load_config(task=task).dataset == 'voc2012' else 'top-1 err'
    assert metric in out.split('fast_dev_run ok:')[1].splitlines()[0]
    assert watched(task) == before[task], f'{task}: fast_dev_run wrote under runs/{task} or its prepared folder'
    print(f'{task}: {seconds:.1f} s')


def test_a_given_crop_wins_over_the_preset(smoke_runs):
    "`--task cifar10 --crop 224` trains the paper net on 224 crops of a 252 store, and the console says why."
    p, _ = smoke_runs[0]['cifar10 --crop 224']
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-3000:]
    assert "image_size=252, prepared='data/prepared/cifar10-252', variant='paper'" in out, out[-3000:]
    assert re.search(r'fast_dev_run ok: task cifar10, 2 train \+ .*, paper net on 224x224 crops, ', out), out[-3000:]


def test_fast_dev_run_through_papermill(tmp_path):
    """The cluster route: papermill runs the job notebook's cells and nothing else (no test cell, no run but the one asked
    for), and a parameter given with -p wins over the task preset even at `Config`'s default value (epochs 90 vs the preset's 30),
    or beyond the preset's image size (crop 224 vs its 36x36 store: the run trains the paper net on 224 crops)."""
    import json
    root = write_fixture('cifar10', tmp_path/'cifar10')
    before = watched('cifar10')
    p = subprocess.run([str(BIN/'papermill'), 'nbs/05_train.ipynb', str(tmp_path/'out.ipynb'), '--cwd', 'nbs', '-p', 'task', 'cifar10',
                        '-p', 'epochs', '90', '-p', 'crop', '224', '-p', 'data_root', str(root), '-p', 'fast_dev_run', 'True'],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    text = (tmp_path/'out.ipynb').read_text()
    assert 'fast_dev_run ok: task cifar10' in text and 'run cifar10 (task cifar10): 90 epochs' in text and 'variant paper, crop 224' in text
    assert watched('cifar10') == before
    ran = [''.join(c['source']) for c in json.loads(text)['cells'] if c['cell_type'] == 'code' and c.get('execution_count')]
    assert not [s for s in ran if re.search(r'\btest_(eq|fail|close)\(|^\s*assert ', s, re.M)], 'a test cell ran in the job'
    assert [s for s in ran if re.search(r'\bfit(_distributed)?\(', s)] == [s for s in ran if 'result = fit' in s] and len(ran) <= 10, ran


@pytest.mark.parametrize('task, where', [('cifar10', 'cifar-10-batches-py/'), ('voc2012', 'VOCdevkit/VOC2012/'),
                                         ('tiny-imagenet', 'val/val_annotations.txt')])
def test_absent_data_says_where_to_put_it(tmp_path, task, where):
    "The CLI's entry point in this process: it exits with the message (no traceback) before any work."
    from alexnet.train import main
    before = watched(task)
    with pytest.raises(SystemExit) as e: main(['--task', task, '--data_root', str(tmp_path/'absent'), '--fast_dev_run', 'true'])
    out = str(e.value.code)
    assert out.startswith('error: ') and 'does not exist' in out and where in out, out[-2000:]
    assert ('--download true' in out) == (task != 'tiny-imagenet'), out[-2000:]  # torchvision cannot download Tiny-ImageNet
    assert watched(task) == before
