"""``python -m hpopt.cli``."""

from __future__ import annotations

from hpopt.cli import main

if __name__ == "__main__":
    main()
