"""Can the input pipeline keep a GPU busy training the paper net from a JPEG store? The training loader's img/s with CPU
decoding (1 to 15 loader workers) and with GPU decoding (nvJPEG), against the training step's img/s, then a real `fit`.

    python bench/bench_gpu_loader.py --out OUT            # on a GPU machine (about 3 minutes on one H200, 16 cores)
    python bench/bench_gpu_loader.py --quick --out OUT    # on the CPU, tiny sizes: checks the script (make test runs it)

1. store   --images demo images (the demo generator, in parallel, 10 classes) prepared as a JPEG store (256x256, q95: what
           ImageNet-size datasets get) in a temporary folder, and a raw store of --raw-images of them; statistics computed.
2. loader  the training loader (batch --batch, random crop + flip + PCA colour noise + mean image), batches delivered on the
           device: CPU decoding in each of --workers loader workers, GPU decoding (nvJPEG, bytes read by 0 and 4 workers),
           and the raw store (pinned memory, non-blocking copies). img/s over --seconds of batches after a warm-up batch,
           the ratio to the CPU path with the most workers, and to the step's img/s.
3. step    the paper net's training step (forward, backward, the paper's update), bf16 + channels_last, batch --batch, on one
           batch of random data already on the device: the rate the loader must keep up with.
4. loop    where a training loop's time goes, each for --seconds: the bare step on one batch in memory; + the loop's
           bookkeeping (the per-step dropout seed and the `Meter`); batches decoded on the GPU in the loop itself (no
           prefetch thread); batches from the loader (prefetch thread); batches from the loader + bookkeeping (= `fit`'s loop
           without its logging and checkpoints).
5. fit     `fit` on the JPEG store, bf16 + channels_last, one epoch, GPU decoding and CPU decoding (--fit-workers): img/s and
           data wait (share of the step time spent waiting for a batch) from metrics.jsonl, the first window dropped.
           Goal (issue 19): data wait <= 5% with GPU decoding, at the step's rate.
Rows go to OUT/gpu-loader-<tag>.csv as they are measured; a summary table is printed last.
"""
import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT/'bench'))

import pandas as pd
import torch
import torch.nn.functional as F

from alexnet.augmentation import make_train_loader
from alexnet.core import Config, DistEnv, derive_seed, provenance, reuse_freed_memory
from alexnet.model import AlexNet
from alexnet.demo import make_demo_dataset
from alexnet.preprocessing import open_store, prepare
from alexnet.statistics import ensure_stats
from alexnet.train import Meter, fit, make_optimizer
from gpu_check import Report, sync, train_step


def loader_rate(loader, device, seconds:float) -> tuple[float, int]:
    "(img/s, batches) of `loader` over about `seconds` of batches after one warm-up batch (worker start-up excluded)."
    it = loader.iter_epoch(0)
    next(it); sync(device)
    n, t0 = 0, time.perf_counter()
    for _x, y in it:
        n += len(y)
        if time.perf_counter() - t0 > seconds: break
    sync(device)
    rate = n / (time.perf_counter() - t0)
    it.close()
    return rate, n // loader.batch_size


def step_rate(batch:int, device, seconds:float, opts:set) -> float:
    "img/s of the paper net's training step in mode `opts` on one batch of random data on `device`."
    step = train_step('paper', opts, batch, device)
    for _ in range(3): step()
    sync(device)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds or n < 3:
        step(); n += 1
        if n % 5 == 0: sync(device)
    sync(device)
    return n * batch / (time.perf_counter() - t0)


