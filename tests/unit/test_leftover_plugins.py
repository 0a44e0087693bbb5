"""The plugin processes a killed run leaves behind, which the next run names (clusterfabric/runner/processes.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from clusterfabric.runner.processes import leftover_plugins
from clusterfabric.toolchain import TOOLS
from tests.leftover_processes import pointing_into, stop

DYNAMIC_PROVIDER = TOOLS / "bin" / "pulumi-resource-pulumi-python"


def test_the_dynamic_provider_of_a_killed_run_is_named_its_script_and_the_python_child_serving_it(tmp_path: Path):
    env = {**os.environ, "PULUMI_PYTHON_CMD": sys.executable}
    env.pop("PULUMI_RUNTIME_VIRTUALENV", None)
    # Started in the project's directory as the engine starts it, under a shell that ends at once as a killed CLI
    # would: the provider's script and its child are left with no CLI above them.
    subprocess.run(["sh", "-c", '"$0" 127.0.0.1:1 >/dev/null 2>&1 &', str(DYNAMIC_PROVIDER)], cwd=tmp_path, env=env,
                   check=True)
    try:
        deadline = time.monotonic() + 30
        while len(left := leftover_plugins(tmp_path)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # the script starts its child
        assert sorted(p.command for p in left) == sorted([f"/bin/sh {DYNAMIC_PROVIDER} 127.0.0.1:1",
                                                          f"{sys.executable} -u -m pulumi.dynamic 127.0.0.1:1"])
    finally:
        stop(pointing_into(tmp_path))
