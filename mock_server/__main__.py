"""``python -m mock_server serve``: the same as ``segmentation-mock serve``."""

import sys

from .cli import main

sys.exit(main())
