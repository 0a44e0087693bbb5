from clusterfabric.runner.cli import main

main()
