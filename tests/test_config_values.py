"""Every `Config` field walked with bad values (wrong type, negative, zero where it matters, huge, empty) through both ways a
user gives parameters: the CLI (`python -m alexnet.train --field value`) and papermill (`-p field value`, which sets the
notebook's parameters cell, read by `load_config(**given(params))`). Each must end in one line that names the field: a
`ConfigError`, or argparse's usage error for a value of the wrong type, never another exception (a traceback)."""
import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import pytest

from alexnet.core import BOUNDS, CHOICES, PATH_FIELDS, Config, ConfigError, given, load_config
from alexnet.train import parse_config

ROOT = Path(__file__).resolve().parents[1]
SPECIAL = dict(name=['a/b', '..', ''], task=['nosuch'], milestones=['x', '0,30'], crop=[300], upsample_to=[100], lr=[0, 0.0, -0.01])


def bad_values(f:dataclasses.Field) -> list:
    "Values of the right kind but outside what `f` allows, and values of the wrong type (as papermill would pass them)."
    t = f.type if isinstance(f.type, str) else f.type.__name__
    out = list(SPECIAL.get(f.name, []))
    lo, hi = BOUNDS.get(f.name, (None, None))
    if t in ('int', 'float'):
        if lo is not None: out.append(lo - 1)
        if hi is not None: out += [hi + 1, hi * 10**6 if hi else 10**9]
        out.append('abc')
        if t == 'float': out += [math.nan, math.inf]
    elif t == 'bool': out += ['maybe', 2]
    else:
        out.append(5)
        if f.name in CHOICES: out += ['nosuch', '']
        if f.name in PATH_FIELDS: out.append('')
    return out


TYPES = {f.name: f.type if isinstance(f.type, str) else f.type.__name__ for f in dataclasses.fields(Config)}
CASES = [(f.name, v) for f in dataclasses.fields(Config) for v in bad_values(f)]


def named_error(call, field:str, capsys) -> bool:
    "Whether `call()` fails with one line naming `field` (a ConfigError, or argparse's error for the flag)."
    try: call()
    except ConfigError as e: return field in str(e) and '\n' not in str(e)
    except SystemExit as e:  # argparse: usage line, then `error: argument --field: invalid int value: 'abc'`
        err = capsys.readouterr().err
        return e.code == 2 and f'argument --{field}' in err and 'Traceback' not in err
    return False  # accepted: not an error at all


def test_every_field_every_bad_value_gives_a_named_error(capsys):
    assert set(TYPES) == {n for n, _ in CASES}, 'a field without bad values to try'
    on_cli = [(n, v) for n, v in CASES if not (TYPES[n] == 'str' and not isinstance(v, str))]  # a flag's value is text: `--name 5` is the name '5'
    cli = [(n, v) for n, v in on_cli if not named_error(lambda: parse_config([f'--{n}', str(v)]), n, capsys)]
    nb = [(n, v) for n, v in CASES if not named_error(lambda: load_config(None, **given({n: v})), n, capsys)]
    tried = len(on_cli) + len(CASES)
    print(f"\n{len(CASES)} bad values over {len(TYPES)} fields; {tried} tries by CLI and papermill, {tried - len(cli) - len(nb)} named errors")
    assert not cli, f'CLI accepted or crashed on: {cli}'
    assert not nb, f'papermill route accepted or crashed on: {nb}'


@pytest.mark.parametrize('flag, value, message', [
    ('--workers', '-3', 'workers=-3 is out of range: it must be between 0 and 256'),
    ('--input_convention', '227', "crop=224 does not fit variant='paper' with input_convention='227'"),
])
def test_the_cli_prints_one_line_and_exits_1(flag, value, message):
    "The process route, for real: one line on stderr, exit status 1, no traceback (the in-process walk above covers every field)."
    p = subprocess.run([sys.executable, '-m', 'alexnet.train', flag, value], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and p.stderr.count('\n') == 1 and message in p.stderr and 'Traceback' not in p.stderr, p.stderr
