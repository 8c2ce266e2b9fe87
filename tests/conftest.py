"Shared fixtures: temporary folders that are removed as soon as their tests are done (CI's disk is finite: one paper-net checkpoint is 455 MB)."
import shutil

import pytest


@pytest.fixture(scope='module')
def module_tmp(tmp_path_factory, request):
    "A temporary folder for one test module, removed when the module's last test is done (kept if one of them failed)."
    path = tmp_path_factory.mktemp(request.module.__name__.rsplit('.', 1)[-1])
    failed_before = request.session.testsfailed
    yield path
    if request.session.testsfailed == failed_before: shutil.rmtree(path, ignore_errors=True)
