"""The cluster job on a GPU, checked and measured in one run: every CUDA path's correctness, the training step's speed,
and `fit` killed with SIGKILL mid-epoch and resumed.

    python bench/gpu_check.py --out OUT            # on a GPU machine (about 5 minutes on one H200)
    python bench/gpu_check.py --quick --out OUT    # on the CPU, tiny sizes: checks the script itself (make test runs it)

Sections (each skipped, with a row saying so, once --budget seconds have passed):
  env      GPU, driver, torch, CUDA, cuDNN -> OUT/gpu-<tag>-env.json
  peak     bf16, tf32 and fp32 matmul rates (8192^3, median of 10 products, CUDA events): the ceilings the steps are held to
  checks   fused / band / torch LRN and the LRN inlined in a compiled model, forward and backward, fp32 and bf16, both memory
           layouts, against the formula in float64; the two-tower net on one device against the grouped net; AMP bf16 and fp16
           steps (finite, GradScaler state through a checkpoint and back); the eval loader's CUDA path against its CPU path; the
           GPU JPEG path (nvJPEG) against the CPU path on the same draws (pixel differences measured)
  steps    one training step (forward, backward, the paper's update) of the paper net with each LRN implementation and of
           torchvision's alexnet, batch 128 and 256, modes fp32 / tf32 / bf16 / bf16+channels_last / bf16+channels_last+compile:
           img/s (median over rounds of consecutive steps), TFLOP/s (3 x 2 x MACs per image), share of the bf16 matmul peak,
           ratio paper / torchvision
  resume   `python -m alexnet.train` on the demo data (bf16, channels_last, compile, deterministic): an uninterrupted run, and a
           run killed with SIGKILL mid-epoch then rerun with the same command; the final weights compared
Every row goes to OUT/gpu-<tag>.csv as soon as it is measured (kind, name, value, unit, tolerance, passed, details), and a
summary is printed last. The tag is the GPU's short name (h200) or cpu-quick. ALEXNET_GIT_SHA names the commit when the
copy being run has no .git (as on the GPU machine).
"""
import argparse
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runs from a bare checkout (the GPU machine has no install of the project)

import pandas as pd
import torch
import torch.nn.functional as F
import yaml

from alexnet.augmentation import make_eval_loader, make_train_loader
from alexnet.core import Config, load_checkpoint, provenance, reuse_freed_memory, save_checkpoint
from alexnet.metrics import autocast_context
from alexnet.model import AlexNet, layer_table, local_response_norm
from alexnet.preprocessing import ensure_prepared, open_store, prepare
from alexnet.demo import make_demo_dataset
from alexnet.statistics import ensure_stats
from alexnet.train import checkpoint_state, make_optimizer, make_scheduler

from bench_model import NETS  # noqa: E402  the nets bench/bench_model.py times (name -> AlexNet keyword arguments), one list for both
ABLATIONS = ('paper-no-lrn',)  # the paper net with its two LRN layers removed: what the LRN costs (--nets)
MODES = ('fp32', 'tf32', 'bf16', 'bf16+channels_last', 'bf16+channels_last+compile')
COMPILED_NETS = ('paper', 'torchvision')  # under a model compile every LRN implementation becomes the same inlined loop


class Report:
    "Result rows, rewritten to the CSV after each one (a run cut short keeps what it measured); `append` keeps an earlier run's rows."
    def __init__(self, path:Path, append:bool=False):
        self.path, self.run = path, f"{os.environ.get('ALEXNET_GIT_SHA', 'local')} {time.strftime('%Y-%m-%dT%H:%M', time.gmtime())}"
        self.rows = pd.read_csv(path).to_dict('records') if append and path.exists() else []
    def add(self, kind:str, name:str, value=float('nan'), unit:str='', tol=None, passed=None, **details):
        row = dict(kind=kind, name=name, value=value, unit=unit, tol=tol, passed=passed, details=json.dumps(details) if details else '', run=self.run)
        self.rows.append(row); pd.DataFrame(self.rows).to_csv(self.path, index=False)
        mark = '' if passed is None else ' ok' if passed else ' FAILED'
        print(f"{kind:<7} {name:<58} {value if isinstance(value, str) else f'{value:.4g}':>10} {unit}{mark}", flush=True)
        return row
    def check(self, name:str, err:float, tol:float, **details):
        "A correctness row: passed when `err` is finite and at most `tol`."
        return self.add('check', name, err, 'rel err' if 'unit' not in details else details.pop('unit'), tol, bool(math.isfinite(err) and err <= tol), **details)


