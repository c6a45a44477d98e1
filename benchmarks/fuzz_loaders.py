"""Fuzzes ferrum's loaders with hypothesis: the safetensors reader (ferrum's format and plain
safetensors), torch's ``.pt`` reader (zip and legacy) and the restricted unpickler.

Inputs are mutations of valid files (byte flips, 8-byte integers set to edge values, truncation,
insertion, deletion, and structure-aware edits of the JSON header and of ferrum's structure with
the length field kept right, so the mutation reaches the checks past the first) and random bytes.
Every input must either load or raise one of the documented clean errors: RuntimeError (but not
RecursionError), ``pickle.UnpicklingError`` or ValueError. Anything else, a load taking more than 2 s of CPU,
or a memory allocation past the address-space limit set here (MemoryError) is a crash: its input is
added to tests/serialization/fuzz_cases.json at once, which tests/test_serialization_fuzz.py replays.
A pickle that would run ``posix.system`` touches a marker file; the run checks it never appears.

    PYTHONPATH=src nice python benchmarks/fuzz_loaders.py [--n 110000] [--seed 0]

torch is used (in a child process, so its address space does not count against the limit) only to
add torch-written seeds; without it the seeds are ferrum-written torch-format files.

Runs (nice, 2 shared cores): --seed 12 and --seed 13, 110,000 inputs each (44,000 ferrum/safetensors,
33,000 .pt, 33,000 bare pickles): 0 crashes, no code executed, slowest input 0.46 / 0.59 s of CPU,
217 s each; outcomes ~70,800 RuntimeError, ~36,400 UnpicklingError, ~2,800 loaded. Before the
pickle prescan (_unpickle._prescan), 6,000 inputs found 27 crashes (MemoryError or multi-second
loads from memo indices), kept in tests/serialization/fuzz_cases.json.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import pickle
import resource
import struct
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

import ferrum
from ferrum.serialization._torch_format import _TorchUnpickler
from ferrum.serialization._unpickle import run

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "..", "tests", "serialization", "fuzz_cases.json")
MARKER = os.path.join(tempfile.gettempdir(), "ferrum_fuzz_pwned")
INTERESTING = [0, 1, 7, 8, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 10 ** 12]


class Point:  # a user class inside ferrum files
    def __init__(self, x):
        self.x = x


def _ferrum_seeds() -> list[bytes]:
    ferrum.manual_seed(0)  # the same seed files every run, so --seed replays a run
    x = ferrum.arange(24.0).reshape(2, 3, 4)
    m = ferrum.nn.Linear(3, 2)
    opt = ferrum.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    m(ferrum.ones(1, 3)).sum().backward()
    opt.step()
    objs = [m.state_dict(), {"x": x, "v": x[:, 1], "t": x.transpose(0, 2), "s": x[1, 2, 3]},
            {"opt": opt.state_dict(), "n": [1, 2.5, None, "s", (1, 2), {3, 4}, b"by", 1 + 2j]},
            [np.arange(6, dtype=np.int16).reshape(2, 3), ferrum.ones(3, dtype=ferrum.bfloat16),
             ferrum.ones(2, dtype=ferrum.bool), np.float32(3.0)],
            {"p": Point(ferrum.zeros(2))}, m]
    out = []
    for o in objs:
        b = io.BytesIO()
        ferrum.save(o, b)
        out.append(b.getvalue())
    b = io.BytesIO()
    ferrum.serialization.save_torch({"x": x, "v": x[:, 1], "m": m.state_dict()}, b)
    tz = b.getvalue()
    with tempfile.TemporaryDirectory() as d:
        ferrum.save_file({"w": x, "b": ferrum.arange(3)}, os.path.join(d, "f"))
        with open(os.path.join(d, "f"), "rb") as fh:
            out.append(fh.read())
    return out, [tz]


def _torch_seeds() -> list[bytes]:
    code = r"""
