"""A stateful mock of BigCommerce's Customer Segmentation V3 API.

``create_app()`` builds the Flask application; ``segmentation-mock serve`` runs it
under gunicorn. Layers: ``domain`` (rules, plain Python) → ``storage`` (memory or
SQLite) ← ``http`` (thin handlers validated by the OpenAPI document).
"""

from .http.app import create_app

__all__ = ["create_app"]
