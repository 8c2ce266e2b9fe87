"End-to-end checks of alexnet.evaluate outside the notebook: the quoted-results file, the bench script, the CLI-free API."
import re
import subprocess, sys
from pathlib import Path

import pandas as pd
import torch

from alexnet.evaluate import predict, quoted_results, results_table, topk_errors

ROOT = Path(__file__).resolve().parents[1]


def test_quoted_results_name_their_protocol():
    q = quoted_results(ROOT/'references'/'results_quoted.csv')
    assert q[['model', 'dataset', 'split', 'crops', 'top1_err', 'top5_err', 'source']].notna().all().all()
    paper = q[q.model.str.startswith('Paper')].set_index('model')
    assert (paper.split == 'test').sum() == 2 and (paper.split == 'val').sum() == 1   # Table 1 is test, Table 2 is val (E.16)
    assert {('10', 37.5, 17.0), ('1', 39.0, 18.3), ('10', 40.7, 18.2)} == set(zip(paper.crops, paper.top1_err, paper.top5_err))
    tv = q[q.model.str.startswith('torchvision')].iloc[0]
    assert abs(tv.top1_err - (100 - 56.522)) < 1e-9 and abs(tv.top5_err - (100 - 79.066)) < 1e-9
    assert not re.search(r'/(work|tmp|root|home)/', q.to_csv()), 'machine paths in the quoted table'


def test_predict_ten_crop_is_mean_softmax():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3*4*4, 5))
    x = torch.randn(3, 10, 3, 4, 4); y = torch.tensor([0, 1, 2])
    p, labels = predict(net, [(x, y)], ten_crop=True)
    want = torch.softmax(net(x.flatten(0, 1)), 1).view(3, 10, 5).mean(1)
    assert torch.allclose(p, want.detach(), atol=1e-6) and labels.tolist() == [0, 1, 2]
    assert set(topk_errors(p, labels)) == {'top1', 'top5'}


def test_results_table_keeps_our_rows_first():
    ours = dict(run='r', variant='paper', dataset='imagenette', split='val', epoch=3, note='n',
                protocols=dict(center=dict(crops=1, top1=30.0, top5=5.0, n=10), ten_crop=dict(crops=10, top1=28.0, top5=4.0, n=10)))
    t = results_table([(ours, 'results/r/results.json')], quoted_results(ROOT/'references'/'results_quoted.csv'))
    assert t.iloc[:2].crops.tolist() == ['1', '10'] and t.iloc[0].model.startswith('this replication')


def test_bench_prints_ratio():
    out = subprocess.run([sys.executable, str(ROOT/'bench'/'bench_evaluate.py'), '--images', '2', '--batch', '10', '--repeats', '1', '--variant', 'torchvision'],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'ten-crop / centre-crop time ratio' in out.stdout
