"""Investigation: the shared models, the investigator, its sources and the eval harness."""
