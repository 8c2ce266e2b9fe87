"DDP through torchrun (gloo, 2 CPU processes) follows the single-process run with the same global batch."
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# dropout 0 so both runs draw no random masks; one epoch of 4 steps, global batch 16 (8 per process)
ARGS = ['-m', 'alexnet.train', '--epochs', '1', '--limit_train', '64', '--limit_val', '32', '--batch_size', '16',
        '--workers', '0', '--eval_ten_crop', 'false', '--log_every', '1', '--device', 'cpu', '--dropout', '0.0', '--lr', '0.0001']


def losses(out, name):
    recs = [json.loads(l) for l in (Path(out)/name/'metrics.jsonl').read_text().splitlines()]
    return [r['loss'] for r in recs if r['kind'] == 'train'], [r for r in recs if r['kind'] == 'val'][-1]


def test_ddp_two_processes_match_single_process(tmp_path):
    env = os.environ | dict(OMP_NUM_THREADS='1')
    single = subprocess.run([sys.executable, *ARGS, '--out_dir', str(tmp_path), '--name', 'single'],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert single.returncode == 0, single.stderr[-3000:]
    ddp = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
                          *ARGS, '--out_dir', str(tmp_path), '--name', 'ddp'], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert ddp.returncode == 0, ddp.stdout[-2000:] + ddp.stderr[-3000:]
    assert ddp.stdout.count('epoch 1/1 step 4/4') == 1, 'only rank 0 prints'
    (l1, v1), (l2, v2) = losses(tmp_path, 'single'), losses(tmp_path, 'ddp')
    assert len(l1) == len(l2) == 4
    for a, b in zip(l1, l2): assert abs(a - b) <= 0.01 * abs(a), (l1, l2)  # same images; per-rank crops and flips differ
    assert abs(v1['top1'] - v2['top1']) <= 100 / 32 + 1e-6, (v1, v2)  # at most one of 32 val images differs


def test_notebook_gpus_path_fit_distributed(tmp_path):
    "The notebook's `gpus > 1` path: `fit_distributed` launches torchrun (2 CPU processes, gloo), streams rank 0's log, returns fit's dict."
    from alexnet.core import load_config
    from alexnet.train import fit_distributed
    import torch
    config = load_config(None, out_dir=str(tmp_path), name='nb', epochs=1, limit_train=32, limit_val=16, batch_size=16,
                         workers=0, eval_ten_crop=False, log_every=1, device='cpu')
    lines = []
    out = fit_distributed(config, 2, log=lines.append)
    run = tmp_path/'nb'
    assert out['run_dir'] == run and out['results'] == run/'results.json' and 0 <= out['top1'] <= 100
    assert sum('epoch 1/1 step 2/2' in l for l in lines) == 1, lines  # global batch 16 = 2 x 8: 2 steps; only rank 0 prints
    assert any('(2 processes)' in l for l in lines) and any(l.startswith('final val') for l in lines), lines
    r = json.loads((run/'results.json').read_text())
    assert r['center']['n'] == 16 and r['center']['top1'] == out['top1']  # all 16 val images, scored across both ranks
    ck = torch.load(run/'last.pt', weights_only=True)
    assert (ck['epoch'], ck['batch'], ck['step']) == (1, 0, 2) and (run/'best.pt').exists() and (run/'launch.yaml').exists()


def test_ddp_multilabel_fast_dev_run(tmp_path):
    "torchrun, 2 CPU processes, VOC 2012 fixture (multi-label): the val scores of both ranks are gathered for one mAP; nothing kept."
    from alexnet.tasks import write_fixture
    root = write_fixture('voc2012', tmp_path/'data')
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '-m', 'alexnet.train',
                        '--task', 'voc2012', '--data_root', str(root), '--fast_dev_run', 'true', '--device', 'cpu', '--workers', '0',
                        '--out_dir', str(tmp_path/'runs')], capture_output=True, text=True, cwd=ROOT,
                       env=os.environ | dict(OMP_NUM_THREADS='1'), timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    ok = [l for l in r.stdout.splitlines() if l.startswith('fast_dev_run ok')]
    # rank 0 only; the smoke store holds 20 images per split, so 2 ranks x 8 images may get only 1 training batch
    assert len(ok) == 1 and re.search(r'task voc2012, [12] train \+ [12] val batches, loss [\d.]+, mAP [\d.]+%', ok[0]), r.stdout
    assert not (tmp_path/'runs').exists()


def workers_of(pid:int) -> dict[int, int]:
    "RANK -> pid of the training processes under the process `pid` (torchrun's workers, found through /proc)."
    found, todo = {}, [pid]
    while todo:
        p = todo.pop()
        for task in Path(f'/proc/{p}/task').glob('*'):
            try: todo += [int(c) for c in (task/'children').read_text().split()]
            except OSError: pass
        try: env = dict(kv.split('=', 1) for kv in Path(f'/proc/{p}/environ').read_text().split('\0') if '=' in kv)
        except OSError: continue
        if p != pid and 'RANK' in env: found[int(env['RANK'])] = p
    return found


def test_a_killed_rank_restarts_the_group_which_resumes(tmp_path):
    """torchrun --max-restarts 1, 2 gloo processes: SIGKILL rank 1 mid-run; the agent restarts the group, which resumes from
    last.pt and finishes with the weights of an uninterrupted 2-process run (the small net: the fault path is the point)."""
    import torch
    args = ['-m', 'alexnet.train', '--variant', 'small', '--crop', '32', '--epochs', '2', '--limit_train', '64', '--limit_val', '16',
            '--batch_size', '16', '--workers', '0', '--eval_ten_crop', 'false', '--log_every', '1', '--ckpt_every', '1', '--device', 'cpu']
    env = os.environ | dict(OMP_NUM_THREADS='1')
    def torchrun(name):
        return subprocess.Popen([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--max-restarts', '1',
                                 *args, '--out_dir', str(tmp_path), '--name', name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=ROOT, env=env)
    ref = torchrun('ref'); log, _ = ref.communicate(timeout=600)
    assert ref.returncode == 0, log[-3000:]
    p = torchrun('killed'); seen = []
    for line in p.stdout:
        seen.append(line)
        if 'epoch 1/2 step 3/4' in line: break
    ranks = workers_of(p.pid)
    assert set(ranks) == {0, 1}, (ranks, ''.join(seen)[-2000:])
    os.kill(ranks[1], signal.SIGKILL)
    log = ''.join(seen) + p.stdout.read(); p.wait(timeout=600)
    assert p.returncode == 0 and 'resumed from' in log and 'epoch 2/2 step 4/4' in log, log[-4000:]
    a, b = (torch.load(tmp_path/n/'last.pt', weights_only=True)['model'] for n in ('ref', 'killed'))
    assert [k for k in a if not torch.equal(a[k], b[k])] == [], 'weights differ after the restart'
    print('\n1 rank SIGKILLed under torchrun --max-restarts 1: the group restarted, resumed from last.pt, final weights bit-identical')
