"""One cluster's stack: the stack's name is the cluster's name in the fabric (see components/program.py)."""

from pathlib import Path

import pulumi

from components.contract import PROJECT
from components.program import run

outputs = run(Path(pulumi.get_root_directory()), pulumi.get_stack(), pulumi.Config(PROJECT))
for name, value in outputs.items():
    pulumi.export(name, value)
