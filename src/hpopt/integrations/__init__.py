"""hpopt.integrations."""
