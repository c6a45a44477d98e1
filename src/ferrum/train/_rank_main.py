"""The script each rank of ``ferrum train JOB --nproc N`` runs (``ferrum run`` starts scripts):
``ferrum train`` with the same arguments, in a process that joins the job's process group
(ferrum.train.distributed)."""

import os
import sys

# run as a script, this folder is sys.path[0]: drop it, so that its module names (distributed,
# options, loop, ...) cannot shadow top-level packages
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

from ferrum.train import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
