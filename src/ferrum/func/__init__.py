"""``ferrum.func``: torch.func's names over ferrum's reverse-mode autograd engine.

``functional_call`` runs a module with substituted parameters and buffers; ``grad``,
``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd`` and ``hessian`` are function transforms
built on ``autograd.grad`` with ``create_graph`` (so they nest and compose with ordinary autograd);
``vmap`` raises NotImplementedError. How each is computed is in ``_transforms.py``.
"""

from ._functional_call import functional_call
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp, vmap

__all__ = ["functional_call", "grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap"]
