"""Training: the fit loop, metrics, diagnostics and checkpoints (torch side)."""
