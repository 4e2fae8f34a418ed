"""``python -m pm``: the same as the ``pm`` console script."""

import sys

from .cli import main

sys.exit(main())
