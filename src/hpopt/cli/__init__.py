"""hpopt.cli."""