def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


def rel_err(a:torch.Tensor, ref:torch.Tensor) -> float:
    "‖a − ref‖ / ‖ref‖ in float64."
    a, ref = a.detach().double().cpu(), ref.detach().double().cpu()
    return ((a - ref).norm() / ref.norm().clamp_min(1e-300)).item()


def timed(fn, device, repeats:int) -> list[float]:
    "Seconds of each of `repeats` calls of `fn` (CUDA events on a GPU, the wall clock on the CPU)."
    out = []
    for _ in range(repeats):
        if device.type == 'cuda':
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record(); fn(); b.record(); b.synchronize(); out.append(a.elapsed_time(b) / 1000)
        else:
            t = time.perf_counter(); fn(); out.append(time.perf_counter() - t)
    return out


# ---------------------------------------------------------------- env and ceilings
def environment(device) -> dict:
    "The machine: GPU, driver, CUDA, cuDNN, torch, torchvision, Python, CPU cores."
    prov = provenance(device)
    env = dict(prov, git=os.environ.get('ALEXNET_GIT_SHA', prov['git']), cpu_cores=os.cpu_count(), platform=platform.platform(), date=time.strftime('%Y-%m-%d', time.gmtime()))
    if device.type == 'cuda':
        p = torch.cuda.get_device_properties(device)
        env.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1), multiprocessors=p.multi_processor_count,
                   compute_capability=f'{p.major}.{p.minor}', cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version())
        try:
            env['driver'] = subprocess.run(['nvidia-smi', '--query-gpu=driver_version', '--format=csv,noheader'],
                                           capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError): env['driver'] = 'unknown'
    return env


def set_tf32(on:bool):
    torch.backends.cuda.matmul.allow_tf32 = on; torch.backends.cudnn.allow_tf32 = on


def matmul_peak(dtype, device, n:int, tf32:bool=False) -> float:
    "TFLOP/s of an n x n x n matrix product on random data (median of 10 after 3 warm-ups)."
    set_tf32(tf32)
    a, b = (torch.randn(n, n, device=device).to(dtype) for _ in range(2))
    for _ in range(3): a @ b
    sync(device)
    return 2 * n**3 / statistics.median(timed(lambda: a @ b, device, 10)) / 1e12


