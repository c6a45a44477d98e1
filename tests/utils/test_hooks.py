"""ferrum.utils.hooks.RemovableHandle: the one handle every register_*hook returns (modules,
optimizers, autograd nodes and tensors), at torch's path torch.utils.hooks.RemovableHandle."""

from __future__ import annotations

from collections import OrderedDict

import ferrum
from ferrum.utils.hooks import RemovableHandle


def test_one_class_behind_every_old_name():
    from ferrum.autograd.function import _RemovableHandle
    from ferrum.nn.modules.module import RemovableHandle as ModuleHandle
    from ferrum.optim.optimizer import RemovableHandle as OptimHandle
    assert _RemovableHandle is ModuleHandle is OptimHandle is RemovableHandle


def test_dict_hooks_remove_by_id_from_every_dict(torch):
    hooks, extra = OrderedDict(), {}
    h = RemovableHandle(hooks, extra)
    hooks[h.id] = print
    extra[h.id] = True
    with h:
        assert h.id in hooks
    assert not hooks and not extra
    h.remove()  # twice: nothing happens, as in torch
    t_hooks = OrderedDict()
    th = torch.utils.hooks.RemovableHandle(t_hooks)
    t_hooks[th.id] = print
    th.remove()
    th.remove()
    assert not t_hooks


def test_ids_are_unique_across_uses():
    a, b = RemovableHandle({}), RemovableHandle([], print)
    assert a.id != b.id


def test_list_hooks_remove_their_own_hook():
    f, g = (lambda x: x), (lambda x: x)
    hooks = [f, g]
    h = RemovableHandle(hooks, f)
    h.remove()
    assert hooks == [g]
    h.remove()
    assert hooks == [g]


def test_tensor_node_module_and_optimizer_handles(torch):
    x = ferrum.ones(2, requires_grad=True)
    calls = []
    y = x * 2
    with y.register_hook(lambda g: calls.append("t")):
        pass
    y.sum().backward()
    assert calls == []
    m = ferrum.nn.Linear(2, 2)
    h = m.register_forward_hook(lambda *a: calls.append("m"))
    m(ferrum.ones(1, 2))
    h.remove()
    m(ferrum.ones(1, 2))
    hg = ferrum.nn.modules.module.register_module_forward_hook(lambda *a: calls.append("g"))
    m(ferrum.ones(1, 2))
    hg.remove()
    m(ferrum.ones(1, 2))
    opt = ferrum.optim.SGD(m.parameters(), lr=0.1)
    ho = opt.register_step_pre_hook(lambda *a: calls.append("o"))
    opt.step()
    ho.remove()
    opt.step()
    assert calls == ["m", "g"] + ["o"]
    assert all(isinstance(v, RemovableHandle) for v in (h, hg, ho))