def loop_rates(split, stats, batch:int, device, seconds:float) -> dict:
    "img/s of training loops that differ in one thing each (see the module docstring, part 4)."
    torch.manual_seed(0)
    model = AlexNet('paper', 10).to(device).to(memory_format=torch.channels_last); opt = make_optimizer(model, Config())
    loader = make_train_loader(Config(batch_size=batch, workers=0), split, stats, device=device)
    fixed = next(iter(loader.iter_epoch(0)))
    def run(batches, bookkeeping:bool) -> float:
        meter, n, t0 = Meter(), 0, None
        for i, (x, y) in enumerate(batches):
            if i == 3: sync(device); t0 = time.perf_counter()  # three warm-up steps
            if bookkeeping: torch.manual_seed(derive_seed(0, 'dropout', i, 0))
            with torch.autocast(device.type, dtype=torch.bfloat16):
                logits = model(x.contiguous(memory_format=torch.channels_last)); loss = F.cross_entropy(logits.float(), y)
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
            if bookkeeping: meter.add(loss, logits.detach().float(), y, i + 1)
            if t0 is not None: n += len(y)
            if t0 is not None and time.perf_counter() - t0 > seconds: break
        sync(device)
        if bookkeeping: meter.reduce(DistEnv(), device)
        return n / (time.perf_counter() - t0)
    inline = lambda e: (loader.finish(loader.raw_batch(e, b)) for b in range(len(loader)))
    return {'bare step, one batch in memory': run(itertools.repeat(fixed), False),
            '+ per-step seed and Meter': run(itertools.repeat(fixed), True),
            'batches decoded in the loop (no prefetch thread)': run(inline(1), False),
            'batches from the loader (prefetch thread)': run(loader.iter_epoch(2), False),
            'batches from the loader + seed and Meter': run(loader.iter_epoch(3), True)}


def loader_section(report, a, train, rawst, stats, step:float, device, cfg):
    "The training loader's img/s: CPU decoding at each worker count, GPU decoding, the raw store."
    rates = {}
    for w in a.workers:
        loader = make_train_loader(cfg(workers=w, decode='cpu'), train, stats, device=device)
        rates[f'cpu-{w}'], nb = loader_rate(loader, device, a.seconds); del loader
        report.add('loader', f'JPEG store, CPU decoding, {w} workers', rates[f'cpu-{w}'], 'img/s', path='cpu', workers=w, batches=nb,
                   ratio_to_step=rates[f'cpu-{w}'] / step)
    best_cpu = f'cpu-{max(a.workers)}'
    if device.type == 'cuda':
        for w in (0, 4):
            loader = make_train_loader(cfg(workers=w, decode='cuda'), train, stats, device=device)
            rates[f'gpu-{w}'], nb = loader_rate(loader, device, a.seconds); del loader
            report.add('loader', f'JPEG store, GPU decoding (nvJPEG), {w} workers reading bytes', rates[f'gpu-{w}'], 'img/s', path='gpu', workers=w,
                       batches=nb, ratio_to_step=rates[f'gpu-{w}'] / step, ratio_to_cpu=rates[f'gpu-{w}'] / rates[best_cpu])
    else: report.add('skip', 'JPEG store, GPU decoding', 'needs a CUDA device')
    for w in sorted({min(a.workers), 4 if not a.quick else 0}):
        loader = make_train_loader(cfg(workers=w), rawst.split('train'), stats, device=device)
        r, nb = loader_rate(loader, device, a.seconds); del loader
        report.add('loader', f'raw store, {w} workers, pinned non-blocking copies', r, 'img/s', path='raw', workers=w, batches=nb, ratio_to_step=r / step)


