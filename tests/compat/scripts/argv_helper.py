"""Imported by argv_script.py from the script's own directory (sys.path[0])."""
import torch


def ramp(n):
    return torch.arange(n, dtype=torch.float32)
