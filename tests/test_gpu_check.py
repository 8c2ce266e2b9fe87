"""bench/gpu_check.py runs end to end on the CPU (--quick: tiny sizes), so the GPU machine's script cannot rot between GPU runs."""
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_quick_passes_every_check_and_writes_its_files(tmp_path):
    r = subprocess.run([sys.executable, 'bench/gpu_check.py', '--quick', '--out', str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    rows = pd.read_csv(tmp_path/'gpu-cpu-quick.csv')
    checks = rows[rows.kind == 'check']
    assert checks.passed.all() and not (rows.kind == 'error').any(), rows.to_string()
    names = ' '.join(checks.name)
    for part in ('LRN fused float32 contiguous', 'LRN band bfloat16 channels_last', 'two towers on one device vs grouped', 'AMP bf16',
                 'GradScaler state through a checkpoint', 'eval loader, ten crops', 'GPU JPEG path', 'resume after SIGKILL'):
        assert part in names, (part, names)
    steps = rows[rows.kind == 'step']
    assert {json.loads(d)['net'] for d in steps.details} == {'paper-torch-lrn', 'paper-band-lrn', 'paper', 'torchvision'}
    assert (steps.value.astype(float) > 0).all()
    env = json.loads((tmp_path/'gpu-cpu-quick-env.json').read_text())
    assert {'torch', 'device', 'cpu_cores', 'git'} <= set(env)
    assert 'summary (cpu-quick):' in r.stdout and 'checks passed' in r.stdout


def test_gpu_check_refuses_unknown_sections():
    r = subprocess.run([sys.executable, 'bench/gpu_check.py', '--quick', '--sections', 'checks,nosuch'], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and 'unknown nosuch' in r.stderr, r.stderr
