"""Preprocessing throughput: our decode+resize+crop path vs the naive PIL path, and 1 vs 2 worker processes.

    python bench/bench_preprocessing.py [--n 250] [--repeats 3] [--photos DIR]

Realistic JPEGs are made from scikit-learn's two sample photos (427x640): random crops resized to a mix of
500x375, 500x333, 800x600 and 1600x1200 with mild sensor noise, saved at quality 90. Each path is timed in one
process with one torch thread (img/s, median of --repeats); then 1 vs 2 workers: `prepare()` end to end; `prepare()`
per image beyond an evenly spaced half of the photos (the whole run's time minus the half's, so the start-up of the
worker processes cancels out: the rate a long job runs at); and the decode path alone in an already started process
pool; with a machine check (how much faster 2 processes run a pure CPU loop than 1 on this possibly shared machine)
measured in the same rounds.
The naive baseline is `Image.open(f).convert('RGB')` + whole-image bicubic resize (shorter side 256) + centre crop.
Also reported: PIL JPEG draft (DCT-domain) scaling down to the target size, which we measured and rejected, and the mean absolute
difference (grey levels) of each fast path from the naive one, on these photos and on the JPEGs in --photos.
"""
import argparse
import io
import os
import resource
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_sample_images

from alexnet.core import reuse_freed_memory
from alexnet.images import _chunk_size, load_resized, reference_resize_crop, resize_geometry
from alexnet.preprocessing import prepare

SIZES = [(500, 375), (500, 333), (800, 600), (1600, 1200)]


