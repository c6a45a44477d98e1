"""Vision models with torchvision's names (``torchvision.models``): LeNet-5, ResNet (and ResNeXt,
Wide ResNet), VGG, MobileNetV2; and the language models of the Shakespeare recipes: GPT (nanoGPT's
names) and CharLSTM.

Each builder takes ``weights=None`` and ``**kwargs`` for its model class (``num_classes`` ...), and
builds modules whose parameter and buffer names and shapes are torchvision's, so a torchvision
state dict loads once its tensors are ferrum tensors. No pretrained weights can be downloaded here:
a ``weights`` other than None raises ValueError saying how to load a state dict instead.
``get_model(name, **kwargs)`` and ``list_models()`` work as in torchvision.
"""

from ._api import get_model, list_models  # noqa: F401
from . import charlstm, gpt, lenet, mobilenetv2, resnet, vgg  # noqa: F401
from .charlstm import *  # noqa: F401,F403
from .gpt import *  # noqa: F401,F403
from .lenet import *  # noqa: F401,F403
from .mobilenetv2 import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
