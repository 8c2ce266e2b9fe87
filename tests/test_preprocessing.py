"""End-to-end checks of alexnet.preprocessing that need real processes: kill -9 at random moments and resume, damage repaired, the CLI, demo determinism."""
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alexnet.demo import DEMO_CLASSES, DEMO_TROUBLE, make_demo_dataset
from alexnet.preprocessing import IncompleteStore, open_store, prepare

ROOT = Path(__file__).resolve().parents[1]


def tree_digest(root: Path, skip=()) -> dict:
    "relative path -> sha256 of every file under root."
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file() and p.name not in skip}


def cli(*args, **kw):
    return subprocess.Popen([sys.executable, '-m', 'alexnet.preprocessing', *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw)


@pytest.fixture(scope='module')
def demo(module_tmp):
    return make_demo_dataset(module_tmp/'demo', n_train=12, n_val=4)


def test_demo_is_deterministic_and_has_every_trouble_file(demo, tmp_path):
    again = make_demo_dataset(tmp_path/'again', n_train=12, n_val=4)
    assert tree_digest(demo) == tree_digest(again)
    assert tree_digest(make_demo_dataset(tmp_path/'other', seed=1, n_train=12, n_val=4)) != tree_digest(demo)
    firsts = [demo/'train'/w/f'{w}_1.JPEG' for w, *_ in DEMO_CLASSES[:len(DEMO_TROUBLE)]]
    kinds = dict(zip(DEMO_TROUBLE, firsts))
    assert Image.open(kinds['grayscale']).mode == 'L' and Image.open(kinds['cmyk']).mode == 'CMYK'
    assert Image.open(kinds['png']).format == 'PNG' and kinds['empty'].stat().st_size == 0
    with pytest.raises(OSError): Image.open(kinds['truncated']).load()
    assert len(list((demo/'val').glob('ILSVRC2012_val_*.JPEG'))) == 40
    gt = (demo/'ILSVRC2012_devkit_t12'/'data'/'ILSVRC2012_validation_ground_truth.txt').read_text().split()
    assert len(gt) == 40 and (demo/'ILSVRC2012_devkit_t12'/'data'/'meta.mat').exists()


def kill_when(args, trigger, delay:float=0.0):
    "Start the prepare CLI and SIGKILL its process group `delay` s after `trigger()` holds (polled every ms)."
    p = cli(*args); t0 = time.time()
    while not trigger():
        assert p.poll() is None, p.stdout.read()
        assert time.time() - t0 < 120
        time.sleep(0.001)
    time.sleep(delay); os.killpg(p.pid, signal.SIGKILL); p.wait()


def test_sigkill_at_random_moments_then_rerun_gives_an_identical_store(demo, tmp_path):
    """SIGKILL prepare at random moments (seeded: after a random number of shards, plus a random delay) and once while a
    shard is half-written, rerunning after each: the store is byte-identical to an uninterrupted one. Then damage: a
    truncated shard is rewritten by the same command, a flipped byte by `--verify`."""
    ref = prepare('demo', demo, tmp_path/'ref', workers=1, shard_size=8, quiet=True)
    out = tmp_path/'killed'; args = ('--source', 'demo', '--root', demo, '--out', out, '--workers', 2, '--shard-size', 8)
    rng = random.Random(2012)
    shards = lambda: len(list(out.glob('*/0*.json')))
    for n in (rng.randint(1, 5), rng.randint(9, 14)):
        kill_when(args, lambda: shards() >= n, rng.uniform(0, 0.02))  # into the next shard (a shard takes longer than 20 ms)
        assert not (out/'manifest.json').exists()
    stale = {f.stat().st_ino for f in out.glob('*/*.bin.tmp')}
    kill_when(args, lambda: any(f.stat().st_size and f.stat().st_ino not in stale for f in out.glob('*/*.bin.tmp')))  # mid-shard write
    with pytest.raises(IncompleteStore): open_store(out)
    r = cli(*args); log, _ = r.communicate(timeout=300)
    assert r.returncode == 0 and 'img/s' in log and 'ETA' in log, log
    assert tree_digest(out) == tree_digest(ref)
    s = open_store(out)
    assert len(s.split('train')) == 10*12 - 2 and len(s.split('val')) == 40
    with open(out/'train'/'00003.bin', 'r+b') as f: f.truncate(100)  # a partial copy, a full disk
    with pytest.raises(IncompleteStore, match='train/00003.bin: 100 bytes'): open_store(out)
    r = cli(*args); log, _ = r.communicate(timeout=300)
    assert r.returncode == 0 and '1 damaged, rewriting: train/00003.bin' in log, log
    b = bytearray((out/'val'/'00001.bin').read_bytes()); b[7] ^= 1; (out/'val'/'00001.bin').write_bytes(bytes(b))  # bit rot
    r = cli(*args, '--verify'); log, _ = r.communicate(timeout=300)
    assert r.returncode == 0 and 'val/00001.bin: checksum differs' in log, log
    assert tree_digest(out) == tree_digest(ref)
    print("\n3 SIGKILLs (one mid-shard write), 3 survived; a truncated shard and a flipped byte repaired: store byte-identical")


def test_cli_errors_name_the_parameter(tmp_path):
    r = cli('--source', 'imagenet2012', '--root', tmp_path/'missing', '--out', tmp_path/'o'); log, _ = r.communicate(timeout=120)
    assert r.returncode != 0 and "root=" in log and 'does not exist' in log
    r = cli('--source', 'nosuch', '--root', tmp_path, '--out', tmp_path/'o'); log, _ = r.communicate(timeout=120)
    assert r.returncode != 0 and 'invalid choice' in log


def test_workers_do_not_change_the_store(demo, tmp_path):
    a = prepare('demo', demo, tmp_path/'a', workers=1, shard_size=50, quiet=True)
    b = prepare('demo', demo, tmp_path/'b', workers=2, shard_size=50, quiet=True)
    assert tree_digest(a) == tree_digest(b)
    x = open_store(b).split('train').read_many(np.arange(5))
    assert x.shape == (5, 3, 256, 256)
