"""``python -m conformance``: the same as ``segmentation-conformance``."""

import sys

from .cli import main

sys.exit(main())
