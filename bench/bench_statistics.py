"""Benchmark the statistics pass (alexnet.statistics.compute_stats) against
(a) sklearn IncrementalPCA(n_components=3) fed the same pixels in batches (what seed 000 did),
(b) a plain float64 torch X^T X pass, and (c) merely reading/decoding the same images from the store.

    .venv/bin/python bench/bench_statistics.py [--store data/prepared/demo] [--images 512] [--ipca-images 64] [--jpeg]

Prints Mpx/s for each and the ratios the issue asks for (goal: >= 10x IncrementalPCA, pass <= 1.5x read time).
Timings are medians of --repeats runs on a shared machine; compare only numbers from the same run.
"""
import argparse, statistics, tempfile, time
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import IncrementalPCA

from alexnet.core import Config, resolve_path
from alexnet.preprocessing import ensure_prepared, open_store, prepare
from alexnet.statistics import FLUSH_EVERY, compute_stats


def median_time(f, repeats):
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def read_all(split, idx):
    for i in range(0, len(idx), FLUSH_EVERY): split.read_many(idx[i:i + FLUSH_EVERY])


def torch_f64_pass(split, idx):
    mean = torch.zeros(3, 256, 256, dtype=torch.float64); outer = torch.zeros(3, 3, dtype=torch.float64)
    for i in range(0, len(idx), FLUSH_EVERY):
        x = split.read_many(idx[i:i + FLUSH_EVERY])
        mean += x.sum(0, dtype=torch.float64)
        f = x.permute(0, 2, 3, 1).reshape(-1, 3).double()
        outer += f.T @ f


def ipca_pass(split, idx):
    ipca = IncrementalPCA(n_components=3)
    for i in range(0, len(idx), 16):
        x = split.read_many(idx[i:i + 16])
        ipca.partial_fit(x.permute(0, 2, 3, 1).reshape(-1, 3).numpy().astype(np.float64))
    return ipca


def bench_split(label, split, args):
    idx = np.arange(min(args.images, len(split)))
    px = len(idx) * 256 * 256
    compute_stats(split, indices=idx[:FLUSH_EVERY])  # warm the page cache and the code paths
    t_read = median_time(lambda: read_all(split, idx), args.repeats)
    t_ours = median_time(lambda: compute_stats(split, indices=idx), args.repeats)
    t_ours_w = median_time(lambda: compute_stats(split, indices=idx, workers=args.workers), args.repeats)
    t_f64 = median_time(lambda: torch_f64_pass(split, idx), args.repeats)
    ipca_idx = idx[:args.ipca_images]
    t_ipca = median_time(lambda: ipca_pass(split, ipca_idx), 1) * len(idx) / len(ipca_idx)  # extrapolated per pixel
    mpx = lambda t: px / t / 1e6
    print(f"\n[{label}] {len(idx)} images = {px / 1e6:.1f} Mpx (IncrementalPCA timed on {len(ipca_idx)} images, per-pixel rate)")
    print(f"  read/decode only           {mpx(t_read):8.1f} Mpx/s")
    print(f"  compute_stats workers=0    {mpx(t_ours):8.1f} Mpx/s   pass/read = {t_ours / t_read:.2f}x")
    print(f"  compute_stats workers={args.workers}    {mpx(t_ours_w):8.1f} Mpx/s   pass/read = {t_ours_w / t_read:.2f}x")
    print(f"  torch float64 X^T X pass   {mpx(t_f64):8.1f} Mpx/s")
    print(f"  IncrementalPCA(3)          {mpx(t_ipca):8.1f} Mpx/s")
    print(f"  ratio compute_stats / IncrementalPCA = {t_ipca / t_ours:.1f}x (workers=0), {t_ipca / t_ours_w:.1f}x (workers={args.workers})")
    print(f"  ratio compute_stats / float64 pass   = {t_f64 / t_ours:.1f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--store', default=None, help='prepared store (default: the demo store, prepared if missing)')
    ap.add_argument('--images', type=int, default=512, help='images in the timed pass')
    ap.add_argument('--ipca-images', type=int, default=64, help='images fed to IncrementalPCA (it is slow)')
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--jpeg', action='store_true', help='also bench a JPEG-format store of the demo data (decode-bound, like ImageNet)')
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; shared machine: compare ratios, not absolute numbers")
    store = open_store(args.store) if args.store else ensure_prepared(Config())
    bench_split(f"{store.manifest.get('format')} store", store.split('train'), args)
    if args.jpeg:
        with tempfile.TemporaryDirectory() as d:
            cfg = Config()
            out = prepare(cfg.dataset, resolve_path(cfg.data_root), Path(d)/'jpeg', workers=args.workers, format='jpeg', quiet=True)
            bench_split('jpeg store', open_store(out).split('train'), args)


if __name__ == '__main__':
    main()
