"""``segmentation-mock``: says what to install when the mock's runtime is missing
(the distribution's own requirements are the conformance suite's; the mock server
needs the ``mock`` extra), instead of an ImportError's traceback."""

from __future__ import annotations

import importlib
import sys

RUNTIME = ("flask", "openapi_core", "granian")


def main() -> int:
    if sys.argv[1:] == ["--version"]:  # answered without the mock's runtime
        from segmentation_contract import package_version

        print(f"segmentation-mock {package_version()}")
        return 0
    try:
        for module in RUNTIME:
            importlib.import_module(module)
        from .cli import main as run
    except ImportError as missing:
        print(f"segmentation-mock needs the mock's runtime ({missing.name} is not installed): "
              "pip install 'bc-segmentation-harness[mock]'", file=sys.stderr)
        return 2
    return run()
