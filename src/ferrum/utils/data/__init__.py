"""``ferrum.utils.data``: datasets, samplers, collation and the DataLoader (PyTorch's
``torch.utils.data`` API)."""

from ._collate import default_collate, default_convert
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
           "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "default_collate",
           "default_convert", "get_worker_info", "random_split"]

# The DataLoader lives in .dataloader (worker processes and all); it is imported on first use so
# this package imports, and its datasets and samplers work, independently of it.
_LAZY = ("DataLoader", "get_worker_info", "default_worker_init_fn", "_DatasetKind")


def __getattr__(name):
    if name in _LAZY:
        from . import dataloader
        try:
            value = getattr(dataloader, name)
        except AttributeError:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
