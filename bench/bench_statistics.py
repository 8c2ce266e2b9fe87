"""Benchmark the statistics pass (alexnet.statistics.compute_stats) on a raw-pixel store and on a JPEG store of
the same demo images, against (a) sklearn IncrementalPCA(n_components=3) fed the same pixels in batches (what
seed 000 did) and (b) merely reading/decoding the same images from the store.

    .venv/bin/python bench/bench_statistics.py [--store data/prepared/demo] [--images 512] [--ipca-images 64] [--no-jpeg]

What each timing includes (all in this one process, one torch and one BLAS thread, median of --repeats round-robin passes):
  read/decode only      StoreSplit.read_many over the same 256-image windows the pass uses (raw: one copy of each
                        window out of the page-cached memory map; jpeg: torchvision decode_jpeg), results thrown away.
  compute_stats         the whole pass: read/decode + exact integer sums + eigendecomposition (workers=0); the
                        workers=N line is the same pass with N DataLoader worker processes, for information. On a
                        raw store the pass reads the memory maps in place (StoreSplit.read_views), with no copy.
  sums on memory        alexnet.statistics.moment_sums alone, on the images already read into memory.
  torch float64 XᵀX     read/decode + a plain float64 mean-image and XᵀX pass (reference).
  IncrementalPCA        read/decode + uint8 -> float64 (N,3) pixels + partial_fit, --ipca-batch images per call;
                        timed on --ipca-images images and scaled per pixel (it is slow). "on memory": partial_fit
                        alone on pixels already read and converted.
Goals (issue 4): compute_stats >= 10x IncrementalPCA, and compute_stats <= 1.5x the read/decode time.
The machine may be shared: compare only the ratios printed by one run.
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import IncrementalPCA
from threadpoolctl import threadpool_limits

from alexnet.core import Config, resolve_path, reuse_freed_memory
from alexnet.preprocessing import ensure_prepared, open_store, prepare
from alexnet.statistics import FLUSH_EVERY, compute_stats, moment_sums


def median_times(fns:dict, repeats:int) -> dict:
    "Median seconds of each callable over `repeats` round-robin rounds, so load drift on a shared machine hits all alike."
    ts = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t = time.perf_counter(); f(); ts[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in ts.items()}


def windows(idx, size=FLUSH_EVERY): return [idx[i:i + size] for i in range(0, len(idx), size)]


def read_all(split, idx):
    for w in windows(idx): split.read_many(w)


def torch_f64_pass(split, idx):
    mean = torch.zeros(3, 256, 256, dtype=torch.float64); outer = torch.zeros(3, 3, dtype=torch.float64)
    for w in windows(idx):
        x = split.read_many(w)
        mean += x.sum(0, dtype=torch.float64)
        f = x.permute(0, 2, 3, 1).reshape(-1, 3).double()
        outer += f.T @ f


def as_pixels(x): return x.permute(0, 2, 3, 1).reshape(-1, 3).numpy().astype(np.float64)


def ipca_pass(split, idx, batch):
    ipca = IncrementalPCA(n_components=3)
    for w in windows(idx, batch): ipca.partial_fit(as_pixels(split.read_many(w)))
    return ipca


def ipca_on_memory(batches):
    ipca = IncrementalPCA(n_components=3)
    for p in batches: ipca.partial_fit(p)


def bench_split(label, split, args):
    idx = np.arange(min(args.images, len(split)))
    ipca_idx = idx[:args.ipca_images]
    px, ipca_px = len(idx) * 256 * 256, len(ipca_idx) * 256 * 256
    images = [split.read_many(w) for w in windows(idx)]
    pixels = [as_pixels(split.read_many(w)) for w in windows(ipca_idx, args.ipca_batch)]
    compute_stats(split, indices=idx[:FLUSH_EVERY]); read_all(split, idx)  # warm the page cache, the code paths and the allocator
    fns = {'read': lambda: read_all(split, idx), 'ours': lambda: compute_stats(split, indices=idx),
           'ours_w': lambda: compute_stats(split, indices=idx, workers=args.workers),
           'sums': lambda: [moment_sums(x) for x in images], 'f64': lambda: torch_f64_pass(split, idx)}
    t = median_times(fns, args.repeats)
    t_read, t_ours, t_ours_w, t_sums, t_f64 = (t[k] for k in ('read', 'ours', 'ours_w', 'sums', 'f64'))
    t = median_times({'ipca': lambda: ipca_pass(split, ipca_idx, args.ipca_batch), 'ipca_mem': lambda: ipca_on_memory(pixels)}, args.ipca_repeats)
    t_ipca, t_ipca_mem = t['ipca'] * px / ipca_px, t['ipca_mem'] * px / ipca_px
    mpx = lambda t: px / t / 1e6
    print(f"\n[{label}] {len(idx)} images = {px / 1e6:.1f} Mpx; IncrementalPCA timed on {len(ipca_idx)} images "
          f"({args.ipca_batch} per partial_fit) and scaled per pixel")
    print(f"  read/decode only                   {mpx(t_read):8.1f} Mpx/s")
    print(f"  compute_stats workers=0 (the pass) {mpx(t_ours):8.1f} Mpx/s")
    print(f"  compute_stats workers={args.workers}            {mpx(t_ours_w):8.1f} Mpx/s   (information: {args.workers} processes)")
    print(f"  moment_sums on memory (no read)    {mpx(t_sums):8.1f} Mpx/s")
    print(f"  torch float64 XᵀX pass             {mpx(t_f64):8.1f} Mpx/s")
    print(f"  IncrementalPCA(3) pass             {mpx(t_ipca):8.1f} Mpx/s")
    print(f"  IncrementalPCA(3) on memory        {mpx(t_ipca_mem):8.1f} Mpx/s")
    print(f"  RATIO pass time / read time        = {t_ours / t_read:.2f}x   (goal <= 1.5x)")
    print(f"  RATIO compute_stats / IncrementalPCA, both passes incl. read = {t_ipca / t_ours:.1f}x (workers=0), "
          f"{t_ipca / t_ours_w:.1f}x (workers={args.workers})   (goal >= 10x)")
    print(f"  ratio on memory, moment_sums / IncrementalPCA partial_fit   = {t_ipca_mem / t_sums:.1f}x")
    print(f"  ratio compute_stats / torch float64 pass                    = {t_f64 / t_ours:.1f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--store', default=None, help='prepared store (default: the demo store, prepared if missing)')
    ap.add_argument('--images', type=int, default=512, help='images in the timed pass')
    ap.add_argument('--ipca-images', type=int, default=64, help='images fed to IncrementalPCA (it is slow)')
    ap.add_argument('--ipca-batch', type=int, default=16, help='images per IncrementalPCA.partial_fit call')
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--ipca-repeats', type=int, default=3)
    ap.add_argument('--no-jpeg', action='store_true', help='skip the JPEG-format store of the demo data (decode-bound, like ImageNet)')
    args = ap.parse_args()
    torch.set_num_threads(1); threadpool_limits(1)  # one thread for torch and for numpy/scipy BLAS (IncrementalPCA) alike
    reuse_freed_memory()  # as training does: every timing below reuses freed memory
    print(f"torch {torch.__version__}, 1 torch and 1 BLAS thread per process; shared machine: compare ratios from one run, not absolute numbers")
    store = open_store(args.store) if args.store else ensure_prepared(Config())
    bench_split(f"{store.manifest.get('format')} store", store.split('train'), args)
    if not args.no_jpeg:
        with tempfile.TemporaryDirectory() as d:
            cfg = Config()
            out = prepare(cfg.dataset, resolve_path(cfg.data_root), Path(d)/'jpeg', workers=1, format='jpeg', quiet=True)
            bench_split('jpeg store', open_store(out).split('train'), args)


if __name__ == '__main__':
    main()
