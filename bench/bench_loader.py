"""Benchmark the training loader (alexnet.augmentation.make_train_loader) against the usual baseline:
torchvision ImageFolder over 256x256 JPEG files with transforms.v2 (RandomCrop 224, flip, to float, normalise),
at num_workers 0, 1, 2, batch 128; then the data-wait share of step time in a short CPU training loop.

    .venv/bin/python bench/bench_loader.py [--images 1024] [--workers 0 1 2] [--repeats 3] [--train-steps 4] [--train-batch 32]

The JPEG files are written (quality 95) from the demo store's training images into a temporary folder, so all
loaders see the same pictures. Our loader is timed over two stores of those pictures: the demo's raw-pixel store
(what `format='auto'` picks below 20,000 images) and a JPEG store prepared from the JPEG files (what ImageNet-size
datasets get; each image is then decoded per use, like the baseline). Our loader does strictly more work per image
than the baseline (it also adds the PCA colour noise and subtracts the mean image instead of channel means).
Each timing is a whole epoch of already started (persistent) workers, after one warm-up epoch, one torch thread in
the main process for every loader (DataLoader workers use one thread each); epochs alternate between the loaders
and the median over --repeats is printed, with the ratio (goal: >= 2x the baseline per core, i.e. at equal workers).

Data-wait: the paper's AlexNet trained on CPU (SGD, --train-batch, default torch threads) on batches of our loader
with config.workers; wait = time blocked on the next batch, step = wait + forward/backward/update; the first step
is dropped. Goal: wait <= 2% of step time. The machine may be shared with other jobs: compare only numbers printed
by one run.
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.transforms import v2

from alexnet.core import Config, reuse_freed_memory
from alexnet.preprocessing import ensure_prepared, open_store, prepare
from alexnet.statistics import ensure_stats
from alexnet.augmentation import make_train_loader
from alexnet.model import build_model


def write_jpegs(split, n, root):
    "The first n images of `split` as 256x256 JPEG files in ImageFolder layout under root/train."
    for i in range(n):
        d = Path(root)/'train'/f'c{int(split.labels[i]):03d}'; d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(split.read(i).permute(1, 2, 0).numpy()).save(d/f'{i:06d}.jpg', quality=95)


def baseline(root, workers, stats, batch_size):
    tf = v2.Compose([v2.ToImage(), v2.RandomCrop(224), v2.RandomHorizontalFlip(),
                     v2.ToDtype(torch.float32, scale=True),
                     v2.Normalize((stats.channel_mean / 255).tolist(), (stats.channel_std / 255).tolist())])
    ds = datasets.ImageFolder(Path(root)/'train', transform=tf)
    return DataLoader(ds, batch_size=batch_size, shuffle=True, num_workers=workers, drop_last=True, persistent_workers=workers > 0)


def epoch_rate(batches) -> float:
    "Images/s over one whole epoch of an iterator of (x, y)."
    t, n = time.perf_counter(), 0
    for _x, y in batches: n += len(y)
    return n / (time.perf_counter() - t)


def loader_rates(epochs:dict, repeats:int) -> dict:
    "Median images/s of each loader (name -> function(epoch) -> iterator), one warm-up epoch each, epochs round-robin."
    rs = {k: [] for k in epochs}
    for e in range(repeats + 1):
        for k, f in epochs.items():
            r = epoch_rate(f(e))
            if e: rs[k].append(r)
    return {k: statistics.median(v) for k, v in rs.items()}


def data_wait(loader, n_classes:int, steps:int) -> tuple[float, float]:
    "(share of step time spent waiting for batches, seconds per step) of a CPU AlexNet SGD loop over `loader`; first step dropped."
    model = build_model(Config(), n_classes)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    waits, totals, it = [], [], iter(loader.iter_epoch(0))
    steps = min(steps, len(loader) - 1)
    t_prev = time.perf_counter()
    for _ in range(steps + 1):
        x, y = next(it); t_data = time.perf_counter() - t_prev
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()
        now = time.perf_counter(); waits.append(t_data); totals.append(now - t_prev); t_prev = now
    return sum(waits[1:]) / sum(totals[1:]), statistics.median(totals[1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--images', type=int, default=1024)
    ap.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--batch-size', type=int, default=128)
    ap.add_argument('--train-steps', type=int, default=4, help='timed CPU training steps per store for the data-wait check (0: skip)')
    ap.add_argument('--train-batch', type=int, default=32, help='batch size of the data-wait check (the wait share hardly depends on it: both sides scale with it)')
    args = ap.parse_args()
    reused = reuse_freed_memory()  # as training does; the baseline's loaders (forked from here) get it too
    cfg = Config(batch_size=args.batch_size)
    store = ensure_prepared(cfg); split = store.split('train'); stats = ensure_stats(store)
    n = min(args.images, len(split)); bs = args.batch_size
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {n} images = {n // bs} batches of {bs} per epoch, median of {args.repeats} epochs; "
          f"freed memory reused (every loader): {reused}; shared machine: compare ratios from one run")
    with tempfile.TemporaryDirectory() as d:
        write_jpegs(split, n, d)
        jpeg_split = open_store(prepare('imagefolder', d, Path(d)/'store', workers=1, format='jpeg', quiet=True)).split('train')
        splits = {'raw store': split, 'jpeg store': jpeg_split}
        print('| num_workers | ImageFolder+v2 img/s | ours, raw store img/s | ratio | ours, JPEG store img/s | ratio |\n|---|---|---|---|---|---|')
        for w in args.workers:
            base = baseline(d, w, stats, bs)
            ours = {k: make_train_loader(Config(batch_size=bs, workers=w, limit_train=n), sp, stats) for k, sp in splits.items()}
            r = loader_rates({'base': lambda e: base, **{k: (lambda L: lambda e: L.iter_epoch(e))(L) for k, L in ours.items()}}, args.repeats)  # noqa: F821 (ruff misreads the `del base` below)
            print(f"| {w} | {r['base']:.0f} | {r['raw store']:.0f} | {r['raw store'] / r['base']:.2f}x | "
                  f"{r['jpeg store']:.0f} | {r['jpeg store'] / r['base']:.2f}x |", flush=True)
            del base, ours
        if args.train_steps:
            torch.set_num_threads(threads)
            print(f"\nCPU training, AlexNet (paper variant), SGD, batch {args.train_batch}, {threads} torch threads, loader workers={cfg.workers}, "
                  f"{args.train_steps} timed steps (goal: data wait <= 2% of step time):")
            for k, sp in splits.items():
                share, step = data_wait(make_train_loader(Config(batch_size=args.train_batch, workers=cfg.workers, limit_train=n), sp, stats),
                                        len(store.classes), args.train_steps)
                print(f"  {k}: data wait {100 * share:.2f}% of step time (median step {step:.2f} s)", flush=True)


if __name__ == '__main__':
    main()
