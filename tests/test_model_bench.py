"""The model benchmark runs end to end (tiny settings: it checks the script, not the speed)."""
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def test_bench_model_runs_prints_ratios_and_writes_csv(tmp_path):
    csv = tmp_path/'model.csv'
    out = subprocess.run([sys.executable, 'bench/bench_model.py', '--batch', '2', '--steps', '1', '--warmup', '0',
                          '--modes', 'fp32', '--threads', '1', '--csv', str(csv)],
                         cwd=ROOT, check=True, capture_output=True, text=True, timeout=600).stdout
    assert 'ratio paper / torchvision' in out and 'ratio paper-band-lrn / torchvision' in out and 'freed memory reused: True' in out, out
    assert 'matmul peak' in out and '(fp32 4096x4096, same run)' in out, out
    table = pd.read_csv(csv)
    assert list(table.net) == ['paper-torch-lrn', 'paper-band-lrn', 'paper', 'torchvision'] and set(table['mode']) == {'fp32'}
    assert {'img_per_s', 'gflops', 'peak_gflops', 'pct_peak', 'ratio_to_torchvision', 'batch', 'threads', 'git'} <= set(table.columns)
    assert (table.img_per_s > 0).all() and table.set_index('net').loc['torchvision', 'ratio_to_torchvision'] == 1


def test_bench_model_rejects_unknown_modes():
    r = subprocess.run([sys.executable, 'bench/bench_model.py', '--modes', 'fp32+fp8'], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and 'unknown option(s) fp8' in r.stderr, r.stderr
