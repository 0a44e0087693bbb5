"""One cluster's stack: the stack's name is the cluster's name in the fabric (see components/program.py)."""

from clusterfabric.components.program import main

main()
