"""hpopt.visualization."""
