"""``python -m mrkit.cli``."""

import sys

from mrkit.cli import main

sys.exit(main())
