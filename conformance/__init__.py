"""The conformance suite for Customer Segmentation V3 implementations.

Run it with ``segmentation-conformance --base-url URL --store-hash H --token T``, or as a
pytest plugin: ``pytest -p conformance.plugin --pyargs conformance.suite --base-url ...``.
Rules are listed in ``conformance.rules``; the tests are in ``conformance/suite``.
"""
