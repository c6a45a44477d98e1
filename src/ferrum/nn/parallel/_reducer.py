"""The gradient reducer of :class:`~ferrum.nn.parallel.DistributedDataParallel`: buckets, the
gradient-ready hooks, the overlapped all-reduce, and the write-back.

Layout. The parameters that require grad are assigned to buckets in registration (forward) order,
one dtype per bucket, each bucket closed once it reaches its byte limit (the first one 1 MiB, the
others ``bucket_cap_mb``, PyTorch's rule), and the bucket list is then reversed: gradients become
ready from the output back, so bucket 0 (the last layers) fills first, and the small bucket of the
first layers is the one whose reduction is left over when backward ends. A bucket is one flat
contiguous array; each parameter owns a slice of it.

One iteration. ``DistributedDataParallel.forward`` calls :meth:`Reducer.prepare_for_backward`
(after checking the last iteration finished). Each parameter has a post-accumulate-grad hook: once
its ``.grad`` is final for this backward, the hook writes it divided by the world size into its
bucket slice (one pass: 322 us for 4 MB of float32 against 532 for a copy and then an in-place
division; in place with ``gradient_as_bucket_view``, where ``.grad`` is that slice; a plain copy
when a communication hook, which averages itself, is registered) and, when that completes a
bucket, launches the reduction of every complete bucket in index order (so all ranks issue the
collectives in one order, which MPI requires): ``all_reduce(bucket, async_op=True)``, or the hook.
The backward pass goes on computing the earlier layers' gradients while those messages travel
(``ferrum.distributed`` moves them on its communication thread: a 4 MB all-reduce started before
42 ms of matrix products on 2 ranks is complete when they end, its launch costing 0.09 ms). When
the last bucket is launched (from the hook of the last parameter to get its gradient, i.e. at the
end of the parameters' backward), the reducer waits for every bucket and writes the averaged
gradients into ``.grad`` (a copy, or ``.grad`` becomes a view of the bucket with
``gradient_as_bucket_view``).

Unused parameters. With ``find_unused_parameters`` the forward's outputs are traced back through
the autograd graph; parameters not reached count as ready (a zero slice) at the first hook of the
backward, a used-parameter map is all-reduced, and a parameter that no rank used keeps its
``.grad`` untouched (None stays None), as PyTorch does. Without the flag an unused parameter keeps
its bucket from ever completing: that bucket and the ones after it never launch (buckets launch in
index order, alike on every rank), and the next forward raises PyTorch's RuntimeError ("Expected to
have finished reduction in the prior iteration ...") naming the parameters.

Differences from PyTorch: the reduction finishes when the last bucket is launched (ferrum's engine
has no end-of-backward callback), not when the whole backward pass ends; the results are the same,
since every parameter's gradient is final by then. Buckets are not rebuilt after the first
iteration in the observed gradient order (the registration order is kept). ``static_graph=True``
traces unused parameters in the first iteration and reuses that set afterwards, and does not allow
a parameter to become ready twice in one backward (reentrant checkpointing).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from ..._tensor import Tensor, _wrap

__all__ = ["Reducer", "FIRST_BUCKET_BYTES", "find_tensors", "reached_leaves"]

#: PyTorch's ``dist._DEFAULT_FIRST_BUCKET_BYTES``: the size limit of the bucket reduced last
FIRST_BUCKET_BYTES = 1024 * 1024


def find_tensors(obj: Any) -> list[Tensor]:
    """The tensors in a module's output: a tensor, or nested lists, tuples and dict values."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return [t for o in obj for t in find_tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in find_tensors(o)]
    return []


def reached_leaves(outputs: list[Tensor]) -> set[int]:
    """The ids of the leaf tensors the autograd graph of ``outputs`` leads to."""
    seen: set[int] = set()
    leaves: set[int] = set()
    stack: list[Any] = []
    for t in outputs:
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:
            leaves.add(id(t))
    while stack:
        n = stack.pop()
        for e in n.next:
            if e is None or id(e) in seen:
                continue
            seen.add(id(e))
            if e._is_node:
                stack.append(e)
            else:
                leaves.add(id(e))
    return leaves


class _Bucket:
    __slots__ = ("index", "members", "offsets", "flat", "tensor", "views", "pending", "op")

    def __init__(self, index: int, members: list[int], params: list, xp: Any, dtype: Any) -> None:
        self.index = index
        self.members = members
        sizes = [params[i]._data.size for i in members]
        self.offsets = [0, *np.cumsum(sizes).tolist()]
        self.flat = xp.zeros(self.offsets[-1], dtype=dtype)
        self.tensor = _wrap(self.flat)
        # each parameter's slice of the bucket, shaped like the parameter
        self.views = [self.flat[self.offsets[k]:self.offsets[k + 1]].reshape(params[i]._data.shape)
                      for k, i in enumerate(members)]
        self.pending = len(members)
        self.op: Any = None


