"""Training-loop overhead of `alexnet.train.fit` vs the bare model step on identical batches, measured in one run.

    python bench/bench_train.py                      # demo config, 3 repeats of 12 steps of batch 32
    python bench/bench_train.py --config configs/demo.yaml --steps 24 --batch_size 32 --repeats 5

Each repeat measures, back to back on this machine:
loop step  = per-step wall time inside `fit` (data wait + forward/backward/update + metrics + logging, from the
             metrics.jsonl windows, the first window dropped as warm-up), median over the windows;
bare step  = the library's own step (`alexnet.train.train_step`: dropout seed, forward/backward/update) of the same
             model and optimizer on the very batches that `fit` trained on (epoch 0's batches from the same loader,
             already in memory), median over the steps after 2 warm-up steps;
checkpoint = one `last.pt` write of the run's real state, amortised over the steps between checkpoints
             (an epoch of the full config, or `ckpt_every`).
overhead   = (loop step + checkpoint / steps between checkpoints) / bare step - 1, per repeat; the medians over the
             repeats are printed with the per-repeat ratios. Target (issue 6): overhead <= 5%.
monitor    = the bare step again with the dead-unit monitor's hooks on (`alexnet.train.ActiveUnits`, which `fit`
             always runs), in the same repeat: its cost is monitor / bare - 1 (issue 16: cheap enough to leave on).
"""
import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

from alexnet.core import DistEnv, load_config
from alexnet.augmentation import make_train_loader
from alexnet.preprocessing import ensure_prepared
from alexnet.statistics import ensure_stats
from alexnet.train import ActiveUnits, RunState, fit, make_loss, train_step, write_last


def loop_step_time(config, store, stats) -> tuple[float, float, float, Path]:
    "Run `fit` on `config` (with the prepared `store` and its `stats`); return (median per-step seconds, median data-wait fraction, checkpoint seconds, run_dir)."
    r = fit(config, log=lambda *_: None, store=store, stats=stats)
    windows = [x for x in map(json.loads, Path(r['metrics']).read_text().splitlines()) if x['kind'] == 'train'][1:]
    loop = statistics.median(config.batch_size / w['img_s'] for w in windows)
    wait = statistics.median(w['data_wait'] for w in windows)
    ck = torch.load(r['last'], weights_only=True)
    t = time.perf_counter(); write_last(ck, Path(r['run_dir'])); ckpt = time.perf_counter() - t  # the real state, rewritten
    return loop, wait, ckpt, Path(r['run_dir'])


def bare_step_times(config, batches:list, classes:list, num_classes:int, multilabel:bool, monitor:bool=False) -> list[float]:
    """Seconds per `alexnet.train.train_step` (the step `fit` runs) on `batches` (in memory), after 2 warm-up steps on
    the first ones (with the dead-unit monitor's hooks if `monitor`)."""
    device = torch.device('cpu'); state = RunState.create(config, classes, num_classes, device)
    model = state.net.to(memory_format=torch.channels_last) if config.channels_last else state.net
    active = ActiveUnits(model, device) if monitor else None
    criterion, times = make_loss(multilabel), []
    for i, (x, y) in enumerate(batches[:2] + batches):
        t = time.perf_counter()
        loss, _, _ = train_step(model, criterion, state, x, y, device); loss.item()
        if active: active.step()
        if i >= 2: times.append(time.perf_counter() - t)
    if active: active.reduce(); active.remove()
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--config', default='configs/demo.yaml'); ap.add_argument('--steps', type=int, default=12)
    ap.add_argument('--batch_size', type=int, default=32); ap.add_argument('--log_every', type=int, default=3)
    ap.add_argument('--repeats', type=int, default=3)
    a = ap.parse_args()
    full = load_config(a.config)
    store = ensure_prepared(full); split = store.split('train'); stats = ensure_stats(store)
    multilabel = bool(getattr(store, 'multilabel', False)); n_classes = full.num_classes or len(store.classes)
    per_ckpt = len(split) // a.batch_size
    if full.ckpt_every: per_ckpt = min(per_ckpt, full.ckpt_every)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(a.config, out_dir=tmp, name='bench', epochs=1, batch_size=a.batch_size, limit_train=a.steps * a.batch_size,
                             limit_val=a.batch_size, eval_ten_crop=False, log_every=a.log_every, device='cpu', ckpt_every=0)
        loader = make_train_loader(config, split, stats, DistEnv())
        batches = [loader.batch(0, b) for b in range(len(loader))]  # exactly what fit trains on in epoch 0
        for r in range(a.repeats):
            loop, wait, ckpt, run_dir = loop_step_time(config, store, stats)
            shutil.rmtree(run_dir)  # the next repeat starts afresh, not resumed
            bare = statistics.median(bare_step_times(config, batches, list(store.classes), n_classes, multilabel))
            monitored = statistics.median(bare_step_times(config, batches, list(store.classes), n_classes, multilabel, monitor=True))
            rows.append(dict(loop=loop, wait=wait, ckpt=ckpt, bare=bare, overhead=(loop + ckpt / per_ckpt) / bare - 1, monitor=monitored / bare - 1))
            print(f"repeat {r+1}: bare {1000*bare:.1f} ms, loop {1000*loop:.1f} ms (data wait {100*wait:.1f}%), "
                  f"checkpoint {1000*ckpt:.1f} ms -> overhead {100*rows[-1]['overhead']:+.1f}%; monitor {100*rows[-1]['monitor']:+.1f}%", flush=True)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print(f"config {a.config}: variant {config.variant}, amp {config.amp}, batch {config.batch_size}, workers {config.workers}, "
          f"{torch.get_num_threads()} threads, {a.steps} steps x {a.repeats} repeats (medians over repeats)")
    print(f"bare step        {1000*med['bare']:8.1f} ms  ({config.batch_size/med['bare']:.1f} img/s)")
    print(f"loop step        {1000*med['loop']:8.1f} ms  ({config.batch_size/med['loop']:.1f} img/s; data wait {100*med['wait']:.1f}%)")
    print(f"checkpoint       {1000*med['ckpt']:8.1f} ms  (amortised over {per_ckpt} steps: {1000*med['ckpt']/per_ckpt:.1f} ms/step)")
    per_repeat = ', '.join(f"{100*r['overhead']:+.1f}%" for r in rows)
    print(f"loop / bare ratio: {(med['loop'] + med['ckpt']/per_ckpt) / med['bare']:.3f}; "
          f"loop overhead vs bare step: {100*med['overhead']:+.1f}% (per repeat: {per_repeat}; target <= 5%)")
    per_repeat = ', '.join(f"{100*r['monitor']:+.1f}%" for r in rows)
    print(f"dead-unit monitor (hooks on relu5/6/7) vs bare step: {100*med['monitor']:+.1f}% (per repeat: {per_repeat})")


if __name__ == '__main__': main()
