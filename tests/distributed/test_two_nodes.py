"""Two machines on one host: network namespaces joined by a veth pair (set up and torn down here, as
root; skipped where that is not permitted), one ``ferrum run --nnodes 2 --node-rank R --master-addr
10.x`` per namespace, training together over TCP (scripts/two_nodes.py). The two namespaces share
one kernel, so UCX would otherwise find its shared-memory and CMA transports; UCX_TLS=tcp and
MPIR_CVAR_NOLOCAL=1 make the ranks talk as on two real machines, and the test checks that the
allreduce's bytes crossed the veth."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

from .launch import SCRIPTS, env, need_mpi

ADDR = ("10.231.7.1", "10.231.7.2")


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=20)


def _rx_bytes(ns: str, dev: str) -> int:
    out = _ip("-n", ns, "-s", "link", "show", dev).stdout
    return int(re.search(r"RX:.*\n\s*(\d+)", out).group(1))


@pytest.fixture
def namespaces():
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    if shutil.which("ip") is None:
        pytest.skip("the ip command (iproute2) is not installed")
    tag = f"f{os.getpid() % 100000}"
    ns = (f"{tag}a", f"{tag}b")
    dev = (f"{tag}va", f"{tag}vb")
    try:
        if _ip("netns", "add", ns[0]).returncode:
            pytest.skip("ip netns add is not permitted here")
        steps = [("netns", "add", ns[1]), ("link", "add", dev[0], "type", "veth", "peer", "name", dev[1])]
        for i in range(2):
            steps += [("link", "set", dev[i], "netns", ns[i]),
                      ("-n", ns[i], "addr", "add", f"{ADDR[i]}/24", "dev", dev[i]),
                      ("-n", ns[i], "link", "set", dev[i], "up"), ("-n", ns[i], "link", "set", "lo", "up")]
        for s in steps:
            p = _ip(*s)
            if p.returncode:
                pytest.skip(f"could not set up the namespaces (ip {' '.join(s)}: {p.stdout.strip()})")
        yield ns, dev
    finally:
        for n in ns:
            _ip("netns", "del", n)


@pytest.mark.timeout(150)
def test_two_namespaces_train_over_tcp(namespaces):
    need_mpi()
    ns, dev = namespaces
    before = _rx_bytes(ns[0], dev[0])
    e = dict(env(), UCX_TLS="tcp,self", MPIR_CVAR_NOLOCAL="1")
    procs = []
    try:
        for node in (1, 0):  # node 1 first: it waits for node 0's mpiexec
            cmd = ["ip", "netns", "exec", ns[node], sys.executable, "-m", "ferrum", "run", "-n", "1",
                   "--nnodes", "2", "--node-rank", str(node), "--master-addr", ADDR[0], "--master-port",
                   "29500", str(SCRIPTS / "two_nodes.py")]
            procs.append(subprocess.Popen(cmd, env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True, start_new_session=True))
        outs = []
        for p in procs:
            try:
                outs.append(p.communicate(timeout=100)[0])
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                outs.append(p.communicate()[0] + "\n(timed out)")
    finally:
        for p in procs:  # the launcher, mpiexec, the hydra proxy and the ranks share one session
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    assert [p.returncode for p in procs] == [0, 0], outs
    text = "".join(outs)
    assert f"TRAINED 0 of 2 on {ADDR[0]}" in text and f"TRAINED 1 of 2 on {ADDR[0]}" in text, text
    assert _rx_bytes(ns[0], dev[0]) - before > 4 << 20  # the 4 MB allreduce went over the veth
