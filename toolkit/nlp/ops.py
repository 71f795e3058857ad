"""The entity model's matrix products through numpy's BLAS, on one thread.

thinc's CPU ops multiply with its bundled BLIS, which on this kind of machine
runs the model's products (a few thousand token rows by 48-192 columns) at a
third of the speed of the OpenBLAS numpy ships. `OneThreadBlasOps` sends them
to numpy instead, with BLAS held to one thread during each product: the
toolkit runs in parallel by processes, and a second BLAS thread per process
only spins on a shared core. The products differ from BLIS's in the last bits
of a float at most; `scripts/compare_tags.py` checks that no tag changes.
threadpoolctl comes with scikit-learn, which scispaCy requires.
"""

from __future__ import annotations

from thinc.api import NumpyOps
from threadpoolctl import ThreadpoolController

_CONTROLLER = ThreadpoolController()


class OneThreadBlasOps(NumpyOps):
    """thinc's numpy ops with `gemm` done by numpy's BLAS on one thread."""

    def __init__(self) -> None:
        super().__init__(use_blis=False)

    def gemm(self, x, y, *, out=None, trans1: bool = False, trans2: bool = False):
        """`x @ y` (either transposed), into `out` when given."""
        with _CONTROLLER.limit(limits=1, user_api="blas"):
            return super().gemm(x, y, out=out, trans1=trans1, trans2=trans2)


def use_numpy_blas(nlp) -> None:
    """Give every layer of the pipeline's trained components `OneThreadBlasOps`."""
    ops = OneThreadBlasOps()
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is not None and hasattr(model, "walk"):
            for layer in model.walk():
                layer.ops = ops
