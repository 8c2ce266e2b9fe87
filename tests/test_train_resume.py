"Never lose work: SIGKILL at random moments (a checkpoint write included) or SIGUSR1 (SLURM's warning), rerun the same command, get bit-identical weights."
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
# 2 epochs x 4 steps of 16 images, a checkpoint after every step, one progress line per step
ARGS = ['--epochs', '2', '--limit_train', '64', '--limit_val', '16', '--batch_size', '16', '--workers', '0',
        '--eval_ten_crop', 'false', '--ckpt_every', '1', '--log_every', '1', '--device', 'cpu', '--schedule', 'step',
        '--milestones', '1', '--lr', '0.001']


ENV = os.environ | dict(OMP_NUM_THREADS=os.environ.get('RESUME_TEST_THREADS', '2'))


def cmd(out, name): return [sys.executable, '-m', 'alexnet.train', '--out_dir', str(out), '--name', name, *ARGS]


def run(out, name):
    r = subprocess.run(cmd(out, name), capture_output=True, text=True, cwd=ROOT, timeout=600, env=ENV)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r.stdout


def interrupt(out, name, when:str, sig) -> int:
    "Start a run, send `sig` when a progress line contains `when`, return its exit status."
    p = subprocess.Popen(cmd(out, name), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=ENV)
    for line in p.stdout:
        if when in line: p.send_signal(sig); break
    p.stdout.read(); return p.wait(timeout=600)


def weights(out, name): return torch.load(Path(out)/name/'last.pt', weights_only=True)['model']


def assert_same(a, b):
    assert a.keys() == b.keys()
    diff = [k for k in a if not torch.equal(a[k], b[k])]
    assert not diff, f'weights differ in {diff}'


@pytest.fixture(scope='module')
def reference(module_tmp):
    "One uninterrupted run (its run folder, and its weights, which every interrupted-and-resumed run must reproduce bit for bit)."
    out = module_tmp; run(out, 'ref')
    return out/'ref', weights(out, 'ref')


def kill_when(out, name, trigger, delay:float=0.0) -> int:
    "Start a run and SIGKILL it `delay` s after `trigger` (a progress-line text, or `trigger(start time)` polled every ms); the last step it printed."
    t0 = time.time()
    p = subprocess.Popen(cmd(out, name), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=ENV)
    steps = []
    if callable(trigger):
        while not trigger(t0) and p.poll() is None and time.time() - t0 < 300: time.sleep(0.001)
    else:
        for line in p.stdout:
            if m := re.search(r'epoch (\d)/2 step (\d)/4', line): steps.append(4 * (int(m[1]) - 1) + int(m[2]))
            if trigger in line: break
    time.sleep(delay); p.kill(); p.wait(timeout=60)
    steps += [4 * (int(e) - 1) + int(s) for e, s in re.findall(r'epoch (\d)/2 step (\d)/4', p.stdout.read())]
    return max(steps, default=0)


def test_sigkill_at_random_moments_then_rerun_is_bit_identical(tmp_path, reference):
    "SIGKILL at random moments (seeded: a random step, then a random delay into it), once while `last.pt` is written, rerunning after each."
    rng = random.Random(2012)
    moments = [(f'epoch {e}/2 step {s}/4', rng.uniform(0, 1.5)) for e, s in ((1, rng.randint(1, 4)), (2, rng.randint(1, 3)))]
    tmp = tmp_path/'killed'/'last.pt.tmp'  # a kill mid-write leaves it behind; the next write truncates it: a fresh mtime
    moments.append((lambda started: tmp.exists() and tmp.stat().st_mtime > started, 0.0))  # mid-write of a checkpoint
    lost = []
    for trigger, delay in moments:
        done = kill_when(tmp_path, 'killed', trigger, delay)
        ck = torch.load(tmp_path/'killed'/'last.pt', weights_only=True) if (tmp_path/'killed'/'last.pt').exists() else {'step': 0}
        lost.append(done - ck['step'])  # steps printed but not yet in last.pt (a checkpoint follows every step)
    assert not (tmp_path/'killed'/'results.json').exists(), 'a kill came after the run had finished: not a fault'
    out = run(tmp_path, 'killed')
    assert 'resumed from' in out
    assert_same(reference[1], weights(tmp_path, 'killed'))
    print(f"\n{len(moments)} SIGKILLs (one mid-checkpoint write), {len(moments)} survived: weights bit-identical; steps redone per kill {lost}")
    assert all(0 <= n <= 1 for n in lost), lost


def test_sigusr1_checkpoints_and_exits_for_requeue(tmp_path, reference):
    from alexnet.train import REQUEUE_EXIT
    rc = interrupt(tmp_path, 'pre', 'epoch 1/2 step 2/4', signal.SIGUSR1)
    assert rc == REQUEUE_EXIT
    ck = torch.load(tmp_path/'pre'/'last.pt', weights_only=True)
    assert ck['epoch'] == 0 and 2 <= ck['batch'] <= 4, (ck['epoch'], ck['batch'])
    run(tmp_path, 'pre')
    assert_same(reference[1], weights(tmp_path, 'pre'))


def test_corrupt_last_checkpoint_falls_back(tmp_path, reference):
    shutil.copytree(reference[0], tmp_path/'c')  # a finished run
    (tmp_path/'c'/'last.pt').write_bytes(b'not a checkpoint')
    out = run(tmp_path, 'c')  # prev.pt is the checkpoint one step before the end: finishes the last step again
    assert 'last.pt is unreadable' in out and 'resumed from' in out and 'prev.pt' in out
    assert torch.load(tmp_path/'c'/'last.pt', weights_only=True)['step'] == 8
