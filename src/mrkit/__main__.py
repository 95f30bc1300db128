"""``python -m mrkit``."""

import sys

from mrkit.cli import main

sys.exit(main())
