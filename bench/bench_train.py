"""Training-loop overhead of `alexnet.train.fit` vs the bare model step, measured in one run on this machine.

    python bench/bench_train.py                      # demo config, 16 steps of batch 32
    python bench/bench_train.py --config configs/demo.yaml --steps 24 --batch_size 32

loop step  = median per-step wall time inside `fit` (data wait + forward/backward/update + metrics + logging),
             from metrics.jsonl windows, after the first window (warm-up);
checkpoint = one `last.pt` write, amortised over an epoch's steps (demo: once per epoch);
bare step  = forward/backward/update of the same model and optimizer on one fixed in-memory batch.
Target (issue 6): overhead = (loop + checkpoint/steps_per_epoch) / bare - 1 <= 5%.
"""
import argparse, dataclasses, json, statistics, tempfile, time
from pathlib import Path

import torch
import torch.nn.functional as F

from alexnet.core import load_config, resolve_path, set_seed
from alexnet.model import build_model
from alexnet.preprocessing import open_store
from alexnet.evaluate import autocast_context
from alexnet.train import checkpoint_state, fit, make_optimizer, make_scheduler, write_last


def bare_step_times(config, num_classes:int, steps:int) -> list[float]:
    "Seconds per fwd+bwd+update on a fixed batch (per-rank batch = batch_size), after 2 warm-up steps."
    set_seed(config.seed); model = build_model(config, num_classes); opt = make_optimizer(model, config)
    if config.channels_last: model = model.to(memory_format=torch.channels_last)
    x = torch.randn(config.batch_size, 3, config.crop, config.crop); y = torch.randint(0, num_classes, (config.batch_size,))
    device = torch.device('cpu'); times = []
    for i in range(steps + 2):
        t = time.perf_counter()
        with autocast_context(device, config.amp): loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); loss.item()
        if i >= 2: times.append(time.perf_counter() - t)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--config', default='configs/demo.yaml'); ap.add_argument('--steps', type=int, default=16)
    ap.add_argument('--batch_size', type=int, default=32); ap.add_argument('--log_every', type=int, default=4)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(a.config, out_dir=tmp, name='bench', epochs=1, batch_size=a.batch_size, limit_train=a.steps * a.batch_size,
                             limit_val=a.batch_size, eval_ten_crop=False, log_every=a.log_every, device='cpu', ckpt_every=0)
        r = fit(config, log=lambda *_: None)
        recs = [json.loads(l) for l in Path(r['metrics']).read_text().splitlines()]
        windows = [x for x in recs if x['kind'] == 'train'][1:]
        loop = statistics.median(config.batch_size / w['img_s'] for w in windows)
        wait = statistics.median(w['data_wait'] for w in windows)
        ck = torch.load(r['last'], weights_only=True); n_classes = len(ck['classes'])
        model = build_model(config, n_classes); opt = make_optimizer(model, config)
        state = checkpoint_state(model, opt, make_scheduler(opt, config), None, config, ck['classes'], 0, 0, 0, 0.0)
        t = time.perf_counter(); write_last(state, Path(tmp)); ckpt = time.perf_counter() - t
    full = load_config(a.config)  # checkpoints come once per epoch of the full config (or every ckpt_every steps)
    per_epoch = len(open_store(resolve_path(full.prepared)).split('train')) // a.batch_size
    if full.ckpt_every: per_epoch = min(per_epoch, full.ckpt_every)
    bare = statistics.median(bare_step_times(config, n_classes, max(6, a.steps // 2)))
    overhead = (loop + ckpt / per_epoch) / bare - 1
    print(f"config {a.config}: variant {config.variant}, amp {config.amp}, batch {config.batch_size}, {torch.get_num_threads()} threads")
    print(f"bare step        {1000*bare:8.1f} ms  ({config.batch_size/bare:.1f} img/s)")
    print(f"loop step        {1000*loop:8.1f} ms  ({config.batch_size/loop:.1f} img/s; data wait {100*wait:.1f}%)")
    print(f"checkpoint       {1000*ckpt:8.1f} ms  (amortised over {per_epoch} steps: {1000*ckpt/per_epoch:.1f} ms/step)")
    print(f"loop overhead vs bare step: {100*overhead:+.1f}%  (target <= 5%)")


if __name__ == '__main__': main()
