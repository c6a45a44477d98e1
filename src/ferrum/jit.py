"""``ferrum.jit``: torch.jit's names, as documented pass-throughs (ferrum has no TorchScript).

TorchScript compiles a Python subset into a graph IR run by a C++ interpreter; its contract is that a
scripted or traced function computes what the eager Python computes. ferrum has no such compiler
(like ``ferrum.compile``, see ``_compile.py``): ``script``, ``trace``, ``trace_module``, ``freeze``,
``optimize_for_inference`` and the decorators (``ignore``, ``unused``, ``export``, ``interface``,
``script_method``, ``script_if_tracing``) return the function, Module or class they are given, so
it runs as Python, with eager semantics. ``trace`` runs the example inputs through the function once,
as torch's tracer does, so a program whose example call fails still fails at the same line.
``is_scripting()`` and ``is_tracing()`` are False (the code is never being scripted or traced),
``annotate(type, value)`` is ``value``, ``fork`` runs the call at once and returns a completed
``Future`` whose ``wait()`` (and ``jit.wait``) gives the result.

``ScriptModule``, ``ScriptFunction``, ``RecursiveScriptModule``, ``TracedModule`` and
``TopLevelTracedModule`` exist for ``isinstance`` checks; as in eager torch, no ordinary Module or
function is an instance of them. ``ScriptModule`` is a ``nn.Module`` subclass so that the old
``class M(torch.jit.ScriptModule)`` + ``@torch.jit.script_method`` style still defines a working
Module.

``save``/``load`` raise RuntimeError: a TorchScript archive holds TorchScript code and its graph,
which only a TorchScript runtime can execute. Save the ``state_dict`` with ``ferrum.save`` and
rebuild the Module from its Python class instead.

Differences from PyTorch: nothing is compiled, so nothing TorchScript would refuse (dynamic Python,
untyped containers) is refused; ``trace`` runs the function once (torch runs it again to check the
trace when ``check_trace=True``) and records no graph, so data-dependent control flow keeps working
on other inputs (torch's trace would freeze the branch taken); ``freeze`` keeps the parameters as
parameters.
"""

from __future__ import annotations

import builtins
import collections
import contextlib
import types
import typing
from typing import Any, Callable

from .futures import Future

_isinstance = builtins.isinstance  # this module defines torch.jit.isinstance

__all__ = ["Attribute", "Error", "Final", "Future", "RecursiveScriptModule", "ScriptFunction", "ScriptModule",
           "TopLevelTracedModule", "TracedModule", "annotate", "enable_onednn_fusion", "export", "fork",
           "freeze", "fuser", "ignore", "interface", "is_scripting", "is_tracing", "load",
           "onednn_fusion_enabled", "optimize_for_inference", "optimized_execution", "save", "script",
           "script_if_tracing", "script_method", "trace", "trace_module", "unused", "wait"]

Final = typing.Final
# torch.jit.Attribute(value, type): a (value, type) pair the scripting compiler reads; eager code that
# assigns one keeps the pair, as in torch
Attribute = collections.namedtuple("Attribute", ["value", "type"])


class Error(RuntimeError):
    """torch.jit.Error: the exception TorchScript raises (a RuntimeError)."""


def _no_instances(cls_name: str):
    def __new__(cls, *args, **kwargs):
        raise TypeError(f"{cls_name}: No constructor defined (ferrum has no TorchScript)")
    return __new__


class ScriptFunction:
    """torch.jit.ScriptFunction, for ``isinstance`` checks: ``ferrum.jit.script`` returns functions
    unchanged, so nothing is an instance of it (as for any eager function in torch)."""
    __new__ = _no_instances("ScriptFunction")


def _module_base():
    from .nn.modules.module import Module
    return Module


class ScriptModule(_module_base()):
    """torch.jit.ScriptModule. ``ferrum.jit.script(module)`` returns the module itself, so no
    ordinary Module is an instance; subclassing it (the old ``@script_method`` style) defines an
    ordinary ferrum Module whose methods run as Python."""


class RecursiveScriptModule(ScriptModule):
    """torch.jit.RecursiveScriptModule: the class of torch's scripted modules (no ferrum instances)."""
    __new__ = _no_instances("RecursiveScriptModule")


class TracedModule(ScriptModule):
    """torch.jit.TracedModule: the class of torch's traced modules (no ferrum instances)."""
    __new__ = _no_instances("TracedModule")


class TopLevelTracedModule(TracedModule):
    """torch.jit.TopLevelTracedModule (no ferrum instances)."""


def _is_module(obj: Any) -> bool:
    return _isinstance(obj, _module_base())


def script(obj: Any, optimize: None = None, _frames_up: int = 0, _rcb: Callable | None = None,
           example_inputs: list[tuple] | dict | None = None) -> Any:
    """Returns ``obj`` (a function, Module or class) unchanged: it runs as Python, which computes
    what the scripted version would. ferrum has no TorchScript compiler (module docstring)."""
    return obj


