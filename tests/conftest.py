"""What every test session has: the check that nothing it started outlives it (tests/leftover_processes.py)."""

pytest_plugins = ["tests.leftover_processes"]
