"""A script driven by argparse and sys.argv that imports a helper module from its own directory."""
import argparse
import sys

import torch

import argv_helper

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="argv test")
    ap.add_argument("name")
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    print("RESULT argv", " ".join(sys.argv[1:]))
    print("RESULT argv0", sys.argv[0].endswith("argv_script.py"))
    print("RESULT parsed", args.name, args.steps, args.scale)
    t = argv_helper.ramp(args.steps) * args.scale
    print("RESULT sum", f"{t.sum().item():.4f}", isinstance(t, torch.Tensor))
    if args.name == "fail":
        sys.exit(3)