def _assign(params: list, limits: list[int]) -> list[list[int]]:
    """PyTorch's bucket assignment: per dtype (and device), parameters in order, a bucket closed
    once its bytes reach the current limit (``limits[0]`` for a dtype's first bucket, then
    ``limits[1]``...); the buckets ordered by their first parameter."""
    open_: dict[Any, list[int]] = {}
    size: dict[Any, int] = {}
    nth: dict[Any, int] = {}
    done: list[list[int]] = []
    for i, p in enumerate(params):
        key = (p._data.dtype, type(p._data))
        cur = open_.setdefault(key, [])
        cur.append(i)
        size[key] = size.get(key, 0) + p._data.nbytes
        limit = limits[min(nth.get(key, 0), len(limits) - 1)]
        if size[key] >= limit:
            done.append(cur)
            open_[key] = []
            size[key] = 0
            nth[key] = nth.get(key, 0) + 1
    done.extend(b for b in open_.values() if b)
    return sorted(done, key=lambda b: b[0])


def _on_ready(ref: weakref.ref, i: int, param: Tensor) -> None:
    reducer = ref()
    if reducer is not None:
        reducer.mark_ready(i, param)


class Reducer:
    """Buckets and hooks of one DistributedDataParallel module (see the module docstring)."""

    def __init__(self, params: list, names: list[str], group: Any, world_size: int, rank: int,
                 bucket_bytes: int, first_bucket_bytes: int, gradient_as_bucket_view: bool,
                 find_unused: bool, static_graph: bool) -> None:
        self.params = params
        self.names = names
        self.group = group
        self.world_size = world_size
        self.rank = rank
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.find_unused = find_unused
        self.static_graph = static_graph
        self.comm_hook: Any = None
        self.comm_state: Any = None
        groups = list(reversed(_assign(params, [first_bucket_bytes, bucket_bytes])))
        self.buckets: list[_Bucket] = []
        self.where: list[tuple[_Bucket, int]] = [None] * len(params)  # type: ignore[list-item]
        from ...ops._common import xp_of
        for b, members in enumerate(groups):
            first = params[members[0]]._data
            bucket = _Bucket(b, members, params, xp_of(first), first.dtype)
            self.buckets.append(bucket)
            for k, i in enumerate(members):
                self.where[i] = (bucket, k)
        # per-iteration state
        self.expect_hooks = False  # a synced forward ran: this backward's hooks reduce
        self.require_finalize = False  # a hook fired and the reduction has not finished
        self.ready = bytearray(len(params))
        self.next_bucket = 0
        self.unused: list[int] = []
        self.unused_marked = True
        self.static_unused: list[int] | None = None
        self.local_used = np.zeros(len(params), dtype=np.int32)
        ref = weakref.ref(self)
        self.handles = [p.register_post_accumulate_grad_hook(
            lambda t, i=i: _on_ready(ref, i, t)) for i, p in enumerate(params)]

    def remove_hooks(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []

    # --- iteration -------------------------------------------------------------------------------

    def prepare_for_forward(self) -> None:
        """Raises if the previous synced backward started reducing but did not finish."""
        if self.require_finalize:
            missing = [i for i in range(len(self.params)) if not self.ready[i]]
            self._reset()
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. "
                "This error indicates that your module has parameters that were not used in producing "
                "loss. You can enable unused parameter detection by passing the keyword argument "
                "`find_unused_parameters=True` to `ferrum.nn.parallel.DistributedDataParallel`, and by "
                "making sure all `forward` function outputs participate in calculating loss. "
                f"Parameter indices which did not receive grad for rank {self.rank}: "
                f"{' '.join(map(str, missing))}; their names: {', '.join(self.names[i] for i in missing)}")

    def _reset(self) -> None:
        self.expect_hooks = False
        self.require_finalize = False
        for b in self.buckets:
            b.op = None

    def prepare_for_backward(self, outputs: list[Tensor] | None) -> None:
        """Starts an iteration; ``outputs`` (the forward's tensors) when unused parameters are to
        be found."""
        self.expect_hooks = True
        self.require_finalize = False
        self.ready = bytearray(len(self.params))
        self.next_bucket = 0
        for b in self.buckets:
            b.pending = len(b.members)
            b.op = None
        self.unused = []
        if self.find_unused or self.static_graph:
            self.local_used[:] = 0
            if self.static_graph and self.static_unused is not None:
                self.unused = self.static_unused
            elif outputs is not None:
                reached = reached_leaves(outputs)
                self.unused = [i for i, p in enumerate(self.params) if id(p) not in reached]
                if self.static_graph:
                    self.static_unused = self.unused
        self.unused_marked = not self.unused

    def mark_ready(self, i: int, param: Tensor) -> None:
        """The hook of parameter ``i``: its ``.grad`` is final for this backward."""
        if not self.expect_hooks:
            return  # a backward outside a synced iteration (no_sync, or a second backward)
        self.require_finalize = True
        if not self.unused_marked:
            self.unused_marked = True
            for u in self.unused:
                bucket, k = self.where[u]
                bucket.views[k][...] = 0
                if u != i:
                    self._ready(u)
                else:
                    self.ready[u] = 1  # found unused, yet it has a gradient: the error below
        if self.ready[i]:
            self.expect_hooks = False
            raise RuntimeError(
                f"Expected to mark a variable ready only once. Parameter {self.names[i]} (index {i}) "
                "has been marked as ready twice: it takes part in more than one backward pass of this "
                "iteration (a second backward through the same forward, reentrant checkpointing, a "
                "parameter shared between DDP instances), or, with find_unused_parameters=True, the loss "
                "depends on it through a tensor that is not among the outputs of forward")
        bucket, k = self.where[i]
        view = bucket.views[k]
        g = param._grad
        if g is not None:
            if self.comm_hook is None and self.world_size > 1:
                # the average's division fused with the copy into the bucket: one pass, not two
                np.divide(g._data, self.world_size, out=view, casting="unsafe")
            elif g._data is not view:
                np.copyto(view, g._data, casting="unsafe")
        if self.find_unused or self.static_graph:
            self.local_used[i] = 1
        self._ready(i)

    def _ready(self, i: int) -> None:
        self.ready[i] = 1
        bucket = self.where[i][0]
        bucket.pending -= 1
        if bucket.pending == 0:
            n = len(self.buckets)
            while self.next_bucket < n and self.buckets[self.next_bucket].pending == 0:
                self._launch(self.buckets[self.next_bucket])
                self.next_bucket += 1
            if self.next_bucket == n:
                self._finalize()

    def _launch(self, bucket: _Bucket) -> None:
        from ... import distributed as dist  # not at import: `import ferrum.nn` stays without it (~40 ms)
        if self.comm_hook is None:  # the gradients were divided by the world size on the way in
            bucket.op = dist.all_reduce(bucket.tensor, group=self.group, async_op=True)
        else:
            from ...distributed._grad_bucket import GradBucket
            grads = [_wrap(v) for v in bucket.views]
            gb = GradBucket(bucket.index, bucket.tensor, grads, [self.params[i] for i in bucket.members],
                            bucket.offsets[:-1], bucket.index == len(self.buckets) - 1)
            bucket.op = self.comm_hook(self.comm_state, gb)

    def _finalize(self) -> None:
        self.expect_hooks = False
        globally_used = None
        if self.find_unused:
            from ... import distributed as dist
            used = _wrap(self.local_used.copy())
            dist.all_reduce(used, group=self.group)
            globally_used = used._data
        for bucket in self.buckets:
            op, bucket.op = bucket.op, None
            result = op.wait()
            if self.comm_hook is not None:
                if isinstance(result, (list, tuple)):
                    result = result[0]
                if not isinstance(result, Tensor):
                    raise RuntimeError(f"DistributedDataParallel: a communication hook's Future must hold "
                                       f"a Tensor (the reduced bucket), got {type(result).__name__}")
                if result._data is not bucket.flat:
                    if result._data.size != bucket.flat.size:
                        raise RuntimeError(
                            f"DistributedDataParallel: the communication hook returned a tensor of "
                            f"{result._data.size} elements for bucket {bucket.index} of "
                            f"{bucket.flat.size}")
                    np.copyto(bucket.flat, result._data.reshape(-1), casting="unsafe")
            for k, i in enumerate(bucket.members):
                if globally_used is not None and not globally_used[i]:
                    continue  # no rank used it: .grad stays as it was
                self._write_back(self.params[i], bucket.views[k])
        self.require_finalize = False

    def _write_back(self, p: Tensor, view: Any) -> None:
        g = p._grad
        if self.gradient_as_bucket_view:
            if g is None or g._data is not view:
                p._grad = _wrap(view)
            else:
                g._version[0] += 1
        elif g is None:
            p._grad = _wrap(view.copy())
        else:
            np.copyto(g._data, view)
            g._version[0] += 1

    def set_comm_hook(self, state: Any, hook: Any) -> None:
        self.comm_state = state
        self.comm_hook = hook
