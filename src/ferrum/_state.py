"""Process-wide switches read on the per-op hot path (kept as plain module globals for speed)."""

grad_enabled = True  # recording of autograd graphs (no_grad / enable_grad / set_grad_enabled)
inference = False  # inside inference_mode
anomaly = False  # autograd.detect_anomaly / set_detect_anomaly: backward checks gradients for NaN
anomaly_check_nan = True
autocast = False  # any thread inside an enabled autocast region (ops/_autocast.py keeps the per-thread state)
