"""The ONNX exporter's exceptions, under torch.onnx.errors' names and hierarchy (both are
RuntimeErrors, so ``except RuntimeError`` around an export keeps working)."""

from __future__ import annotations

__all__ = ["OnnxExporterError", "OnnxExporterWarning", "UnsupportedOperatorError"]


class OnnxExporterError(RuntimeError):
    """An export failed: the model cannot be expressed in ONNX as asked."""


class UnsupportedOperatorError(OnnxExporterError):
    """The traced forward ran an operator (or an operator with arguments) that has no ONNX mapping;
    ``name`` is the operator (``"cumsum"``, ``"nn.LSTM(proj_size=2)"``, ``"CumsumBackward0"``)."""

    def __init__(self, name: str, detail: str = "") -> None:
        self.name = name
        msg = f"Exporting the operator '{name}' to ONNX is not supported"
        super().__init__(msg + (f": {detail}" if detail else "") + ".")


class OnnxExporterWarning(UserWarning):
    """The export succeeded but the graph may not do what the eager model does for other inputs
    (a traced value was turned into a Python value and frozen)."""
