"""bench/bench_gpu_loader.py runs end to end on the CPU (--quick: tiny sizes): the GPU machine's loader benchmark cannot rot."""
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_loader_bench_quick_measures_loaders_step_and_fit(tmp_path):
    r = subprocess.run([sys.executable, 'bench/bench_gpu_loader.py', '--quick', '--out', str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    rows = pd.read_csv(tmp_path/'gpu-loader-cpu-quick.csv')
    assert set(rows.kind) >= {'store', 'step', 'loader', 'fit', 'skip'}, rows.to_string()
    loaders = rows[rows.kind == 'loader']
    assert {json.loads(d)['path'] for d in loaders.details} == {'cpu', 'raw'} and (loaders.value.astype(float) > 0).all()
    fit = rows[rows.kind == 'fit'].iloc[0]
    assert 0 <= float(fit.value) <= 100 and json.loads(fit.details)['img_s'] > 0
    assert 'summary (cpu-quick' in r.stdout
