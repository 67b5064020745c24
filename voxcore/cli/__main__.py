"""``python -m voxcore.cli``."""

import sys

from voxcore.cli import main

sys.exit(main())
