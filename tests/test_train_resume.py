"Never lose work: SIGKILL mid-epoch or SIGUSR1 (SLURM's warning), rerun the same command, get bit-identical weights."
import os
import shutil
import signal
import subprocess
import sys
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
def reference(tmp_path_factory):
    "One uninterrupted run (its run folder, and its weights, which every interrupted-and-resumed run must reproduce bit for bit)."
    out = tmp_path_factory.mktemp('ref'); run(out, 'ref')
    return out/'ref', weights(out, 'ref')


def test_kill9_mid_epoch_then_rerun_is_bit_identical(tmp_path, reference):
    rc = interrupt(tmp_path, 'killed', 'epoch 2/2 step 2/4', signal.SIGKILL)
    assert rc == -signal.SIGKILL and not (tmp_path/'killed'/'results.json').exists()
    out = run(tmp_path, 'killed')
    assert 'resumed from' in out and 'epoch 2/2' in out
    assert_same(reference[1], weights(tmp_path, 'killed'))


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
