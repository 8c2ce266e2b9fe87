"""Benchmark the training loader (alexnet.augmentation.make_train_loader) against the usual baseline:
torchvision ImageFolder over 256x256 JPEG files with transforms.v2 (RandomCrop 224, flip, to float, normalise),
at num_workers 0, 1, 2, batch 128.

    .venv/bin/python bench/bench_loader.py [--images 640] [--workers 0 1 2]

The JPEG files are written (quality 95) from the demo store's training images into a temporary folder,
so both loaders see the same pictures. Prints img/s and the ratio (goal: >= 2x per core). On a shared
machine compare only the ratios printed by one run.
"""
import argparse, tempfile, time
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.transforms import v2

from alexnet.core import Config
from alexnet.preprocessing import ensure_prepared
from alexnet.statistics import ensure_stats
from alexnet.augmentation import make_train_loader


def write_jpegs(split, n, root):
    "The first n images of `split` as 256x256 JPEG files in ImageFolder layout."
    for i in range(n):
        d = Path(root)/f'c{int(split.labels[i]):03d}'; d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(split.read(i).permute(1, 2, 0).numpy()).save(d/f'{i:06d}.jpg', quality=95)


def images_per_second(batches, skip=1):
    "Images/s over an iterator of (x, y), not counting the first `skip` batches (worker start-up)."
    n, t0 = 0, None
    for k, (x, y) in enumerate(batches):
        if k == skip - 1 or (skip == 0 and t0 is None): t0 = time.perf_counter()
        if k >= skip: n += len(y)
    return n / (time.perf_counter() - t0)


def baseline(root, workers, stats):
    tf = v2.Compose([v2.ToImage(), v2.RandomCrop(224), v2.RandomHorizontalFlip(),
                     v2.ToDtype(torch.float32, scale=True),
                     v2.Normalize((stats.channel_mean / 255).tolist(), (stats.channel_std / 255).tolist())])
    ds = datasets.ImageFolder(root, transform=tf)
    return DataLoader(ds, batch_size=128, shuffle=True, num_workers=workers, drop_last=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--images', type=int, default=640)
    ap.add_argument('--workers', type=int, nargs='+', default=[0, 1, 2])
    args = ap.parse_args()
    cfg = Config(batch_size=128)
    store = ensure_prepared(cfg); split = store.split('train'); stats = ensure_stats(store)
    n = min(args.images, len(split))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {n} images, batch 128; shared machine: compare ratios")
    with tempfile.TemporaryDirectory() as d:
        write_jpegs(split, n, d)
        for w in args.workers:
            base = images_per_second(baseline(d, w, stats))
            ours = images_per_second(make_train_loader(Config(batch_size=128, workers=w, limit_train=n), split, stats).iter_epoch(0))
            print(f"num_workers={w}: ImageFolder+v2 {base:7.0f} img/s | make_train_loader {ours:7.0f} img/s | ratio {ours / base:.2f}x")


if __name__ == '__main__':
    main()
