"""A stateful mock of BigCommerce's Customer Segmentation V3 API.

``create_app()`` builds the Flask application; ``segmentation-mock serve`` runs it
under granian (``serving.py``). Layers: ``domain`` (rules, plain Python) → ``storage`` (memory or
SQLite) ← ``http`` (thin handlers validated by the OpenAPI document).
"""

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the package (its pytest plugin, its launcher) loads without
    # the mock's runtime, which the `mock` extra installs.
    if name == "create_app":
        from .http.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
