"""`make report`: re-execute the chapters 01 -> 06 and the front page headless with papermill for one config, in order,
each stage reading what the previous one wrote, then refresh README.md.

    python scripts/report.py --config configs/demo.yaml                 # the committed report
    python scripts/report.py --config configs/imagenet-cluster.yaml --data-root /data/ILSVRC2012

Every executed notebook is written to runs/report-<config name>/. For the default config (the demo)
the outputs are also copied back into nbs/*.ipynb (the cells themselves are untouched), so the
committed chapters carry the figures and tables of the default run.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import papermill as pm
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ['01_preprocessing', '02_statistics', '03_augmentation', '04_model', '05_train', '06_evaluate', 'index']
DEFAULT_CONFIG = 'configs/demo.yaml'


def chapter_parameters(chapter:str, config:str, data_root:str|None) -> dict:
    "The papermill parameters of a chapter: 05_train takes the config's fields, the others the config file."
    if chapter == '05_train':
        params = yaml.safe_load((ROOT/config).read_text()) or {}
        params.setdefault('name', Path(config).stem)
    elif chapter == 'index': return {}
    else: params = {'config_file': config}
    if data_root: params['data_root'] = data_root
    return params


def copy_outputs(executed:Path, source:Path):
    "Put the outputs of `executed` into `source` cell by cell (papermill's injected cell skipped)."
    ran = [c for c in nbformat.read(executed, as_version=4).cells if 'injected-parameters' not in c.metadata.get('tags', [])]
    nb = nbformat.read(source, as_version=4)
    assert len(ran) == len(nb.cells), f'{source.name}: executed copy has {len(ran)} cells, source {len(nb.cells)}'
    for c, r in zip(nb.cells, ran):
        if c.cell_type == 'code': c.outputs, c.execution_count = r.outputs, r.execution_count
    nbformat.write(nb, source)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--config', default=DEFAULT_CONFIG, help='YAML config (relative to the project root)')
    ap.add_argument('--data-root', default=None, help='raw dataset folder, overriding the config')
    ap.add_argument('--only', nargs='*', default=CHAPTERS, help='chapters to run (default: all, in order)')
    a = ap.parse_args()
    out = ROOT/'runs'/f'report-{Path(a.config).stem}'; out.mkdir(parents=True, exist_ok=True)
    write_back = a.config == DEFAULT_CONFIG and not a.data_root
    for ch in [c for c in CHAPTERS if c in a.only]:
        start = time.time()
        print(f'== {ch}', flush=True)
        pm.execute_notebook(ROOT/'nbs'/f'{ch}.ipynb', out/f'{ch}.ipynb', parameters=chapter_parameters(ch, a.config, a.data_root),
                            cwd=ROOT/'nbs', log_output=True, progress_bar=False)
        if write_back: copy_outputs(out/f'{ch}.ipynb', ROOT/'nbs'/f'{ch}.ipynb')
        print(f'== {ch} done in {time.time() - start:.0f} s -> {out.relative_to(ROOT)}/{ch}.ipynb', flush=True)
    if write_back:
        subprocess.run([str(Path(sys.executable).parent/'nbdev_clean')], cwd=ROOT, check=True)
        subprocess.run([sys.executable, str(ROOT/'scripts'/'render.py'), 'readme'], cwd=ROOT, check=True)


if __name__ == '__main__':
    main()
