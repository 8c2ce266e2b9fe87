"""End-to-end checks of alexnet.preprocessing that need real processes: kill -9 and resume, the CLI, demo determinism."""
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alexnet.preprocessing import (DEMO_CLASSES, DEMO_TROUBLE, IncompleteStore, make_demo_dataset, open_store, prepare)

ROOT = Path(__file__).resolve().parents[1]


def tree_digest(root: Path, skip=()) -> dict:
    "relative path -> sha256 of every file under root."
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file() and p.name not in skip}


def cli(*args, **kw):
    return subprocess.Popen([sys.executable, '-m', 'alexnet.preprocessing', *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw)


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp('raw')/'demo', n_train=12, n_val=4)


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


@pytest.mark.parametrize('kill_after_shards', [1, 6])
def test_kill9_then_rerun_gives_an_identical_store(demo, tmp_path, kill_after_shards):
    ref = prepare('demo', demo, tmp_path/'ref', workers=1, shard_size=8, quiet=True)
    out = tmp_path/'killed'
    p = cli('--source', 'demo', '--root', demo, '--out', out, '--workers', 2, '--shard-size', 8)
    t0 = time.time()
    while len(list(out.glob('*/0*.json'))) < kill_after_shards:
        assert p.poll() is None, p.stdout.read()
        assert time.time() - t0 < 120
        time.sleep(0.005)
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    assert not (out/'manifest.json').exists()
    with pytest.raises(IncompleteStore): open_store(out)
    r = cli('--source', 'demo', '--root', demo, '--out', out, '--workers', 2, '--shard-size', 8)
    log, _ = r.communicate(timeout=300)
    assert r.returncode == 0, log
    assert 'img/s' in log and 'ETA' in log
    assert tree_digest(out) == tree_digest(ref)
    s = open_store(out)
    assert len(s.split('train')) == 10*12 - 2 and len(s.split('val')) == 40
    assert s.manifest['checksum'] == open_store(ref).manifest['checksum']


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
