"""The behavioural tests of the conformance suite (run them with ``segmentation-conformance``)."""
