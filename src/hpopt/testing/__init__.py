"""hpopt.testing."""