def script_method(fn: Callable) -> Callable:
    """torch.jit.script_method: marks a method of a ``ScriptModule`` subclass; returns ``fn``."""
    return fn


def script_if_tracing(fn: Callable) -> Callable:
    """Returns ``fn`` (nothing is ever traced in ferrum)."""
    return fn


def _overload(func: Callable) -> Callable:
    """torch.jit._overload: declares a typed overload for the compiler (torchvision uses it); the
    plain ``def`` that follows replaces the declaration, as in eager torch. Returns ``func``."""
    return func


_overload_method = _overload
_script_if_tracing = script_if_tracing


def _unwrap_optional(x: Any) -> Any:
    """``x``, which must not be None (AssertionError, as torch)."""
    if x is None:
        raise AssertionError("Unwrapping null optional")
    return x


def _as_tuple(example_inputs: Any) -> tuple:
    # torch's rule for the example inputs: a Tensor or a dict is one positional argument, a tuple is
    # the arguments, any other iterable is turned into a tuple
    from ._tensor import Tensor
    if _isinstance(example_inputs, (Tensor, dict)):
        return (example_inputs,)
    if not _isinstance(example_inputs, tuple):
        return tuple(example_inputs)
    return example_inputs


def trace(func: Callable, example_inputs: Any = None, optimize: None = None, check_trace: bool = True,
          check_inputs: list | None = None, check_tolerance: float = 1e-5, strict: bool = True,
          _force_outplace: bool = False, _module_class: Any = None, _compilation_unit: Any = None,
          example_kwarg_inputs: dict | None = None, _store_inputs: bool = True) -> Callable:
    """Runs ``func`` once on ``example_inputs`` (a tuple of arguments, or one Tensor) or on
    ``example_kwarg_inputs`` (a dict of keyword arguments), as torch's tracer does, and returns
    ``func`` unchanged (no graph is recorded; see the module docstring). A Module, or a Module's
    bound ``forward``, goes through :func:`trace_module` with ``{"forward": example_inputs}`` and the
    Module is returned."""
    if _is_module(func) or (_is_module(getattr(func, "__self__", None))
                            and getattr(func, "__name__", None) == "forward"):
        mod = func if _is_module(func) else func.__self__
        if example_inputs is None:
            if _isinstance(example_kwarg_inputs, dict):
                example_inputs = example_kwarg_inputs
            else:
                raise RuntimeError("example_kwarg_inputs should be a dict")
        trace_module(mod, {"forward": example_inputs}, None, check_trace, check_inputs, check_tolerance,
                     strict, _force_outplace, _module_class,
                     example_inputs_is_kwarg=_isinstance(example_kwarg_inputs, dict))
        return mod      # torch returns the traced module for a bound forward too
    if _is_module(getattr(func, "__self__", None)):
        raise AttributeError("trace doesn't support compiling individual module's functions.\n"
                             "Please use trace_module")
    if _isinstance(example_kwarg_inputs, dict):
        func(**example_kwarg_inputs)
    else:
        func(*_as_tuple(example_inputs))
    return func


def trace_module(mod: Any, inputs: dict, optimize: None = None, check_trace: bool = True,
                 check_inputs: list | None = None, check_tolerance: float = 1e-5, strict: bool = True,
                 _force_outplace: bool = False, _module_class: Any = None, _compilation_unit: Any = None,
                 example_inputs_is_kwarg: bool = False, _store_inputs: bool = True) -> Any:
    """Runs each method named in ``inputs`` (``{method_name: example_inputs}``) once on its example
    inputs and returns ``mod`` unchanged. ``"forward"`` is run through ``mod(...)`` (hooks included),
    as torch traces it."""
    if not _is_module(mod):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not _isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    for method_name, example in inputs.items():
        fn = mod if method_name == "forward" else getattr(mod, method_name)
        if _isinstance(example, dict) and example_inputs_is_kwarg:
            fn(**example)
        else:
            fn(*_as_tuple(example))
    return mod


def ignore(drop: bool | Callable = False, **kwargs: Any) -> Callable:
    """``@ignore`` / ``@ignore(drop=True)``: leaves the function as Python (all of ferrum is)."""
    if callable(drop):
        return drop

    def decorator(fn: Callable) -> Callable:
        return fn
    return decorator


def unused(fn: Callable) -> Callable:
    """Returns ``fn`` (the compiler it tells to skip the function does not exist here)."""
    return fn


def export(fn: Callable) -> Callable:
    """Returns ``fn`` (marks a method for compilation in torch)."""
    return fn


def interface(obj: Any) -> Any:
    """Returns ``obj`` (declares a TorchScript interface in torch)."""
    return obj


