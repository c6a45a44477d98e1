"""Internal helpers of ``ferrum.utils.data``, at the paths PyTorch programs import them from
(``torch.utils.data._utils.collate``)."""

from . import collate

__all__ = ["collate"]
