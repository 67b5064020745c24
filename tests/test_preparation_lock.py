"""Two processes preparing the same artefact at once: one prepares, the other waits and
reuses it (the quickstart starts its two trainings together, and both need the judge)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys, time
from pathlib import Path
from voxcore.preparation import ensure_prepared

class Slow:
    description = "slow artefact"
    def cache_folder(self):
        return Path(sys.argv[1]) / "artefact"
    def prepare(self, folder):
        with open(Path(sys.argv[1]) / "calls.txt", "a") as calls:
            calls.write(sys.argv[2] + "\\n")
        time.sleep(1.5)
        (folder / "weights.txt").write_text("trained by " + sys.argv[2])
        return {"by": sys.argv[2]}

done = ensure_prepared(Slow())
print("reused" if done.reused else "prepared", done.figures["by"])
"""


def test_a_second_process_waits_for_the_first_and_reuses_its_artefact(tmp_path: Path) -> None:
    script = tmp_path / "prepare.py"
    script.write_text(SCRIPT)
    started = [subprocess.Popen([sys.executable, str(script), str(tmp_path), name],
                                stdout=subprocess.PIPE, text=True) for name in ("a", "b")]
    outputs = sorted(process.communicate(timeout=120)[0].strip() for process in started)
    assert all(process.returncode == 0 for process in started)
    calls = (tmp_path / "calls.txt").read_text().split()
    assert len(calls) == 1, f"prepared {len(calls)} times: {calls}"
    assert outputs == [f"prepared {calls[0]}", f"reused {calls[0]}"]
    marker = json.loads((tmp_path / "artefact" / "voxcore-prepared.json").read_text())
    assert marker["figures"] == {"by": calls[0]}