def is_scripting() -> bool:
    """False: ferrum code never runs under the TorchScript compiler."""
    return False


def is_tracing() -> bool:
    """False: ferrum never traces."""
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    """Returns ``the_value`` (the type only informs TorchScript's compiler, as in eager torch)."""
    return the_value


def isinstance(obj: Any, target_type: Any) -> bool:  # noqa: A001 (torch.jit.isinstance)
    """torch.jit.isinstance: ``obj`` is of ``target_type``, where a ``list[int]``, ``dict[str, Tensor]``,
    ``tuple[...]`` or ``Optional[...]`` type is checked element by element, as in eager torch."""
    origin = typing.get_origin(target_type)
    args = typing.get_args(target_type)
    if origin is None:
        return target_type is Any or _isinstance(obj, target_type)
    if origin is typing.Union or origin is types.UnionType:
        return any(isinstance(obj, a) for a in args)
    if not _isinstance(obj, origin):
        return False
    if origin is list:
        return all(isinstance(v, args[0]) for v in obj) if args else True
    if origin is dict:
        return not args or all(isinstance(k, args[0]) and isinstance(v, args[1]) for k, v in obj.items())
    if origin is tuple:
        if not args:
            return True
        if len(args) == 2 and args[1] is Ellipsis:
            return all(isinstance(v, args[0]) for v in obj)
        return len(obj) == len(args) and all(isinstance(v, a) for v, a in zip(obj, args))
    return True


def fork(func: Callable, *args: Any, **kwargs: Any) -> Future:
    """Runs ``func(*args, **kwargs)`` now and returns a completed ``Future`` holding its result (or
    its exception, raised by ``wait``). torch runs forked calls on its inter-op pool only inside
    TorchScript; in eager torch, as here, the call runs at once."""
    fut = Future()
    try:
        fut.set_result(func(*args, **kwargs))
    except Exception as e:  # noqa: BLE001 (handed to wait(), as torch's Future does)
        fut.set_exception(e)
    return fut


def wait(future: Future) -> Any:
    """The result of a Future from :func:`fork`."""
    return future.wait()


def freeze(mod: Any, preserved_attrs: list[str] | None = None, optimize_numerics: bool = True) -> Any:
    """Returns ``mod``, which must be in eval mode as torch requires (RuntimeError otherwise); its
    parameters stay parameters (nothing is inlined into a graph)."""
    if not _is_module(mod):
        raise RuntimeError("Freezing expects a ScriptModule as input. "
                           "Please use torch.jit.script or torch.jit.trace to script your 'nn.Module'.")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. "
                           "Please call .eval() on your module before freezing.")
    return mod


def optimize_for_inference(mod: Any, other_methods: list[str] | None = None) -> Any:
    """Puts ``mod`` in eval mode (as torch does before freezing) and returns it."""
    if not _is_module(mod):
        raise RuntimeError("optimize_for_inference expects a ScriptModule as input. "
                           "Please use torch.jit.script or torch.jit.trace to script your 'nn.Module'.")
    return freeze(mod.eval(), preserved_attrs=other_methods)


@contextlib.contextmanager
def optimized_execution(should_optimize: bool):
    """A context manager that changes nothing (there is no graph executor to configure)."""
    yield


@contextlib.contextmanager
def fuser(name: str):
    """torch.jit.fuser: checks the fuser name as torch does; ferrum has no fuser to switch."""
    if name not in ("fuser0", "fuser1", "fuser2", "fuser3", "none"):
        raise Exception(f"unrecognized fuser option (name: {name})")  # noqa: TRY002 (torch's type)
    yield


_onednn = [False]


def enable_onednn_fusion(enabled: bool) -> None:
    """Records the flag (read back by :func:`onednn_fusion_enabled`); there is no oneDNN fusion."""
    _onednn[0] = bool(enabled)


def onednn_fusion_enabled() -> bool:
    """The flag set by :func:`enable_onednn_fusion`."""
    return _onednn[0]


_SAVE_LOAD = ("TorchScript archives are not supported: ferrum has no TorchScript runtime, and a "
              "torch.jit archive holds TorchScript code only such a runtime can execute. Save the model's "
              "state_dict with ferrum.save(model.state_dict(), path) and rebuild the model from its Python "
              "class, then model.load_state_dict(ferrum.load(path)).")


def save(m: Any, f: Any, _extra_files: dict | None = None) -> None:
    """Raises RuntimeError: TorchScript archives are not supported (see the module docstring)."""
    raise RuntimeError(f"ferrum.jit.save: {_SAVE_LOAD}")


def load(f: Any, map_location: Any = None, _extra_files: dict | None = None, _restore_shapes: bool = False):
    """Raises RuntimeError: TorchScript archives are not supported (see the module docstring)."""
    raise RuntimeError(f"ferrum.jit.load: {_SAVE_LOAD}")
