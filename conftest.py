"""Settings for the whole test suite, which runs in parallel workers (pytest-xdist).

- Each worker gets an equal share of the CPU cores for torch (and, through ``OMP_NUM_THREADS``,
  for every ``voxcore`` process a test starts): two workers each running torch on all cores
  would fight over them and run slower than one.
- Tests go to workers a whole file at a time, so a module's fixture (a small trained run, a
  built dataset) is made once, not once per worker; the files of a folder in
  ``SHARED_FOLDERS`` go to one worker together, to share a costly session fixture.
"""

from __future__ import annotations

import os
import sys
from typing import Any

_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))

if _WORKERS > 1:
    _THREADS = max(1, (os.cpu_count() or 1) // _WORKERS)
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, str(_THREADS))
    if "torch" in sys.modules:  # torch read the variables before this file ran
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

# The quickstart's and the demo's tests share one small trained quickstart (a minute to make).
SHARED_FOLDERS = ("plugins/apps/",)


def pytest_xdist_make_scheduler(config: Any, log: Any) -> Any:
    """Hand tests out by file (or shared folder); xdist's own ``loadgroup`` marks no longer
    take effect under pytest 9, which stopped reading the node ids xdist rewrites."""
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return next((folder for folder in SHARED_FOLDERS if path.startswith(folder)), path)

    return ByFile(config, log)