def make_stores(tmp:Path, images:int, raw_images:int, workers:int):
    "The JPEG store of `images` demo images and a raw store of `raw_images` of them, with statistics."
    t = time.time()
    raw = make_demo_dataset(tmp/'demo', n_train=images // 10, n_val=max(2, images // 400), workers=workers)
    t_gen = time.time() - t
    jpeg = open_store(prepare('demo', raw, tmp/'jpeg', workers=workers, format='jpeg', quiet=True))
    rawst = open_store(prepare('demo', raw, tmp/'raw', workers=workers, format='raw', limit=raw_images, quiet=True))
    stats = ensure_stats(jpeg, workers=workers)
    ensure_stats(rawst, workers=workers)
    return jpeg, rawst, stats, dict(generate_s=t_gen, total_s=time.time() - t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument('--out', default='bench/results')
    ap.add_argument('--quick', action='store_true', help='tiny sizes on the CPU: checks the script (make test)')
    ap.add_argument('--images', type=int, default=20000, help='training images in the JPEG store')
    ap.add_argument('--raw-images', type=int, default=4096, help='training images in the raw store')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2, 4, 8, 15], help='loader worker counts of the CPU path')
    ap.add_argument('--fit-workers', type=int, default=15, help='loader workers of the CPU-decoding fit')
    ap.add_argument('--seconds', type=float, default=3.0, help='timed seconds per loader setting')
    ap.add_argument('--sections', default='step,loader,loop,fit', help='comma-separated subset of step,loader,loop,fit (the stores are always made)')
    ap.add_argument('--append', action='store_true', help="keep the CSV's earlier rows (a second run of other sections)")
    a = ap.parse_args()
    sections = set(a.sections.split(','))
    if sections - {'step', 'loader', 'loop', 'fit'}: ap.error(f"--sections: unknown {', '.join(sorted(sections - {'step', 'loader', 'loop', 'fit'}))}")
    if a.quick: a.images, a.raw_images, a.batch, a.workers, a.fit_workers, a.seconds = 40, 20, 8, [0, 1], 0, 0.5
    device = torch.device('cuda' if torch.cuda.is_available() and not a.quick else 'cpu')
    if device.type == 'cpu' and not a.quick: ap.error('no CUDA device: run with --quick (the CPU check of the script) or on a GPU machine')
    reuse_freed_memory()
    tag = 'cpu-quick' if a.quick else torch.cuda.get_device_name(device).split()[-1].lower()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    report = Report(out/f'gpu-loader-{tag}.csv', a.append)
    cores = os.cpu_count() or 1
    prov = provenance(device)
    print(f"{prov['device_name']}, {cores} CPU cores, torch {prov['torch']}, torchvision {prov['torchvision']}, git {prov['git']}", flush=True)
    with tempfile.TemporaryDirectory(prefix='alexnet-gpu-loader-') as tmp:
        tmp = Path(tmp)
        jpeg, rawst, stats, t = make_stores(tmp, a.images, a.raw_images, max(1, min(cores, 16)))
        train = jpeg.split('train')
        report.add('store', f'{len(train)} JPEG + {len(rawst.split("train"))} raw demo images generated and prepared', t['total_s'], 's',
                   generate_s=t['generate_s'], jpeg_kb=float(train._length.mean() / 1024))
        cfg = lambda **kw: Config(batch_size=a.batch, seed=0, **kw)
        opts = {'bf16', 'channels_last'}
        step = step_rate(a.batch, device, a.seconds, opts)
        report.add('step', f'paper net training step, bf16+channels_last, batch {a.batch}', step, 'img/s')
        if 'loader' in sections: loader_section(report, a, train, rawst, stats, step, device, cfg)
        if 'loop' in sections:
            loops = loop_rates(train, stats, a.batch, device, a.seconds)
            bare = next(iter(loops.values()))
            for name, r in loops.items(): report.add('loop', name, r, 'img/s', ratio_to_bare=r / bare)
        fits = ([('gpu', 4, 'cuda')] if device.type == 'cuda' else []) + [('cpu', a.fit_workers, 'cpu')]
        for path, w, decode in fits if 'fit' in sections else []:
            c = Config(name=f'fit-{path}', out_dir=str(tmp/'runs'), dataset='demo', data_root=str(tmp/'demo'), prepared=str(tmp/'jpeg'),
                       batch_size=a.batch, epochs=1, workers=w, decode=decode, amp='bf16', channels_last=True, log_every=1 if a.quick else 10,
                       eval_ten_crop=False, limit_val=a.batch, limit_train=0 if not a.quick else 4 * a.batch, device=device.type)
            t0 = time.time(); fit(c, log=lambda *_: None); secs = time.time() - t0
            windows = [r for r in map(json.loads, (tmp/'runs'/c.name/'metrics.jsonl').read_text().splitlines()) if r['kind'] == 'train'][1:]
            if not windows: report.add('skip', f'fit, {path} decoding', 'too few log windows'); continue
            rate, wait = statistics.median(r['img_s'] for r in windows), statistics.median(r['data_wait'] for r in windows)
            report.add('fit', f'fit, JPEG store, {path} decoding, {w} workers: data wait', 100 * wait, '% of step time', 5 if path == 'gpu' else None,
                       wait <= 0.05 if path == 'gpu' else None, img_s=rate, ratio_to_step=rate / step, windows=len(windows), seconds=secs)
    rows = pd.DataFrame(report.rows)
    print(f"\nsummary ({tag}, {cores} cores, batch {a.batch}): step {step:.0f} img/s")
    for _, r in rows[rows.kind.isin(['loader', 'loop', 'fit']) & (rows.run == report.run)].iterrows():
        d = json.loads(r.details)
        print(f"  {r['name']:<62} {r.value:9.1f} {r.unit:<16} " + ' '.join(f'{k} {v:.3g}' for k, v in d.items() if isinstance(v, float)))
    print(f"wrote OUT/{report.path.name}")


if __name__ == '__main__':
    main()
