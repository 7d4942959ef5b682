"""The HTTP layer: the application factory, the API blueprint, the control plane."""
