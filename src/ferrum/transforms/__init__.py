"""Image and target transforms (``torchvision.transforms``' v1 interface, on arrays and tensors).

``from ferrum import transforms`` then ``transforms.Compose([transforms.ToTensor(),
transforms.RandomCrop(28, padding=2), transforms.Normalize((0.1307,), (0.3081,))])``. No PIL: images
are ferrum tensors ``(..., C, H, W)`` or, as data sets return them, uint8 ``(H, W[, C])`` arrays or
tensors (see :mod:`ferrum.transforms.functional`). Random transforms draw from ferrum's default
generator.
"""

from . import functional
from .functional import InterpolationMode
from .color import ColorJitter, ConvertImageDtype, Grayscale, RandomErasing, RandomGrayscale, ToPILImage
from .geometry import RandomAffine, RandomRotation
from .blur import GaussianBlur
from .transforms import (CenterCrop, Compose, GaussianNoise, Lambda, Normalize, Pad, PILToTensor,
                         RandomApply, RandomCrop, RandomHorizontalFlip, RandomResizedCrop, RandomVerticalFlip,
                         Resize, Scale, ToImageTensor, ToOneHot, ToTensor, supports_batch)

__all__ = ["functional", "InterpolationMode", "Compose", "ToTensor", "PILToTensor", "ToImageTensor",
           "Normalize", "Pad", "RandomCrop", "CenterCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
           "Resize", "RandomResizedCrop", "Lambda", "RandomApply", "Scale", "GaussianNoise", "ToOneHot",
           "supports_batch", "ColorJitter", "ConvertImageDtype", "Grayscale", "RandomErasing",
           "RandomGrayscale", "RandomAffine", "RandomRotation", "GaussianBlur",
           "ToPILImage"]