# ---------------------------------------------------------------- correctness
def lrn_reference(x:torch.Tensor, towers:int=2) -> torch.Tensor:
    "The LRN formula per tower (`F.local_response_norm`, α/n per squared term), in float64."
    B, C, H, W = x.shape
    return F.local_response_norm(x.double().reshape(B * towers, C // towers, H, W), 5, 1e-4, 0.75, 2.).reshape(B, C, H, W)


def check_lrn(report:Report, device, quick:bool):
    "Each LRN implementation, forward and backward, against the float64 formula."
    inline = torch.compile(lambda x: local_response_norm(x, towers=2), dynamic=False)  # what a model compile runs
    impls = {'fused': lambda x: local_response_norm(x, towers=2, impl='fused'),
             'band': lambda x: local_response_norm(x, towers=2, impl='band'),
             'torch': lambda x: local_response_norm(x, towers=2, impl='torch'), 'inline (model compile)': inline}
    shapes = [(2, 96, 13, 13)] if quick else [(32, 96, 55, 55), (32, 256, 27, 27)]  # the paper net's LRN1 and LRN2 inputs
    for shape in shapes:
        for dtype, tol in ((torch.float32, 1e-5), (torch.bfloat16, 1e-2)):
            for layout in (torch.contiguous_format, torch.channels_last):
                x = (torch.randn(shape, device=device) * 30).relu().to(dtype).contiguous(memory_format=layout)
                g = torch.randn(shape, device=device).to(dtype).contiguous(memory_format=layout)
                x64 = x.detach().double().requires_grad_()
                y64 = lrn_reference(x64); y64.backward(g.double())
                for name, fn in impls.items():
                    if name.startswith('inline') and (quick or shape != shapes[0] or layout != torch.contiguous_format): continue  # a compile each
                    xi = x.detach().clone().requires_grad_()
                    what = f"LRN {name} {str(dtype)[6:]} {'channels_last' if layout == torch.channels_last else 'contiguous'} {tuple(shape[1:])}"
                    try: y = fn(xi); y.backward(g)
                    except (NotImplementedError, RuntimeError) as e:  # e.g. PyTorch's CPU avg_pool3d has no bf16 kernel
                        report.add('skip', what, f'unsupported here: {str(e)[:120]}'); continue
                    report.check(what + ' forward', rel_err(y, y64), tol, dtype=str(y.dtype))
                    report.check(what + ' backward', rel_err(xi.grad, x64.grad), tol)


def check_towers(report:Report, device, quick:bool):
    "The two-tower net (each half a module of its own, both on this device) against the grouped net: outputs and gradients."
    set_tf32(False)
    torch.manual_seed(0)
    grouped = AlexNet('paper', 10).to(device).eval()
    towers = AlexNet('paper', 10, devices=(device, device)).eval(); towers.load_state_dict(grouped.state_dict())
    x = torch.randn(2 if quick else 16, 3, 224, 224, device=device) * 50
    yg, yt = grouped(x), towers(x)
    report.check('two towers on one device vs grouped: logits (fp32)', rel_err(yt, yg), 1e-5)
    yg.square().sum().backward(); yt.square().sum().backward()
    c1 = towers.features.conv1
    report.check('two towers vs grouped: conv1 weight gradient', rel_err(torch.cat([c1.a.weight.grad, c1.b.weight.grad]),
                                                                        grouped.features.conv1.weight.grad), 1e-5)
    report.check('two towers vs grouped: fc8 weight gradient', rel_err(towers.classifier.fc8.a.weight.grad, grouped.classifier.fc8.weight.grad), 1e-5)


def check_amp(report:Report, device, quick:bool, tmp:Path):
    "Three steps in bf16 and fp16 autocast (PaperSGD, GradScaler for fp16): finite; the scaler's state survives a checkpoint."
    for amp in ('bf16', 'fp16'):
        if amp == 'fp16' and device.type == 'cpu': report.add('skip', 'AMP fp16 step', 'fp16 autocast needs a GPU'); continue
        torch.manual_seed(0)
        config = Config(amp=amp, channels_last=True)
        net = AlexNet('paper', 10).to(device).to(memory_format=torch.channels_last)
        opt = make_optimizer(net, config); sched = make_scheduler(opt, config)
        scaler = torch.amp.GradScaler(device.type, enabled=amp == 'fp16')
        x = (torch.randn(4 if quick else 64, 3, 224, 224, device=device) * 50).contiguous(memory_format=torch.channels_last)
        y = torch.randint(0, 10, (len(x),), device=device)
        losses = []
        for _ in range(3):
            with autocast_context(device, amp): loss = F.cross_entropy(net(x).float(), y)
            opt.zero_grad(set_to_none=True); scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
            losses.append(loss.item())
        finite = all(map(math.isfinite, losses)) and all(torch.isfinite(p).all() for p in net.parameters())
        report.add('check', f'AMP {amp}: 3 steps, loss and weights finite', float(finite), 'bool', 1, finite, losses=losses)
        path = tmp/f'amp-{amp}.pt'
        save_checkpoint(checkpoint_state(net, opt, sched, scaler, config, list('abcdefghij'), 0, 3, 3, 100.), path)
        restored = torch.amp.GradScaler(device.type, enabled=amp == 'fp16')
        state = load_checkpoint(path)['scaler']
        if state: restored.load_state_dict(state)
        same = restored.state_dict() == scaler.state_dict()
        report.add('check', f'AMP {amp}: GradScaler state through a checkpoint', float(same), 'bool', 1, same,
                   scale=scaler.get_scale() if scaler.is_enabled() else None)


def demo_store(quick:bool, tmp:Path, workers:int):
    "The demo store: a tiny one in `tmp` (--quick), else the project's (generated if absent); with its statistics and config."
    if quick:
        config = Config(data_root=str(tmp/'demo'), prepared=str(tmp/'demo-store'), workers=0)
        make_demo_dataset(tmp/'demo', n_train=6, n_val=4)
    else: config = Config(workers=workers)
    store = ensure_prepared(config)
    return config, store, ensure_stats(store)


def jpeg_store(config:Config, tmp:Path, workers:int):
    "The demo data as a JPEG store (what ImageNet-size datasets get), prepared into `tmp`."
    from alexnet.core import resolve_path
    return open_store(prepare('demo', resolve_path(config.data_root), tmp/'demo-jpeg', workers=workers, format='jpeg', quiet=True))


def check_loaders(report:Report, device, quick:bool, config:Config, store, stats, jstore):
    "The eval loader on `device` against its CPU path, and the GPU JPEG path against the CPU one (same draws; decoders differ)."
    cfg = Config(batch_size=8 if quick else 64, workers=config.workers, limit_val=16 if quick else 256)
    for ten in (False, True):
        on_dev = list(make_eval_loader(cfg, store.split('val'), stats, ten_crop=ten, device=device))
        on_cpu = list(make_eval_loader(cfg, store.split('val'), stats, ten_crop=ten))
        diff = max((a.cpu() - b).abs().max().item() for (a, _), (b, _) in zip(on_dev, on_cpu))
        labels = all(torch.equal(ya.cpu(), yb) for (_, ya), (_, yb) in zip(on_dev, on_cpu))
        report.check(f"eval loader, {'ten crops' if ten else 'centre crop'}: {device.type} path vs CPU path (max abs diff)",
                     diff if labels else float('inf'), 1e-4, unit='0-255 units', batches=len(on_dev))
    tcfg = Config(batch_size=8 if quick else 128, workers=config.workers, limit_train=32 if quick else 1024, seed=1)
    split = jstore.split('train')
    on_cpu = make_train_loader(Config(**{**tcfg.to_dict(), 'decode': 'cpu'}), split, stats, device=device)
    on_gpu = make_train_loader(tcfg, split, stats, device=device)  # decode='auto': nvJPEG on a GPU
    where = 'nvJPEG' if on_gpu.decode_on is not None else 'libjpeg-turbo (CPU run: the device path decodes on the CPU)'
    diffs = []
    for b in range(min(4, len(on_cpu))):
        xc, yc = on_cpu.finish(on_cpu.raw_batch(0, b))
        xg, yg = on_gpu.finish(on_gpu.encoded_batch(0, b))  # the GPU path's draw, decoded on the device
        assert torch.equal(yc.cpu(), yg.cpu())
        diffs.append(((xg - xc).abs() * (1 + tcfg.color_noise_std)).flatten().cpu())  # back to 0-255 pixel units (the scale is 1/1.1)
    d = torch.cat(diffs)
    report.check(f'train loader: GPU JPEG path ({where}) vs CPU path, mean abs pixel diff', d.mean().item(), 1.0, unit='0-255 units',
                 max_abs=d.max().item(), within_1=(d <= 1 + 1e-3).float().mean().item(), within_2=(d <= 2 + 1e-3).float().mean().item())
    ev_cpu = make_eval_loader(Config(**{**cfg.to_dict(), 'decode': 'cpu'}), jstore.split('val'), stats, ten_crop=True, device=device)
    ev_gpu = make_eval_loader(cfg, jstore.split('val'), stats, ten_crop=True, device=device)
    d = torch.cat([(ev_gpu.finish(ev_gpu.encoded_batch(b))[0] - ev_cpu.finish(ev_cpu.raw_batch(b))[0]).abs().flatten().cpu()
                   for b in range(min(2, len(ev_cpu)))])
    report.check('eval loader, ten crops: GPU JPEG path vs CPU path, mean abs pixel diff', d.mean().item(), 1.0, unit='0-255 units',
                 max_abs=d.max().item())


# ---------------------------------------------------------------- the training step
def train_step(net:str, opts:set, batch:int, device):
    "A function running one training step (forward, backward, PaperSGD update) of `net` in mode `opts` on fixed random data."
    torch.manual_seed(0)
    layout = torch.channels_last if 'channels_last' in opts else torch.contiguous_format
    model = AlexNet(num_classes=1000, **NETS[net.replace('-no-lrn', '')])
    if net.endswith('-no-lrn'): model.features.lrn1, model.features.lrn2 = torch.nn.Identity(), torch.nn.Identity()
    model = model.to(device).to(memory_format=layout)
    opt = make_optimizer(model, Config())
    run = torch.compile(model) if 'compile' in opts else model
    x = (torch.randn(batch, 3, model.input_size, model.input_size, device=device) * 50).contiguous(memory_format=layout)
    y = torch.randint(0, 1000, (batch,), device=device)
    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled='bf16' in opts):
            loss = F.cross_entropy(run(x).float(), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    return step


def bench_steps(report:Report, device, quick:bool, peaks:dict, deadline:float, modes:list, batches:list, all_nets:list):
    "img/s of each net in each mode and batch size; nets take turns round by round (a change of load hits them alike)."
    macs = {n: int(layer_table(AlexNet(num_classes=1000, **{**NETS[n.replace('-no-lrn', '')], 'lrn': 'band'}))['macs'].sum()) for n in all_nets}  # band: no CPU compile
    per_round, rounds, warmup = (1, 1, 1) if quick else (4, 5, 3)
    torch.backends.cudnn.benchmark = True  # as `fit` on a GPU
    if quick: report.add('skip', 'bf16+channels_last+compile', '--quick: a model compile on the CPU takes minutes')
    for mode in modes:
        opts = set(mode.split('+'))
        set_tf32('tf32' in opts)
        nets = [n for n in all_nets if 'compile' not in opts or n in COMPILED_NETS]
        for batch in batches:
            if time.time() > deadline: report.add('skip', f'{mode} batch {batch}', 'time budget spent'); continue
            steps, t0 = {}, time.time()
            for n in nets:
                try:
                    t1 = time.time(); steps[n] = train_step(n, opts, batch, device); t2 = time.time()
                    for _ in range(warmup): steps[n]()
                    sync(device); print(f"   {n}: built in {t2 - t1:.1f} s, {warmup} warm-up steps in {time.time() - t2:.1f} s", flush=True)
                except Exception as e:  # one net's failure (an op without a kernel for this dtype) does not stop the others
                    steps.pop(n, None); report.add('error', f'{mode} batch {batch} {n}', f'{type(e).__name__}: {str(e)[:300]}', passed=False)
            nets = list(steps)
            times = {n: [] for n in nets}
            for _ in range(rounds):
                for n, s in steps.items():
                    times[n] += [t / per_round for t in timed(lambda: [s() for _ in range(per_round)], device, 1)]
            rate = {n: batch / statistics.median(ts) for n, ts in times.items()}
            for n in nets:
                tflops = 6 * macs[n] * rate[n] / 1e12
                mode_peak = peaks.get('bf16' if 'bf16' in opts else 'tf32' if 'tf32' in opts else 'fp32', float('nan'))
                report.add('step', f'{mode} batch {batch} {n}', rate[n], 'img/s', mode=mode, batch=batch, net=n, tflops=tflops,
                           pct_bf16_peak=100 * tflops / peaks.get('bf16', float('nan')), pct_mode_peak=100 * tflops / mode_peak,
                           ratio_to_torchvision=rate[n] / rate['torchvision'] if 'torchvision' in rate else float('nan'),
                           warmup_s=time.time() - t0 if 'compile' in opts else None)
            print(f"-- {mode} batch {batch}: {time.time() - t0:.1f} s", flush=True)
            del steps
            if device.type == 'cuda': torch.cuda.empty_cache()
    set_tf32(False)


# ---------------------------------------------------------------- kill and resume
def train_cmd(cfg_path:Path, name:str) -> list[str]:
    return [sys.executable, '-m', 'alexnet.train', '--config', str(cfg_path), '--name', name]


def run_fit(cfg_path:Path, name:str, env:dict, kill_at:str|None=None) -> tuple[int, str]:
    "Run training to the end, or until a progress line contains `kill_at` (then SIGKILL); return (exit status, log)."
    p = subprocess.Popen(train_cmd(cfg_path, name), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
    lines = []
    for line in p.stdout:
        lines.append(line)
        if kill_at and kill_at in line: p.send_signal(signal.SIGKILL); break
    lines += p.stdout.readlines() if not kill_at else []
    p.stdout.close()
    return p.wait(timeout=900), ''.join(lines)


def check_resume(report:Report, device, quick:bool, config:Config, tmp:Path, compile:bool=True):
    "An uninterrupted run and a run killed mid-epoch then rerun: their final weights, compared tensor by tensor."
    steps = 4 if quick else 16
    batch = 8 if quick else 64
    run_cfg = dict(config.to_dict(), out_dir=str(tmp/'runs'), epochs=2, batch_size=batch, limit_train=steps * batch, limit_val=2 * batch,
                   log_every=1, ckpt_every=steps // 2, eval_ten_crop=False, device=device.type, workers=config.workers,
                   optimizer='paper', lr=0.01, schedule='constant', deterministic=True,
                   amp='bf16', channels_last=not quick, compile=compile and not quick)
    cfg_path = tmp/'resume.yaml'; cfg_path.write_text(yaml.safe_dump(run_cfg))
    env = os.environ | dict(PYTHONPATH=str(ROOT), ALEXNET_ROOT=str(ROOT), PYTHONUNBUFFERED='1')
    t = time.time(); rc, log_ref = run_fit(cfg_path, 'ref', env); t_ref = time.time() - t
    if rc: report.add('check', 'resume: uninterrupted run', float(rc), 'exit status', 0, False, log=log_ref[-3000:]); return
    kill_at = f'epoch 2/2 step {steps // 2 + 1}/{steps}'
    rc_kill, log_kill = run_fit(cfg_path, 'killed', env, kill_at=kill_at)
    rc2, log_resume = run_fit(cfg_path, 'killed', env)
    resumed = [l for l in log_resume.splitlines() if 'resumed from' in l]
    if rc2 or rc_kill != -signal.SIGKILL or not resumed:
        report.add('check', 'resume: killed run rerun', float(rc2), 'exit status', 0, False, kill_status=rc_kill, log=log_resume[-3000:]); return
    a = torch.load(tmp/'runs'/'ref'/'last.pt', weights_only=True)['model']
    b = torch.load(tmp/'runs'/'killed'/'last.pt', weights_only=True)['model']
    differ = [k for k in a if not torch.equal(a[k], b[k])]
    worst = max([((a[k].double() - b[k].double()).abs().max() / a[k].double().abs().max().clamp_min(1e-30)).item() for k in differ] or [0.])
    report.add('check', f"resume after SIGKILL at '{kill_at}': tensors that differ from the uninterrupted run", float(len(differ)), 'tensors',
               0, not differ, of=len(a), max_rel_diff=worst, resumed=resumed[0].strip(),
               settings=f"bf16, {'channels_last, ' if not quick else ''}{'compile, ' if run_cfg['compile'] else ''}deterministic")
    rates = [json.loads(l) for l in (tmp/'runs'/'ref'/'metrics.jsonl').read_text().splitlines()]
    train = [r for r in rates if r['kind'] == 'train'][2:]  # the first windows include the compile
    if train:
        fit_modes = f"bf16{', channels_last' if not quick else ''}{', compile' if run_cfg['compile'] else ''}"
        report.add('fit', f"fit on the demo data ({fit_modes}, batch {batch}): img/s, median over log windows", statistics.median(r['img_s'] for r in train),
                   'img/s', data_wait=statistics.median(r['data_wait'] for r in train), run_seconds=t_ref)


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument('--out', default='bench/results', help='folder for gpu-<tag>.csv and gpu-<tag>-env.json')
    ap.add_argument('--quick', action='store_true', help='tiny sizes on the CPU: checks the script (make test)')
    ap.add_argument('--sections', default='env,peak,checks,steps,resume', help='comma-separated subset of env,peak,checks,steps,resume')
    ap.add_argument('--budget', type=float, default=420, help='seconds; later step benchmarks are skipped after it (rows say so)')
    ap.add_argument('--workers', type=int, default=min(16, os.cpu_count() or 1), help='loader and preparation workers')
    ap.add_argument('--modes', default=','.join(MODES), help=f"comma-separated step-benchmark modes, from {', '.join(MODES)}")
    ap.add_argument('--batches', default='128,256', help='comma-separated step-benchmark batch sizes')
    ap.add_argument('--nets', default=','.join(NETS), help=f"comma-separated step-benchmark nets, from {', '.join(NETS)}, {', '.join(ABLATIONS)}")
    ap.add_argument('--resume-compile', type=int, default=1, help='1: the resume runs compile the model (0: eager)')
    ap.add_argument('--append', action='store_true', help="keep the CSV's earlier rows (a second run of other sections)")
    a = ap.parse_args()
    modes = ['fp32', 'bf16+channels_last'] if a.quick else [m for m in a.modes.split(',') if m]
    if set(modes) - set(MODES): ap.error(f"--modes: unknown {', '.join(sorted(set(modes) - set(MODES)))}; choose from {', '.join(MODES)}")
    batches = [2] if a.quick else [int(b) for b in a.batches.split(',')]
    nets = a.nets.split(',')
    if set(nets) - set(NETS) - set(ABLATIONS): ap.error(f"--nets: unknown {', '.join(sorted(set(nets) - set(NETS) - set(ABLATIONS)))}")
    sections = set(a.sections.split(','))
    bad = sections - {'env', 'peak', 'checks', 'steps', 'resume'}
    if bad: ap.error(f"--sections: unknown {', '.join(sorted(bad))}; choose from env, peak, checks, steps, resume")
    deadline = time.time() + a.budget
    reuse_freed_memory()
    device = torch.device('cuda' if torch.cuda.is_available() and not a.quick else 'cpu')
    if device.type == 'cpu' and not a.quick: ap.error('no CUDA device: run with --quick (the CPU check of the script) or on a GPU machine')
    tag = 'cpu-quick' if a.quick else torch.cuda.get_device_name(device).split()[-1].lower()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    report = Report(out/f'gpu-{tag}.csv', a.append)
    workers = 0 if a.quick else a.workers
    with tempfile.TemporaryDirectory(prefix='alexnet-gpu-check-') as tmp:
        tmp = Path(tmp)
        def section(name, fn, *args):
            if name not in sections: return None
            t = time.time()
            try: return fn(*args)
            except Exception as e:
                traceback.print_exc()
                report.add('error', name, f'{type(e).__name__}: {str(e)[:300]}', passed=False)
            finally: print(f"-- {fn.__name__}: {time.time() - t:.1f} s", flush=True)
        env = section('env', environment, device)
        if env: (out/f"gpu-{tag}-env{'-' + str(len({r['run'] for r in report.rows}) + 1) if a.append else ''}.json").write_text(json.dumps(env, indent=1)); print(json.dumps(env))
        peaks = {}
        def measure_peaks():
            n = 512 if a.quick else 8192
            for name, dtype, tf32 in (('bf16', torch.bfloat16, False), ('tf32', torch.float32, True), ('fp32', torch.float32, False)):
                peaks[name] = matmul_peak(dtype, device, n, tf32)
                report.add('peak', f'{name} matmul {n}^3', peaks[name], 'TFLOP/s')
            set_tf32(False)
        section('peak', measure_peaks)
        set_tf32(False)
        section('checks', check_lrn, report, device, a.quick)
        section('checks', check_towers, report, device, a.quick)
        section('checks', check_amp, report, device, a.quick, tmp)
        data = section('checks', demo_store, a.quick, tmp, workers) if sections & {'checks', 'resume'} else None
        if data is None and 'resume' in sections: data = demo_store(a.quick, tmp, workers)
        if data and 'checks' in sections:
            config, store, stats = data
            jstore = section('checks', jpeg_store, config, tmp, max(1, workers))
            if jstore: section('checks', check_loaders, report, device, a.quick, config, store, stats, jstore)
        if data: section('resume', check_resume, report, device, a.quick, data[0], tmp, bool(a.resume_compile))
        section('steps', bench_steps, report, device, a.quick, peaks, deadline, modes, batches, nets)
    rows = pd.DataFrame(report.rows)
    checks = rows[rows.kind == 'check']
    print(f"\nsummary ({tag}): {int(checks.passed.eq(True).sum())} of {len(checks)} checks passed; errors: {int((rows.kind == 'error').sum())}; "
          f"wrote OUT/{report.path.name}")
    steps = rows[rows.kind == 'step']
    for _, r in steps.iterrows():
        if isinstance(r.value, float) and r.run == report.run:
            d = json.loads(r.details)
            print(f"  {d['mode']:<28} b{d['batch']:<4} {d['net']:<16} {r.value:9.0f} img/s {d['tflops']:7.1f} TFLOP/s "
                  f"{d['pct_bf16_peak']:5.1f}% of bf16 peak  x{d['ratio_to_torchvision']:.2f} torchvision")
    sys.exit(0 if checks.passed.eq(True).all() and not (rows.kind == 'error').any() else 1)


if __name__ == '__main__':
    main()
