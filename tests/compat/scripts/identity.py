"""Checks, under the compat runner, that torch's names are ferrum's module objects themselves."""
import importlib
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim.lr_scheduler as lr_scheduler
import torchvision
import torchvision.datasets
import torchvision.models as models
from torchvision import transforms

import ferrum
import ferrum.nn.functional
import ferrum.utils.data


class MyNet(nn.Module):
    def forward(self, x):
        return x


checks = {
    "torch_is_ferrum": sys.modules["torch"] is ferrum and torch is ferrum,
    "nn_module": torch.nn.Module is ferrum.nn.Module,
    "functional": F is ferrum.nn.functional and sys.modules["torch.nn.functional"] is F,
    "spec_kept": F.__spec__.name == "ferrum.nn.functional",
    "lr_scheduler": lr_scheduler is importlib.import_module("ferrum.optim.lr_scheduler"),
    "subclass": isinstance(MyNet(), ferrum.nn.Module),
    "tensor": isinstance(torch.zeros(2), ferrum.Tensor) and type(torch.zeros(2)) is torch.Tensor,
    "transforms": transforms is importlib.import_module("ferrum.transforms"),
    "models": models is importlib.import_module("ferrum.models"),
    "datasets": torchvision.datasets is importlib.import_module("ferrum.datasets"),
    "utils_make_grid": torchvision.utils.make_grid is ferrum.utils.make_grid,
    "import_module": importlib.import_module("torch.utils.data") is ferrum.utils.data,
    "main": __name__ == "__main__",
}
for k, v in checks.items():
    print("RESULT", k, v)
