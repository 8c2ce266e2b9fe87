"End-to-end checks of alexnet.evaluate and alexnet.tables outside the notebooks: the quoted-results file, the bench script, the API and the CLI."
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from sklearn.metrics import average_precision_score, f1_score

from alexnet.core import Config, save_checkpoint, task_defaults
from alexnet.evaluate import evaluate_checkpoint
from alexnet.metrics import macro_f1, mean_average_precision, predict, topk_errors
from alexnet.model import build_model
from alexnet.preprocessing import ensure_prepared
from alexnet.sources import write_source_fixture
from alexnet.tables import TABLE_COLUMNS, quoted_results, results_table, run_rows

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


def test_macro_f1_by_hand_and_against_sklearn():
    # labels 0 0 1 1, predictions 0 1 1 1: F1 of class 0 = 2/3, of class 1 = 4/5
    assert macro_f1(torch.tensor([0, 1, 1, 1]), torch.tensor([0, 0, 1, 1])) == pytest.approx(100 * (2/3 + 4/5) / 2)
    g = torch.Generator().manual_seed(1)
    s, y = torch.randn(60, 8, generator=g), torch.randint(0, 8, (60,), generator=g)
    assert macro_f1(s, y) == pytest.approx(100 * f1_score(y.numpy(), s.argmax(1).numpy(), average='macro'))
    # a class never true is not averaged over (only predicted): sklearn restricted to the classes present
    y2 = torch.tensor([0, 0, 1, 1]); p2 = torch.tensor([0, 2, 1, 1])
    assert macro_f1(p2, y2) == pytest.approx(100 * f1_score(y2, p2, labels=[0, 1], average='macro'))


def test_map_by_hand_and_against_sklearn():
    # one class ranked + - +: AP = (1 + 2/3) / 2
    assert mean_average_precision(torch.tensor([[.9], [.5], [.1]]), torch.tensor([[1], [0], [1]])) == pytest.approx(100 * (1 + 2/3) / 2)
    g = torch.Generator().manual_seed(2)
    s, t = torch.randn(50, 20, generator=g), torch.randint(0, 2, (50, 20), generator=g)
    t[:, 3] = 0  # a class without positives is left out of the mean
    keep = [c for c in range(20) if c != 3]
    assert mean_average_precision(s, t) == pytest.approx(100 * average_precision_score(t[:, keep].numpy(), s[:, keep].numpy(), average='macro'))
    assert mean_average_precision(s.sigmoid(), t) == pytest.approx(mean_average_precision(s, t))


def test_multilabel_ten_crop_averages_sigmoids():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3*4*4, 5))
    x = torch.randn(3, 10, 3, 4, 4); y = torch.tensor([[1, 0, 0, 1, 0], [0, 1, 0, 0, 0], [0, 0, 1, 1, 1]], dtype=torch.float32)
    p, t = predict(net, [(x, y)], ten_crop=True)
    assert torch.allclose(p, torch.sigmoid(net(x.flatten(0, 1))).view(3, 10, 5).mean(1).detach(), atol=1e-6)
    assert torch.equal(t, y)


def test_committed_results_still_tabulate():
    "results.json files written before task/multilabel/macro_f1 existed load into the tables (read only, never rewritten)."
    files = sorted((ROOT/'results').glob('*/results.json'))
    runs = [(json.loads(f.read_text()), str(f.relative_to(ROOT))) for f in files]
    for r, _ in runs:
        rows = run_rows(r)
        assert rows.task.tolist() == [r.get('task', '')] * len(r['protocols'])
        assert rows.top1_err.notna().all() or r.get('multilabel')
    t = results_table(runs, quoted_results(ROOT/'references'/'results_quoted.csv'))
    assert list(t.columns) == TABLE_COLUMNS and len(t) == sum(len(r['protocols']) for r, _ in runs) + len(quoted_results(ROOT/'references'/'results_quoted.csv'))


@pytest.mark.parametrize('task, ten_crop', [('mnist', True), ('cifar10-upsample', False), ('tiny-imagenet', False), ('voc2012', True)])
def test_task_checkpoints_evaluate(tmp_path, task, ten_crop):
    "A checkpoint of each kind of task (small variant, upsampling, 64x64, multi-label) is scored from its fixture in the real format."
    cfg = Config.from_dict({**task_defaults(task), 'data_root': str(tmp_path/'raw'), 'prepared': str(tmp_path/'store'),
                            'workers': 0, 'batch_size': 20, 'device': 'cpu'})
    write_source_fixture(cfg.dataset, tmp_path/'raw', n_train=6, n_val=6)
    store = ensure_prepared(cfg)
    torch.manual_seed(0); net = build_model(cfg, len(store.classes))
    save_checkpoint(dict(model=net.state_dict(), config=cfg.to_dict(), classes=store.classes, epoch=2, batch=0), tmp_path/'run'/'last.pt')
    r = evaluate_checkpoint(tmp_path/'run'/'last.pt', ten_crop=ten_crop, out=tmp_path/'run'/'results.json')
    saved = json.loads((tmp_path/'run'/'results.json').read_text())
    assert json.loads(json.dumps(r, default=float)) == saved  # the file holds what the call returned
    assert (saved['task'], saved['multilabel'], saved['variant']) == (task, cfg.dataset == 'voc2012', cfg.variant)
    assert set(saved['protocols']) == ({'center', 'ten_crop'} if ten_crop else {'center'})
    for p in saved['protocols'].values():
        assert p['n'] == len(store.split('val'))
        if saved['multilabel']: assert p['top1'] is None and 0 <= p['mAP'] <= 100 and 'macro_f1' not in p
        else: assert 0 <= p['top1'] <= 100 and 0 <= p['macro_f1'] <= 100 and 'mAP' not in p
    rows = run_rows(saved, 'results.json')
    assert rows.task.unique().tolist() == [task] and rows[['mAP'] if saved['multilabel'] else ['top1_err', 'macro_f1']].notna().all().all()


def test_evaluate_cli_help_and_missing_checkpoint(tmp_path):
    "`python -m alexnet.evaluate`: --help shows the parameters' meanings; a missing checkpoint is one line and exit status 1."
    run = lambda *a: subprocess.run([sys.executable, '-m', 'alexnet.evaluate', *map(str, a)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    h = run('--help')
    assert h.returncode == 0 and 'which split of the store to score' in h.stdout and '--crops' in h.stdout, h.stdout + h.stderr
    r = run(tmp_path/'nosuch.pt')
    assert r.returncode == 1 and r.stderr.strip() == f"error: checkpoint nosuch.pt not found in {tmp_path.name}/", r.stderr