import io, sys, torch, collections
x = torch.arange(24.).reshape(2, 3, 4)
m = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
out = []
for obj, kw in (({"x": x, "v": x[:, 1], "sd": m.state_dict()}, {}), ({"x": x, "i": torch.arange(3)},
                {"_use_new_zipfile_serialization": False}), ([x.half(), x.bfloat16(), 3, "s"], {})):
    b = io.BytesIO(); torch.save(obj, b, **kw); out.append(b.getvalue())
sys.stdout.buffer.write(b"".join(len(o).to_bytes(8, "little") + o for o in out))
"""
    try:
        raw = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                             timeout=300).stdout
    except (subprocess.SubprocessError, OSError):
        return []
    out, pos = [], 0
    while pos < len(raw):
        n = int.from_bytes(raw[pos:pos + 8], "little")
        out.append(raw[pos + 8:pos + 8 + n])
        pos += 8 + n
    return out


def _pickle_seeds(pt_files: list[bytes]) -> list[bytes]:
    import zipfile
    out = []
    for f in pt_files:
        try:
            with zipfile.ZipFile(io.BytesIO(f)) as zf:
                out += [zf.read(n) for n in zf.namelist() if n.endswith("data.pkl")]
        except zipfile.BadZipFile:
            pass
    plain = collections.OrderedDict(a=[1, 2.5, "s", None, (1, 2)], b={3: {4, 5}}, c=b"bytes" * 3)
    out += [pickle.dumps(plain, protocol=p) for p in range(0, 6)]
    # a pickle that calls posix.system: must be refused, never run
    out.append(b"cposix\nsystem\n(V" + f"touch {MARKER}".encode() + b"\ntR.")
    out.append(b"\x80\x02c__builtin__\nbytearray\nJ\x00\x00\x00\x40\x85R.")  # bytearray(2**30)
    return out


def _mutate_int(node, draw_int, path_choice):
    """Replaces one number (or list) in a JSON tree by an edge value."""
    nums = []

    def walk(n, setter):
        if isinstance(n, bool) or n is None:
            return
        if isinstance(n, (int, float)):
            nums.append(setter)
        elif isinstance(n, list):
            nums.append(setter)
            for i, v in enumerate(n):
                walk(v, lambda x, n=n, i=i: n.__setitem__(i, x))
        elif isinstance(n, dict):
            for k, v in n.items():
                walk(v, lambda x, n=n, k=k: n.__setitem__(k, x))

    walk(node, None)
    nums = [s for s in nums if s is not None]
    if nums:
        nums[path_choice % len(nums)](draw_int)
    return node


@st.composite
def _mutated(draw, seeds: list[bytes], kind: str):
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=512))
    data = bytearray(seeds[draw(st.integers(0, len(seeds) - 1))])
    edge = st.one_of(st.sampled_from(INTERESTING), st.sampled_from([-1, -(2 ** 63)]), st.integers(-5, 300))
    if kind == "safetensors" and draw(st.booleans()):  # structure-aware: keep the header parseable
        n = int.from_bytes(data[:8], "little")
        head = json.loads(data[8:8 + n])
        payload = bytes(data[8 + n:])
        meta = head.get("__metadata__", {})
        if "structure" in meta and draw(st.booleans()):
            s = _mutate_int(json.loads(meta["structure"]), draw(edge), draw(st.integers(0, 10 ** 6)))
            if draw(st.integers(0, 5)) == 0:
                s = {"t": draw(st.sampled_from(["list", "tensor", "pickle", "ref", "dict", "bytes", "x"])),
                     "v": s, "s": draw(edge), "k": [], "i": draw(edge)}
            meta["structure"] = json.dumps(s)
        else:
            head = _mutate_int(head, draw(edge), draw(st.integers(0, 10 ** 6)))
            if draw(st.integers(0, 3)) == 0:
                for e in head.values():
                    if isinstance(e, dict) and "dtype" in e:
                        e["dtype"] = draw(st.sampled_from(["F32", "BOOL", "BF16", "C64", "U64", "Q9", 3]))
                        break
        raw = json.dumps(head).encode()
        data = bytearray(len(raw).to_bytes(8, "little") + raw + payload)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 5))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == 0 and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == 1:
            data[pos:pos + 8] = struct.pack("<Q", draw(st.sampled_from(INTERESTING)) % 2 ** 64)
        elif op == 2:
            del data[pos:]
        elif op == 3:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == 4:
            del data[pos:pos + draw(st.integers(1, 64))]
        else:
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 64))]
    return bytes(data)


CLEAN = (RuntimeError, pickle.UnpicklingError, ValueError)


def _load_file(data: bytes):
    return ferrum.load(io.BytesIO(data))


def _unpickle(data: bytes):
    def read(key, dtype, numel):
        if numel > 4096:
            raise RuntimeError("storage larger than the fuzz stand-in")
        return np.zeros(4096, dtype=np.float32)
    return run(_TorchUnpickler(data, True, read))


class Stats:
    def __init__(self):
        self.count = collections.Counter()
        self.errors = collections.Counter()
        self.crashes: list = []
        self.slowest = 0.0

    def check(self, target: str, fn, data: bytes):
        self.count[target] += 1
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            fn(data)
            self.errors["loaded"] += 1
        except RecursionError as e:
            self._crash(target, data, e)
        except CLEAN as e:
            self.errors[type(e).__name__] += 1
        except BaseException as e:  # noqa: BLE001 - everything else is what we are looking for
            if isinstance(e, KeyboardInterrupt):
                raise
            self._crash(target, data, e)
        # CPU time: on a shared machine a niced process can wait seconds for a core
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        self.slowest = max(self.slowest, cpu)
        if cpu > 2.0:
            self._crash(target, data, TimeoutError(f"{cpu:.1f} s of CPU ({dt:.1f} s wall)"))

    def _crash(self, target, data, e):
        line = traceback.format_exception_only(type(e), e)[-1].strip()[:300]
        case = {"target": target, "error": line, "hex": data.hex()}
        self.crashes.append(case)
        print(f"CRASH {target}: {line}", flush=True)
        if len(case["hex"]) < 40_000:  # kept at once, so a run stopped early keeps its finds
            old = json.load(open(CASES)) if os.path.exists(CASES) else []
            if case["hex"] not in {c["hex"] for c in old}:
                with open(CASES, "w") as fh:
                    json.dump(old + [case], fh, indent=0)


def _fuzz(target, seeds, fn, n, stats, seed):
    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(_mutated(seeds, target))
    def fuzz(data):
        stats.check(target, fn, data)

    fuzz._hypothesis_internal_use_seed = seed
    fuzz()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=110_000, help="total inputs (split over the three targets)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mem-gb", type=float, default=4.0, help="address-space limit of this process")
    args = ap.parse_args()
    if os.path.exists(MARKER):
        os.remove(MARKER)
    ferrum_files, pt_files = _ferrum_seeds()
    pt_files += _torch_seeds()
    pickles = _pickle_seeds(pt_files)
    lim = int(args.mem_gb * 2 ** 30)
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    stats = Stats()
    shares = {"safetensors": 0.4, "pt": 0.3, "unpickler": 0.3}
    plan = [("safetensors", ferrum_files, _load_file), ("pt", pt_files, _load_file),
            ("unpickler", pickles, _unpickle)]
    t0 = time.perf_counter()
    for target, seeds, fn in plan:
        n = int(args.n * shares[target])
        _fuzz(target, seeds, fn, n, stats, args.seed)
        print(f"{target}: {stats.count[target]} inputs, {time.perf_counter() - t0:.0f} s so far", flush=True)
    pwned = os.path.exists(MARKER)
    total = sum(stats.count.values())
    print(f"\ninputs: {total} ({dict(stats.count)}), seeds: {len(ferrum_files)} ferrum/safetensors, "
          f"{len(pt_files)} .pt, {len(pickles)} pickles")
    print(f"outcomes: {dict(stats.errors)}")
    print(f"crashes: {len(stats.crashes)}; code executed: {pwned}; "
          f"slowest input: {stats.slowest * 1e3:.0f} ms of CPU; {time.perf_counter() - t0:.0f} s")
    if stats.crashes:
        print(f"the crashing inputs are in {os.path.relpath(CASES)}")


if __name__ == "__main__":
    main()
