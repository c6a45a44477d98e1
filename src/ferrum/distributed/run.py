"""``ferrum run``: a torchrun-style launcher over the venv's own MPI process manager (mpiexec from the
``mpich`` wheel, found next to the running Python).

    ferrum run --nproc-per-node 4 train.py --lr 0.1        # 4 ranks here (-n 4 is the short form)
    ferrum run -n 2 --hosts node1,node2 train.py           # 2 ranks on each host (ssh, as mpiexec does)
    ferrum run -n 2 --nnodes 2 --node-rank R --master-addr node1 --master-port 29500 train.py
                                                           # torchrun's way: the same command on each node

It replaces itself with ``mpiexec -n N python -m ferrum.distributed._rank script.py args`` (no
launcher process stays behind to orphan ranks), so mpiexec's own policy applies: when a rank dies
from a signal, every rank is killed and mpiexec exits non-zero. _rank.py completes that policy for
Python errors (an uncaught exception or a non-zero sys.exit aborts the job), and sets RANK,
WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT for scripts that read them.
``mpiexec -n N python -m mpi4py script.py`` (mpi4py's runner, which also aborts on an uncaught
exception) works too (init_process_group takes rank and size from MPI), and under Slurm
``srun --mpi=pmi2 ferrum run --srun script.py`` runs each rank's part of the launcher in the
process srun started (README.md, "Distributed training").

Multi-node with ``--nnodes``/``--node-rank``: node 0 runs mpiexec with hydra's "manual" launcher
listening on MASTER_PORT, and every node (node 0 included) starts its own hydra proxy, which
connects to MASTER_ADDR:MASTER_PORT and starts that node's ranks; nothing needs ssh, and the nodes
may start in any order (the others wait up to 900 s for node 0, torchrun's rendezvous timeout).
Node 0's launcher stays as the parent of mpiexec and its proxy (they get SIGKILL if it dies, and
its SIGTERM/SIGINT are forwarded). The ranks' data then flows over MPICH's network module (UCX or
libfabric, TCP on plain Ethernet); tests/distributed/test_two_nodes.py runs it between two network
namespaces.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

__all__ = ["add_run_parser", "build_command", "find_mpiexec", "main"]


def find_mpiexec(name: str = "mpiexec") -> str:
    """The mpiexec of the environment ferrum runs in (the mpich wheel puts it in the venv's bin)."""
    candidates = [Path(sys.executable).parent / name, Path(sysconfig.get_path("scripts")) / name,
                  Path(sys.prefix) / "bin" / name]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    found = shutil.which(name)
    if found:
        return found
    raise RuntimeError(f"ferrum run: {name} not found next to {sys.executable}: install the dist extra "
                       "(pip install 'ferrum-dl[dist]', which brings mpi4py and the mpich wheel)")


def add_run_parser(sub) -> argparse.ArgumentParser:
    """Registers ``ferrum run`` on the CLI's subparsers."""
    p = sub.add_parser("run", help="launch a script on N processes (torchrun's flags, over MPI)",
                       description="Launch `python script.py args` as an MPI job of N ranks per node.")
    p.add_argument("-n", "--nproc-per-node", "--nproc_per_node", dest="nproc", type=int, default=1,
                   help="ranks per node (default 1)")
    p.add_argument("--nnodes", type=int, default=1, help="number of nodes (torchrun's multi-node form)")
    p.add_argument("--node-rank", "--node_rank", dest="node_rank", type=int, default=0,
                   help="this node's index, 0..nnodes-1")
    p.add_argument("--master-addr", "--master_addr", dest="master_addr", default="127.0.0.1",
                   help="address of node 0 (multi-node: where the other nodes connect)")
    p.add_argument("--master-port", "--master_port", dest="master_port", type=int, default=29500,
                   help="port on node 0 (multi-node: mpiexec's control port)")
    p.add_argument("--hosts", default=None,
                   help="comma-separated hosts, nproc-per-node ranks on each, started over ssh by mpiexec")
    p.add_argument("-m", "--module", action="store_true",
                   help="run `script` as a module (python -m script), as torchrun's -m")
    p.add_argument("--standalone", action="store_true", help="accepted for torchrun's commands: one node")
    p.add_argument("--srun", action="store_true",
                   help="run as one rank started by a scheduler (srun --mpi=pmi2 ...): no mpiexec")
    p.add_argument("--dry-run", action="store_true", help="print the command instead of running it")
    p.add_argument("script", help="the Python script to run on every rank")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    p.set_defaults(func=_cmd)
    return p


def _env(args, world: int) -> dict:
    env = dict(os.environ)
    if args.nproc > 1 and "OMP_NUM_THREADS" not in env:  # as torchrun does: N ranks x all cores overloads
        print("ferrum run: setting OMP_NUM_THREADS=1 for each rank (set it yourself to change this)",
              file=sys.stderr)
        env["OMP_NUM_THREADS"] = "1"
    env.update(MASTER_ADDR=str(args.master_addr), MASTER_PORT=str(args.master_port), WORLD_SIZE=str(world),
               LOCAL_WORLD_SIZE=str(args.nproc), GROUP_RANK=str(args.node_rank), NNODES=str(args.nnodes))
    return env


def _rank_cmd(args) -> list[str]:
    target = ["-m", args.script] if args.module else [args.script]
    return [sys.executable, "-u", "-m", "ferrum.distributed._rank", *target, *args.args]


def build_command(args) -> list[list[str]]:
    """The commands this node runs (the last one in the foreground), from the parsed arguments."""
    if args.nproc < 1 or args.nnodes < 1:
        raise ValueError("ferrum run: --nproc-per-node and --nnodes must be >= 1")
    mpiexec = find_mpiexec()
    if args.hosts:
        hosts = [h for h in args.hosts.split(",") if h]
        return [[mpiexec, "-hosts", ",".join(hosts), "-ppn", str(args.nproc), "-n",
                 str(args.nproc * len(hosts)), *_rank_cmd(args)]]
    if args.nnodes == 1:
        return [[mpiexec, "-n", str(args.nproc), *_rank_cmd(args)]]
    return _manual_commands(args, mpiexec)


def _manual_commands(args, mpiexec: str) -> list[list[str]]:
    if not 0 <= args.node_rank < args.nnodes:
        raise ValueError(f"ferrum run: --node-rank {args.node_rank} is out of range for --nnodes "
                         f"{args.nnodes}")
    proxy = str(Path(mpiexec).parent / "hydra_pmi_proxy")
    # the proxy command line that mpiexec -launcher manual prints (hydra of the pinned mpich wheel),
    # with node 0's address instead of its hostname, so that the other nodes can build it themselves
    proxy_cmd = [proxy, "--control-port", f"{args.master_addr}:{args.master_port}", "--rmk", "user",
                 "--launcher", "manual", "--demux", "poll", "--pgid", "0", "--retries", "30",
                 "--usize", "-1", "--pmi-port", "0", "--gpus-per-proc", "-2", "--gpu-subdevs-per-proc", "-2",
                 "--proxy-id", str(args.node_rank)]
    if args.node_rank != 0:
        return [proxy_cmd]
    hosts = ",".join(f"node{i}:{args.nproc}" for i in range(args.nnodes))
    return [[mpiexec, "-launcher", "manual", "-hosts", hosts, "-n", str(args.nproc * args.nnodes),
             *_rank_cmd(args)], proxy_cmd]


def _cmd(args) -> int:
    if args.srun:  # this process is one rank of a job the scheduler started
        from ._rank import main as rank_main
        sys.argv = [sys.argv[0], *(["-m"] if args.module else []), args.script, *args.args]
        rank_main()
        return 0
    try:
        cmds = build_command(args)
    except (RuntimeError, ValueError) as e:
        print(e, file=sys.stderr)
        return 1
    env = _env(args, args.nproc * (len(args.hosts.split(",")) if args.hosts else args.nnodes))
    if args.dry_run:
        for c in cmds:
            print(" ".join(c))
        return 0
    if args.nnodes > 1 and args.node_rank != 0 and not _wait_for_master(args.master_addr, args.master_port):
        return 1
    if len(cmds) == 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvpe(cmds[0][0], cmds[0], env)
    return _run_manual_master(cmds, env)


RDZV_TIMEOUT = 900.0  # seconds a node waits for node 0 (torchrun's default rendezvous timeout)


def _wait_for_master(addr: str, port: int) -> bool:
    """Waits until node 0's mpiexec listens (hydra's proxy gives up at once when it does not), so the
    nodes may be started in any order. A bare connect-and-close is harmless to mpiexec."""
    deadline = time.monotonic() + RDZV_TIMEOUT
    told = False
    while True:
        try:
            socket.create_connection((addr, port), timeout=5).close()
            return True
        except OSError as e:
            if time.monotonic() > deadline:
                print(f"ferrum run: node 0 at {addr}:{port} did not come up in {RDZV_TIMEOUT:.0f} s ({e})",
                      file=sys.stderr)
                return False
            if not told:
                print(f"ferrum run: waiting for node 0 at {addr}:{port} ...", file=sys.stderr, flush=True)
                told = True
            time.sleep(0.5)


def _die_with_parent() -> None:
    """In a child: receive SIGKILL when the launcher dies, so a killed launcher leaves nothing behind."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run_manual_master(cmds: list[list[str]], env: dict) -> int:
    """Node 0 of a multi-node job: mpiexec in the background (it prints the proxy command lines of the
    manual launcher, which are ours to start), then this node's proxy; exits with mpiexec's status."""
    env = dict(env, MPIEXEC_PORT_RANGE=f"{env['MASTER_PORT']}:{env['MASTER_PORT']}")
    master = subprocess.Popen(cmds[0], env=env, stdout=subprocess.PIPE, text=True,
                              preexec_fn=_die_with_parent)
    procs = [master]

    def stop(signum, frame):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        for line in master.stdout:
            if line.startswith("HYDRA_LAUNCH"):
                if line.startswith("HYDRA_LAUNCH_END") and len(procs) == 1:
                    procs.append(subprocess.Popen(cmds[1], env=env, preexec_fn=_die_with_parent))
                continue
            sys.stdout.write(line)
            sys.stdout.flush()
        return master.wait()
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ferrum")
    add_run_parser(ap.add_subparsers(dest="command"))
    args = ap.parse_args(["run", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
