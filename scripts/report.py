"""`make report`: re-execute the chapters 01 -> 07 (00a-00c, 04a, 05a and 06a-06c in their places) and the front page headless with papermill for one config, in order,
each stage reading what the previous one wrote, then refresh README.md.

    python scripts/report.py --config configs/demo.yaml                 # the committed report
    python scripts/report.py --config configs/imagenet-cluster.yaml --data-root /data/ILSVRC2012

Every executed notebook is written to runs/report-<config name>/. For the default config (the demo)
the outputs are also copied back into nbs/*.ipynb (the cells themselves are untouched), so the
committed chapters carry the figures and tables of the default run. 06_evaluate is the exception: it
evaluates the run named by its `RUN` parameter, and its committed outputs show the report's real-data
run, so its outputs are copied back only when the config's run is that one:

    python scripts/report.py --config configs/imagenette-paper.yaml --only 06_evaluate
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
CHAPTERS = ['00a_images', '00b_demo', '00c_sources', '01_preprocessing', '02_statistics', '03_augmentation', '04_model', '04a_metrics',
            '05a_training', '05_train', '06a_evaluation', '06b_tables', '06c_figures', '06_evaluate', '07_tasks', 'index']
DEFAULT_CONFIG = 'configs/demo.yaml'


def config_dict(config:str) -> dict:
    "The mapping in a config file (relative to the project root)."
    return yaml.safe_load((ROOT/config).read_text()) or {}


def run_name(config:str) -> str:
    "The run name of a config file: its `name` key, else the file's stem."
    return config_dict(config).get('name', Path(config).stem)


def data_note(config:str) -> str:
    "The note 06_evaluate keeps with a run's numbers: its own default for the report's real-data run, else the config's dataset."
    d = default_parameters('06_evaluate')
    if run_name(config) == d['RUN']: return d['NOTE']
    return f"{config_dict(config).get('dataset', 'unknown')} data, {config}"


def default_parameters(chapter:str) -> dict:
    "The defaults in a chapter's papermill `parameters` cell ({} when it has none)."
    nb = nbformat.read(ROOT/'nbs'/f'{chapter}.ipynb', as_version=4)
    ns = {}
    for c in nb.cells:
        if 'parameters' in c.metadata.get('tags', []): exec(c.source, ns)
    return {k: v for k, v in ns.items() if not k.startswith('__')}


def chapter_parameters(chapter:str, config:str, data_root:str|None) -> dict:
    "The papermill parameters of a chapter: 05_train takes the config's fields, 06 the run, the others the config file."
    if not default_parameters(chapter): return {}
    if chapter == '06_evaluate': return {'RUN': run_name(config), 'CHECKPOINT': 'best.pt', 'NOTE': data_note(config)}
    if chapter == '05_train':
        params = config_dict(config)
        params.setdefault('name', run_name(config))
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
    default = a.config == DEFAULT_CONFIG and not a.data_root
    for ch in [c for c in CHAPTERS if c in a.only]:
        write_back = run_name(a.config) == default_parameters(ch)['RUN'] if ch == '06_evaluate' else default
        start = time.time()
        print(f'== {ch}', flush=True)
        pm.execute_notebook(ROOT/'nbs'/f'{ch}.ipynb', out/f'{ch}.ipynb', parameters=chapter_parameters(ch, a.config, a.data_root),
                            cwd=ROOT/'nbs', log_output=True, progress_bar=False)
        if write_back: copy_outputs(out/f'{ch}.ipynb', ROOT/'nbs'/f'{ch}.ipynb')
        print(f'== {ch} done in {time.time() - start:.0f} s -> {out.relative_to(ROOT)}/{ch}.ipynb', flush=True)
    if default or '06_evaluate' in a.only:
        subprocess.run([str(Path(sys.executable).parent/'nbdev_clean')], cwd=ROOT, check=True)
        subprocess.run([sys.executable, str(ROOT/'scripts'/'render.py'), 'readme'], cwd=ROOT, check=True)


if __name__ == '__main__':
    main()