def make_photos(d: Path, n: int, seed: int = 0) -> list[Path]:
    "n photos per size in SIZES, as imagefolder train/<size>/*.JPEG under d."
    rng, srcs, files = np.random.default_rng(seed), load_sample_images().images, []
    for w, h in SIZES:
        (d/'train'/f'{w}x{h}').mkdir(parents=True, exist_ok=True)
        for i in range(n):
            a = srcs[i % 2]; H, W = a.shape[:2]
            ch = int(rng.integers(H*2//3, H + 1)); cw = min(W, round(ch*w/h)); y, x = rng.integers(0, H - ch + 1), rng.integers(0, W - cw + 1)
            im = Image.fromarray(a[y:y+ch, x:x+cw]).resize((w, h), Image.BICUBIC)
            px = np.clip(np.asarray(im, np.float32) + rng.normal(0, 2, (h, w, 3)), 0, 255).astype(np.uint8)
            f = d/'train'/f'{w}x{h}'/f'{i:04d}.JPEG'; Image.fromarray(px).save(f, quality=90); files.append(f)
    return files


def naive(f):
    "The naive path: open, convert, resize the whole image, crop."
    return reference_resize_crop(Image.open(f).convert('RGB'))


def pil_draft(f, size=256):
    "PIL with JPEG DCT-domain downscaling to >= the resized size, then the crop box only (tried, not adopted)."
    img = Image.open(f); rsz, (l, t, r, b) = resize_geometry(*img.size, size)
    img.draft('RGB', rsz); img = img.convert('RGB')
    sx, sy = img.size[0]/rsz[0], img.size[1]/rsz[1]
    return np.asarray(img.resize((size, size), Image.BICUBIC, box=(l*sx, t*sy, r*sx, b*sy)))


def ours(f): return load_resized(f)[0]


def rates(fns: dict, files, repeats) -> dict:
    "Median images/s of each function over `repeats` round-robin passes (after one warm-up pass each), so load drift hits all alike."
    rs = {k: [] for k in fns}
    for rep in range(repeats + 1):
        for k, fn in fns.items():
            t = time.perf_counter()
            for f in files: fn(f)
            if rep: rs[k].append(len(files)/(time.perf_counter() - t))
    return {k: statistics.median(v) for k, v in rs.items()}


def mad(fn, files):
    "Mean and max over files of the mean absolute difference from the naive path (grey levels)."
    m = [np.abs(fn(f).astype(np.float64) - naive(f)).mean() for f in files]
    return float(np.mean(m)), float(np.max(m))


def _busy(n: int) -> int:
    s = 0
    for i in range(n): s += i
    return s


def machine_parallelism(n: int = 3_000_000) -> float:
    "Speed-up of 2 processes over 1 on a pure-Python busy loop: ~2 on an idle 2-core machine, ~1 when other jobs hold the cores."
    import multiprocessing as mp
    t = time.perf_counter(); _busy(n); _busy(n); t1 = time.perf_counter() - t
    with mp.get_context('fork').Pool(2) as pool:
        pool.map(abs, [0, 0]); t = time.perf_counter(); pool.map(_busy, [n, n]); t2 = time.perf_counter() - t
    return t1/t2


def _init_pool(): torch.set_num_threads(1)


def pool_rate(files, workers: int) -> float:
    "Images/s of our decode+resize+crop mapped over `files` by an already started pool of `workers` processes (steady state: no start-up, listing or writing)."
    import multiprocessing as mp
    with mp.get_context('fork').Pool(workers, initializer=_init_pool) as pool:
        pool.map(abs, range(workers)); t = time.perf_counter(); pool.map(ours, files, chunksize=_chunk_size(len(files), workers))
        return len(files)/(time.perf_counter() - t)


def cpu_seconds() -> tuple[float, float]:
    "CPU seconds (user + system) used so far by this process and by its finished children."
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime, c.ru_utime + c.ru_stime


def worker_scaling(d: Path, files, repeats: int):
    "1 vs 2 workers, round-robin per repeat with the machine check so load drift hits all alike; medians."
    r = {k: [] for k in ('prep1', 'prep2', 'more1', 'more2', 'pool1', 'pool2', 'machine', 'main1', 'main2', 'kids2')}
    half = len(files) // 2
    for rep in range(repeats):
        for w_ in (1, 2):
            t = time.perf_counter()
            prepare('imagefolder', d, d/f'half{w_}_{rep}', workers=w_, format='jpeg', limit=half, quiet=True)
            t_half = time.perf_counter() - t
            (m0, k0), t = cpu_seconds(), time.perf_counter()
            prepare('imagefolder', d, d/f'store{w_}_{rep}', workers=w_, format='jpeg', quiet=True)
            t_all = time.perf_counter() - t
            r[f'prep{w_}'].append(len(files)/t_all); r[f'more{w_}'].append((len(files) - half)/(t_all - t_half))
            m1, k1 = cpu_seconds(); r[f'main{w_}'].append(m1 - m0)
            if w_ == 2: r['kids2'].append(k1 - k0)
            r[f'pool{w_}'].append(pool_rate(files, w_))
        r['machine'].append(machine_parallelism())
    m = {k: statistics.median(v) for k, v in r.items()}
    print(f"\n1 vs 2 workers (goal: 2 workers >= 1.8x 1 worker; median of {repeats}, round-robin):")
    print("| measurement | 1 worker img/s | 2 workers img/s | ratio |\n|---|---|---|---|")
    print(f"| prepare() end to end, {len(files)} photos: listing, start-up, decode, resize, JPEG q95 encode, write, fsync (1 worker = in-process) | "
          f"{m['prep1']:.0f} | {m['prep2']:.0f} | {m['prep2']/m['prep1']:.2f} |")
    print(f"| prepare(), the {len(files) - half} images beyond the first {half} (time of all minus time of an evenly spaced half: "
          f"start-up cancels out, the rate a long job runs at) | {m['more1']:.0f} | {m['more2']:.0f} | {m['more2']/m['more1']:.2f} |")
    print(f"| decode+resize+crop in a started process pool, results sent back (steady state) | "
          f"{m['pool1']:.0f} | {m['pool2']:.0f} | {m['pool2']/m['pool1']:.2f} |")
    print(f"machine check in the same rounds: a pure-Python busy loop runs {m['machine']:.2f}x faster in 2 processes than in 1 "
          f"(~2 on an idle 2-core machine; {os.cpu_count()} cores here, shared with other jobs: "
          f"a 2-worker ratio above this number cannot be shown on this machine)")
    total2 = m['main2'] + m['kids2']
    print(f"prepare() CPU seconds: 1 worker (in-process) {m['main1']:.2f}; 2 workers {total2:.2f} = main process {m['main2']:.2f} "
          f"(listing, receiving, hashing, writing) + worker processes {m['kids2']:.2f}: with 2 cores the 2-worker ratio can be at most "
          f"2 x {m['main1']:.2f} / {total2:.2f} = {2 * m['main1'] / total2:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=250, help='photos per size (with fewer, process start-up weighs on the 1- vs 2-worker ratio)')
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--photos', help='a folder of real JPEG photos (searched recursively) for the MAD check')
    a = ap.parse_args()
    torch.set_num_threads(1); warnings.simplefilter('ignore')
    reuse_freed_memory()  # as prepare() does, for every path and pool below (forked pools inherit it)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); files = make_photos(d, a.n)
        print(f"{len(files)} JPEGs: {a.n} each of " + ', '.join(f'{w}x{h}' for w, h in SIZES) + f"; median of {a.repeats} passes, one process, one torch thread")
        paths = {'naive PIL (open, convert, resize, crop)': naive, 'PIL JPEG draft to >=1x target + crop box (rejected)': pil_draft,
                 'ours: decode_jpeg (draft to >=2x for big JPEGs) + antialiased bicubic': ours}
        r = rates(paths, files, a.repeats); r0 = r['naive PIL (open, convert, resize, crop)']
        print('| path | img/s | x naive | MAD mean / max (grey levels) |\n|---|---|---|---|')
        for name, fn in paths.items():
            m, mx = mad(fn, files) if fn is not naive else (0., 0.)
            print(f'| {name} | {r[name]:.0f} | {r[name]/r0:.2f} | {m:.3f} / {mx:.3f} |')
        worker_scaling(d, files, a.repeats)
    photos = [load_sample_images().images[i] for i in (0, 1)]
    enc = []
    for p in photos: b = io.BytesIO(); Image.fromarray(p).save(b, 'JPEG', quality=95); enc.append(b.getvalue())
    real = [io.BytesIO(b) for b in enc] + (sorted(Path(a.photos).rglob('*.JPEG'))[:200] if a.photos else [])
    vals = []
    for f in real:
        if isinstance(f, io.BytesIO): f.seek(0); data = f.getvalue(); ref = reference_resize_crop(Image.open(io.BytesIO(data)).convert('RGB'))
        else: data = f.read_bytes(); ref = naive(f)
        vals.append(np.abs(load_resized(data)[0].astype(np.float64) - ref).mean())
    print(f"\nours vs naive on {len(vals)} real photos (sklearn samples{' + ' + str(len(vals) - 2) + ' from --photos' if a.photos else ''}): "
          f"MAD mean {np.mean(vals):.4f}, max {np.max(vals):.4f} grey levels")


if __name__ == '__main__': main()
