"""``ferrum.compile``: torch.compile's signature, as a documented no-op.

torch.compile traces a model into graphs and generates fused kernels (TorchDynamo + Inductor).
ferrum has no compiler: its ops run eagerly on NumPy/CuPy, so ``ferrum.compile`` returns the model
or function it is given, unchanged, after checking its arguments as torch does (an unknown ``mode``,
``mode`` together with ``options``, an unknown backend name, a model that is not callable). Programs
written for torch 2.x that call ``torch.compile(model)`` or decorate with ``@torch.compile`` run
unchanged, at eager speed, with eager semantics (which is what torch.compile guarantees to
preserve).

Differences from PyTorch: nothing is compiled; an ``nn.Module`` comes back as itself, not wrapped
in an ``OptimizedModule`` (so ``state_dict`` keys have no ``_orig_mod.`` prefix); ``options`` are
not checked against Inductor's configuration.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["compile"]

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
# torch._dynamo.list_backends(exclude_tags=()) in torch 2.13: names a torch program may pass
_BACKENDS = frozenset((
    "aot_eager", "aot_eager_decomp_partition", "aot_eager_decomp_partition_crossref",
    "aot_eager_decomp_partition_with_mode", "aot_eager_default_partitioner", "aot_ts", "cudagraphs",
    "dynamo_accuracy_minifier_backend", "dynamo_minifier_backend", "eager", "eager_debug",
    "eager_noexcept", "inductor", "invoke_subgraph", "openxla", "openxla_eval", "pre_dispatch_eager",
    "ts", "tvm"))


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,
            backend: str | Callable | None = None, mode: str | None = None,
            options: dict[str, Any] | None = None, name: str | None = None, disable: bool = False,
            recompile_limit: int | None = None, isolate_recompiles: bool = False,
            shapes_spec: Any = None) -> Callable:
    """Returns ``model`` unchanged (ferrum has no compiler; see the module docstring).

    ``ferrum.compile(model)`` and ``@ferrum.compile`` return the model or function itself;
    ``ferrum.compile(mode=...)`` (no model) returns a decorator that does the same. The keyword
    arguments are torch.compile's and are checked as torch checks them: ``mode`` one of
    "default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune" (else
    RuntimeError), not both ``mode`` and ``options`` (RuntimeError), ``backend`` a callable or one
    of torch's backend names (else RuntimeError).
    """
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the "
                           "same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if isinstance(backend, str) and backend not in _BACKENDS:
        raise RuntimeError(f"Invalid backend: {backend!r}, see `torch._dynamo.list_backends()` for available "
                           "backends.")
    if model is None:
        def decorator(fn: Callable) -> Callable:
            return compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                           options=options, name=name, disable=disable, recompile_limit=recompile_limit,
                           isolate_recompiles=isolate_recompiles, shapes_spec=shapes_spec)
        return decorator
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return model
