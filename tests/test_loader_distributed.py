"""Statistics and loaders under a real 2-process torch.distributed (gloo) group launched by torchrun."""
import json
import os
import signal
import subprocess
import sys
import textwrap


WORKER = textwrap.dedent('''
    import json, sys, numpy as np, torch, torch.distributed as tdist
    from alexnet.core import Config, dist_env
    from alexnet.statistics import compute_stats, FLUSH_EVERY
    from alexnet.augmentation import make_train_loader, make_eval_loader
    from alexnet.preprocessing import synthetic_split

    tdist.init_process_group('gloo')
    env = dist_env()
    split = synthetic_split(FLUSH_EVERY + 21, classes=FLUSH_EVERY + 21)  # label = image index
    shared = compute_stats(split)                      # sharded over the 2 ranks + all-reduced
    alone = compute_stats(split, distributed=False)    # the whole pass in this process
    cfg = Config(batch_size=8, workers=1, seed=3, limit_val=11)
    tl = make_train_loader(cfg, split, shared, env)
    seen = [int(i) for _, y in tl.iter_epoch(0) for i in y]
    ev = [int(i) for _, y in make_eval_loader(cfg, split, shared, env) for i in y]
    out = dict(rank=env.rank, same_stats=bool(torch.equal(shared.sums.outer_sum, alone.sums.outer_sum)
                                                and torch.equal(shared.mean_image, alone.mean_image)),
               count=shared.count, steps=len(tl), seen=seen, eval=ev)
    open(sys.argv[1] + f'.{env.rank}', 'w').write(json.dumps(out))
    tdist.destroy_process_group()
''')


def test_two_ranks(tmp_path):
    script = tmp_path/'worker.py'; script.write_text(WORKER)
    res = tmp_path/'res'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', str(script), str(res)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try: _, err = p.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL); raise
    assert p.returncode == 0, err[-3000:]
    r0, r1 = (json.loads((tmp_path/f'res.{r}').read_text()) for r in (0, 1))
    n = 256 + 21
    for r in (r0, r1):
        assert r['same_stats'] and r['count'] == n  # all-reduced sums == one process's sums, exactly
        assert r['steps'] == (n // 2) // 4  # per-rank batch 8 // 2 = 4, drop_last
    assert not set(r0['seen']) & set(r1['seen'])  # ranks see disjoint images in an epoch
    assert len(r0['seen']) == len(r1['seen']) == r0['steps'] * 4
    assert sorted(r0['eval'] + r1['eval']) == [i * n // 11 for i in range(11)]  # eval shards (limit_val=11): each image once, no padding
