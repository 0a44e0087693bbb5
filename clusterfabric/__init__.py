"""clusterfabric: run a whole fabric of cluster stacks (Automation API layer and CLI)."""
