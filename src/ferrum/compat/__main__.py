"""``python -m ferrum.compat script.py args...``: run a PyTorch program with ferrum as torch."""

import sys

from ferrum.compat._runner import main

sys.exit(main())
