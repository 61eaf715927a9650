"""The deterministic pattern engine: rules over metrics, logs, traces and Kubernetes state that
answer without a model (and whenever Claude is unavailable)."""
