"""The model benchmark runs end to end (tiny settings: it checks the script, not the speed)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_model_runs_and_prints_ratios():
    out = subprocess.run([sys.executable, 'bench/bench_model.py', '--batch', '2', '--steps', '1', '--warmup', '0',
                          '--modes', 'fp32', '--threads', '1'], cwd=ROOT, check=True, capture_output=True, text=True, timeout=600).stdout
    assert 'ratio paper / torchvision' in out and 'ratio paper-torch-lrn / torchvision' in out, out
    assert 'matmul peak float32' in out, out


def test_bench_model_rejects_unknown_modes():
    r = subprocess.run([sys.executable, 'bench/bench_model.py', '--modes', 'fp32+fp8'], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and 'unknown option(s) fp8' in r.stderr, r.stderr
