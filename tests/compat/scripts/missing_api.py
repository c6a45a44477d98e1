"""Reaches an API by its torch spelling; `MODE NAME` says how (the test picks a name ferrum lacks)."""
import sys

import torch
import torch.nn.functional as F

mode, name = sys.argv[1], sys.argv[2]
x = torch.ones(2, 3)
if mode == "functional":
    getattr(F, name)(x)
elif mode == "from":
    exec(f"from torch.nn.functional import {name}")
elif mode == "tensor":
    getattr(x, name)()
elif mode == "module":
    __import__(f"torch.{name}")
elif mode == "torchvision":
    __import__(f"torchvision.{name}")
elif mode == "typo":
    F.relu_typo_not_in_torch(x)
print("unreachable")
