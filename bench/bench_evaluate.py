"""Ten-crop vs centre-crop evaluation cost (goal: about 10x, not more).

    python bench/bench_evaluate.py [--images 64] [--batch 64] [--repeats 3] [--variant paper] [--amp none]

Scores the same in-memory images (uint8 256x256, as a prepared store holds them) through
`alexnet.evaluate.score_split` with 1 crop and with the paper's 10 crops, the real eval loader and
model included; prints median seconds and images/s of each and their ratio. Timings on a shared CPU
are noisy: compare the ratio, which is measured in the same run.
"""
import argparse
import statistics
import time

import torch

from alexnet.core import Config
from alexnet.evaluate import score_split
from alexnet.model import build_model
from alexnet.preprocessing import synthetic_split
from alexnet.statistics import Stats


def flat_stats(size:int=256) -> Stats:
    "Mid-grey statistics (the values do not change the cost)."
    m = torch.full((3,), 120., dtype=torch.float64); s = torch.full((3,), 60., dtype=torch.float64)
    return Stats(mean_image=torch.full((3, size, size), 120.), channel_mean=m, channel_std=s, cov=torch.diag(s**2),
                 eigval=s**2, eigvec=torch.eye(3, dtype=torch.float64), count=0, checksum='bench')


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--images', type=int, default=64); p.add_argument('--batch', type=int, default=64)
    p.add_argument('--repeats', type=int, default=3); p.add_argument('--variant', default='paper')
    p.add_argument('--amp', default='none', choices=('none', 'bf16'))
    a = p.parse_args()
    config = Config(variant=a.variant, batch_size=a.batch, workers=0).check()
    torch.manual_seed(0)
    model = build_model(config, 10).eval()
    split, stats = synthetic_split(a.images, name='val'), flat_stats()
    score_split(model, synthetic_split(min(a.images, a.batch), name='val'), config, stats, 1, 'cpu', a.amp)  # warm-up
    times = {1: [], 10: []}
    for _ in range(a.repeats):
        for crops in (1, 10):
            t0 = time.perf_counter(); score_split(model, split, config, stats, crops, 'cpu', a.amp); times[crops].append(time.perf_counter() - t0)
    med = {c: statistics.median(t) for c, t in times.items()}
    print(f"{a.images} images, variant={a.variant}, amp={a.amp}, {a.batch} crops per forward pass, "
          f"{torch.get_num_threads()} threads, median of {a.repeats}")
    for c in (1, 10):
        print(f"  {'centre crop' if c == 1 else 'ten crops  '}: {med[c]:7.2f} s  {a.images / med[c]:7.1f} images/s  {a.images * c / med[c]:7.1f} crops/s")
    print(f"ten-crop / centre-crop time ratio: {med[10] / med[1]:.2f} (goal about 10: the ten crops cost ten forward passes, no more)")


if __name__ == '__main__':
    main()
