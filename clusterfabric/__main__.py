from clusterfabric.cli import main

main()
