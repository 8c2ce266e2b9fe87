"DDP through torchrun (gloo, 2 CPU processes) follows the single-process run with the same global batch."
import json, os, subprocess, sys
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
