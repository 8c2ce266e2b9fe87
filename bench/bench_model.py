"""Training-step throughput of the paper net (with nn.LocalResponseNorm's computation, the band-matrix LRN and the default fused LRN) and torchvision's alexnet.

One training step = forward + backward + SGD(momentum) step on random data. For every mode the script
prints img/s (median over the timed steps; the nets of a mode take turns step by step, so a change in
the machine's load hits them alike), achieved GFLOP/s (3 x 2 x MACs per image per step) as a
share of this machine's matmul peak (a 4096x4096 matmul in the mode's precision, timed in turn with the
nets), and the ratio paper / torchvision.

    python bench/bench_model.py --batch 64 --steps 3
    python bench/bench_model.py --modes fp32,channels_last,bf16,bf16+channels_last+compile --threads 2

A mode is a '+'-joined set of: fp32 (nothing), bf16 (autocast), channels_last, compile (torch.compile).
Timings on a shared machine are noisy: compare ratios measured in one run.
"""
import argparse
import statistics
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from alexnet.core import provenance, reuse_freed_memory
from alexnet.model import AlexNet, layer_table

NETS = {  # name -> AlexNet keyword arguments
    'paper-torch-lrn': dict(variant='paper', lrn='torch'),
    'paper-band-lrn': dict(variant='paper', lrn='band'),
    'paper': dict(variant='paper', lrn='auto'),
    'torchvision': dict(variant='torchvision', input_convention='pad2'),
}
OPTIONS = ('fp32', 'bf16', 'channels_last', 'compile')


def sync(device:torch.device):
    "Wait for queued work on `device` (GPU timings)."
    if device.type == 'cuda': torch.cuda.synchronize(device)


def matmul_step(dtype:torch.dtype, device:torch.device, n:int=4096):
    "A function that runs one n x n matmul in `dtype` on `device` (2 n^3 FLOPs): the peak reference."
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    def step(): a @ b; sync(device)
    return step


def training_step(net:str, mode:set, batch:int, device:torch.device):
    "A function that runs one training step of `net` in `mode` on fixed random data."
    torch.manual_seed(0)
    model = AlexNet(num_classes=1000, **NETS[net]).to(device)
    memory_format = torch.channels_last if 'channels_last' in mode else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    run = torch.compile(model) if 'compile' in mode else model
    x = torch.randn(batch, 3, model.input_size, model.input_size, device=device).contiguous(memory_format=memory_format)
    y = torch.randint(0, 1000, (batch,), device=device)
    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled='bf16' in mode):
            loss = F.cross_entropy(run(x), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); sync(device)
    return step


def step_times(nets:list, mode:set, batch:int, steps:int, warmup:int, device:torch.device) -> dict:
    """Median seconds of one training step of each net in `mode`, and of one 4096^3 matmul ('peak') in its precision;
    they take turns step by step, so a change in the machine's load hits them alike."""
    steps_of = {n: training_step(n, mode, batch, device) for n in nets}
    steps_of['peak'] = matmul_step(torch.bfloat16 if 'bf16' in mode else torch.float32, device)
    times = {n: [] for n in steps_of}
    for i in range(warmup + steps):
        for n, step in steps_of.items():
            t = time.perf_counter(); step()
            if i >= warmup: times[n].append(time.perf_counter() - t)
    return {n: statistics.median(ts) for n, ts in times.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--batch', type=int, default=64, help='images per step')
    p.add_argument('--steps', type=int, default=3, help='timed steps per (net, mode)')
    p.add_argument('--warmup', type=int, default=1, help='untimed steps first (compile happens here)')
    p.add_argument('--modes', default='fp32,bf16', help=f"comma-separated modes, each a '+'-joined set of {', '.join(OPTIONS)}")
    p.add_argument('--nets', default=','.join(NETS), help=f"comma-separated, from {', '.join(NETS)}")
    p.add_argument('--threads', type=int, default=0, help='torch CPU threads (0 = leave as is)')
    p.add_argument('--device', default='cpu', help='cpu | cuda | cuda:N')
    p.add_argument('--csv', default='', help='also write the table here (e.g. bench/results/model.csv, read by the 04_model notebook)')
    args = p.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    reused = reuse_freed_memory()  # as training does (alexnet.core: freed blocks reused, not faulted in afresh)
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
          f"batch {args.batch}, {args.steps} timed steps after {args.warmup} warm-up, freed memory reused: {reused}, git {prov['git']}")
    print(f"{'mode':<28} {'net':<16} {'img/s':>8} {'GFLOP/s':>8} {'% peak':>7}")
    rows = []
    for mode in modes:
        opts = set(mode.split('+'))
        seconds = step_times(nets, opts, args.batch, args.steps, args.warmup, device)
        peak = 2 * 4096**3 / seconds.pop('peak') / 1e9
        print(f"{mode:<28} {'matmul peak':<16} {'':>8} {peak:8.1f} ({'bf16' if 'bf16' in opts else 'fp32'} 4096x4096, same run)")
        rate = {n: args.batch / s for n, s in seconds.items()}
        for n in nets:
            gflops = 6 * macs[n] * rate[n] / 1e9
            ratio = rate[n] / rate['torchvision'] if 'torchvision' in rate else float('nan')
            rows.append(dict(mode=mode, net=n, img_per_s=round(rate[n], 2), gflops=round(gflops, 1), peak_gflops=round(peak, 1),
                             pct_peak=round(100 * gflops / peak, 1), ratio_to_torchvision=round(ratio, 3)))
            print(f"{mode:<28} {n:<16} {rate[n]:8.1f} {gflops:8.1f} {100 * gflops / peak:6.1f}%", flush=True)
        for n in reversed([n for n in nets if n != 'torchvision']):
            if 'torchvision' in rate: print(f"{mode:<28} ratio {n} / torchvision = {rate[n] / rate['torchvision']:.2f}")
    if args.csv: write_csv(args.csv, rows, args, prov)


def write_csv(path:str, rows:list, args, prov:dict):
    "Results table with the run's settings in every row (read by nbs/04_model.ipynb)."
    meta = dict(batch=args.batch, steps=args.steps, threads=torch.get_num_threads(), device=prov['device_name'],
                torch=prov['torch'], git=prov['git'], date=time.strftime('%Y-%m-%d', time.gmtime()))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{**r, **meta} for r in rows]).to_csv(path, index=False)
    print(f"wrote {path}")

if __name__ == '__main__':
    main()
