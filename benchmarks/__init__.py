"""hpopt's benchmark suite: problems, peer adapters, scoring and timing.

Run it as ``python -m benchmarks --help`` from the repository root (with ``src`` on the path).
Peers need the ``bench`` extra (``pip install -e .[bench]``).
"""
