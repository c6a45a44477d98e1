"""``python -m ferrum``: the same as the ``ferrum`` command (see ferrum.cli)."""

import sys

from .cli import main

sys.exit(main())
