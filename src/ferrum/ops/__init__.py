"""Primitive ops by family. Importing this package attaches every op to ``Tensor``."""

from . import elementwise, convert, inplace, reduce, shape, index, linalg, softmax, activation  # noqa: F401
