"""The GP's view of a search space: one column per parameter.

Numeric parameters (floats, integers, stepped floats) are encoded by ``Distribution.to_unit``,
so log parameters are already on a log scale. Integers and stepped floats keep the list of
unit-cube points of their grid (when it is of a manageable size) so that proposals can be
snapped onto it and neighbours enumerated. Categorical parameters are encoded by their choice
index; the kernel treats such a column with a Hamming-type distance, never as a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hpopt.space.distributions import Categorical, Distribution, Float, Int

__all__ = ["SpaceEncoding"]

Array = NDArray[np.float64]

#: Above this many values a discrete numeric parameter is treated as continuous and only
#: rounded when decoded.
_MAX_GRID = 4096


class SpaceEncoding:
    """Encode and decode parameter dicts of one search space.

    Parameters
    ----------
    space
        Parameter name to distribution (the order fixes the column order).
    """

    def __init__(self, space: Mapping[str, Distribution]) -> None:
        self.names = list(space)
        self.dists = [space[n] for n in self.names]
        self.is_cat = np.array([isinstance(d, Categorical) for d in self.dists], dtype=bool)
        self.n_choices = np.array(
            [len(d.choices) if isinstance(d, Categorical) else 0 for d in self.dists]
        )
        self.grids: list[Array | None] = [_unit_grid(d) for d in self.dists]
        self.is_num = ~self.is_cat

    @property
    def dim(self) -> int:
        return len(self.names)

    def encode(self, params: Mapping[str, Any]) -> Array:
        """The encoded row of ``params`` (which must hold every parameter)."""
        row = np.empty(self.dim)
        for j, (name, dist) in enumerate(zip(self.names, self.dists)):
            if isinstance(dist, Categorical):
                row[j] = dist.index(params[name])
            else:
                row[j] = dist.to_unit(params[name])
        return row

    def decode(self, row: Array) -> dict[str, Any]:
        """External values for an encoded row."""
        out: dict[str, Any] = {}
        for j, (name, dist) in enumerate(zip(self.names, self.dists)):
            if isinstance(dist, Categorical):
                out[name] = dist.choices[int(row[j])]
            else:
                out[name] = dist.from_unit(float(row[j]))
        return out

    def from_uniform(self, u: Array) -> Array:
        """Map points of the unit cube ``(m, dim)`` to encoded rows (categoricals by bins)."""
        x = np.clip(u, 0.0, 1.0 - 1e-12).copy()
        cat = self.is_cat
        x[:, cat] = np.floor(x[:, cat] * self.n_choices[cat])
        return self.snap(x)

    def snap(self, x: Array) -> Array:
        """Move discrete numeric coordinates onto their grids (in place; returns ``x``)."""
        for j, grid in enumerate(self.grids):
            if grid is not None:
                x[:, j] = grid[_nearest(grid, x[:, j])]
        return x

    def neighbours(self, j: int, value: float) -> list[float]:
        """Alternative values of column ``j`` for a discrete local search."""
        if self.is_cat[j]:
            return [float(c) for c in range(int(self.n_choices[j])) if c != int(value)]
        grid = self.grids[j]
        if grid is None:
            return []
        i = int(_nearest(grid, np.array([value]))[0])
        return [float(grid[k]) for k in (i - 1, i + 1) if 0 <= k < len(grid)]

    @property
    def continuous(self) -> NDArray[np.bool_]:
        """Numeric columns a gradient search may move (floats and relaxed integers)."""
        return self.is_num


def _unit_grid(dist: Distribution) -> Array | None:
    if isinstance(dist, Int):
        if dist.n_values > _MAX_GRID:
            return None
        values = range(dist.low, dist.high + 1, dist.step)
    elif isinstance(dist, Float) and dist.step is not None:
        n = round((dist.high - dist.low) / dist.step) + 1
        if n > _MAX_GRID:
            return None
        values = [dist.low + k * dist.step for k in range(n)]  # type: ignore[assignment]
    else:
        return None
    return np.array([dist.to_unit(v) for v in values])


def _nearest(grid: Array, values: Array) -> NDArray[np.intp]:
    """Index of the nearest grid point (``grid`` is increasing)."""
    i = np.clip(np.searchsorted(grid, values), 1, len(grid) - 1)
    left_closer = values - grid[i - 1] <= grid[i] - values
    return np.where(left_closer, i - 1, i)
