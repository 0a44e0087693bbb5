"""Embedding the fabric in your own Python: preview, then deploy, and read the typed results.

    .venv/bin/python examples/embed_fabric.py [PROJECT_DIR]

PROJECT_DIR is a checkout of this project (default: this one); its fabric is in
config/. Progress arrives as events while the stacks run, two at a time.
"""

import sys
from pathlib import Path

from clusterfabric import Event, Fabric

project = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent


def show(event: Event) -> None:
    if event.kind in ("started", "finished"):
        print(f"  [{event.stack}] {event.kind} {event.message}")


fabric = Fabric("config", project_dir=project, parallel=2, on_event=show)
clusterlink = [c.name for c in fabric.load().spec.clusters if c.dataplane == "clusterlink"]

print("preview:")
preview = fabric.preview(clusterlink)
print("up:")
result = fabric.up(clusterlink)
for stack in result.stacks:
    print(f"{stack.stack}: {stack.result}, {stack.changes.get('create', 0)} created in {stack.duration:.1f}s")
sys.exit(0 if preview.ok and result.ok else 1)
