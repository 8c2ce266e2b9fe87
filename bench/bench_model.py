"""Training-step throughput of the paper net (nn.LocalResponseNorm's computation vs the fast LRN) and torchvision's alexnet.

One training step = forward + backward + SGD(momentum) step on random data. For every mode the script
prints img/s (median over the timed steps), achieved GFLOP/s (3 x 2 x MACs per image per step) as a
share of this machine's matmul peak measured in the same run, and the ratio paper / torchvision.

    python bench/bench_model.py --batch 64 --steps 3
    python bench/bench_model.py --modes fp32,channels_last,bf16,bf16+channels_last+compile --threads 2

A mode is a '+'-joined set of: fp32 (nothing), bf16 (autocast), channels_last, compile (torch.compile).
Timings on a shared machine are noisy: compare ratios measured in one run.
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from alexnet.core import provenance
from alexnet.model import AlexNet, layer_table

NETS = {  # name -> AlexNet keyword arguments
    'paper-torch-lrn': dict(variant='paper', lrn='torch'),
    'paper': dict(variant='paper', lrn='fast'),
    'torchvision': dict(variant='torchvision', input_convention='pad2'),
}
OPTIONS = ('fp32', 'bf16', 'channels_last', 'compile')


def sync(device:torch.device):
    "Wait for queued work on `device` (GPU timings)."
    if device.type == 'cuda': torch.cuda.synchronize(device)


def matmul_peak(dtype:torch.dtype, device:torch.device, n:int=4096, reps:int=3) -> float:
    "Median GFLOP/s of an n x n matmul in `dtype` on `device`."
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    a @ b; sync(device)
    times = []
    for _ in range(reps):
        t = time.perf_counter(); a @ b; sync(device); times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def step_time(net:str, mode:set, batch:int, steps:int, warmup:int, device:torch.device) -> float:
    "Median seconds of one training step of `net` in `mode`."
    torch.manual_seed(0)
    model = AlexNet(num_classes=1000, **NETS[net]).to(device)
    memory_format = torch.channels_last if 'channels_last' in mode else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    run = torch.compile(model) if 'compile' in mode else model
    x = torch.randn(batch, 3, model.input_size, model.input_size, device=device).contiguous(memory_format=memory_format)
    y = torch.randint(0, 1000, (batch,), device=device)
    times = []
    for i in range(warmup + steps):
        t = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled='bf16' in mode):
            loss = F.cross_entropy(run(x), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); sync(device)
        if i >= warmup: times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch', type=int, default=64, help='images per step')
    p.add_argument('--steps', type=int, default=3, help='timed steps per (net, mode)')
    p.add_argument('--warmup', type=int, default=1, help='untimed steps first (compile happens here)')
    p.add_argument('--modes', default='fp32,bf16', help=f"comma-separated modes, each a '+'-joined set of {', '.join(OPTIONS)}")
    p.add_argument('--nets', default=','.join(NETS), help=f"comma-separated, from {', '.join(NETS)}")
    p.add_argument('--threads', type=int, default=0, help='torch CPU threads (0 = leave as is)')
    p.add_argument('--device', default='cpu', help='cpu | cuda | cuda:N')
    args = p.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    modes = [m.strip() for m in args.modes.split(',') if m.strip()]
    for m in modes:
        bad = set(m.split('+')) - set(OPTIONS)
        if bad: p.error(f"--modes: unknown option(s) {', '.join(sorted(bad))} in {m!r}; choose from {', '.join(OPTIONS)}")
    nets = [n.strip() for n in args.nets.split(',')]
    for n in nets:
        if n not in NETS: p.error(f"--nets: {n!r} is not one of {', '.join(NETS)}")
    macs = {n: int(layer_table(AlexNet(**NETS[n]))['macs'].sum()) for n in nets}
    prov = provenance(device)
    print(f"device {prov['device']} ({prov['device_name']}), torch {prov['torch']}, threads {torch.get_num_threads()}, "
          f"batch {args.batch}, {args.steps} timed steps after {args.warmup} warm-up, git {prov['git']}")
    peaks = {dt: matmul_peak(dt, device) for dt in (torch.float32, torch.bfloat16) if any(('bf16' in m) == (dt == torch.bfloat16) for m in modes)}
    for dt, g in peaks.items(): print(f"matmul peak {str(dt).replace('torch.', '')}: {g:.0f} GFLOP/s (4096x4096)")
    print(f"{'mode':<28} {'net':<16} {'img/s':>8} {'GFLOP/s':>8} {'% peak':>7}")
    for mode in modes:
        opts = set(mode.split('+'))
        peak = peaks[torch.bfloat16 if 'bf16' in opts else torch.float32]
        rate = {}
        for n in nets:
            rate[n] = args.batch / step_time(n, opts, args.batch, args.steps, args.warmup, device)
            gflops = 6 * macs[n] * rate[n] / 1e9
            print(f"{mode:<28} {n:<16} {rate[n]:8.1f} {gflops:8.1f} {100 * gflops / peak:6.1f}%", flush=True)
        for n in ('paper', 'paper-torch-lrn'):
            if n in rate and 'torchvision' in rate: print(f"{mode:<28} ratio {n} / torchvision = {rate[n] / rate['torchvision']:.2f}")


if __name__ == '__main__':
    main()
