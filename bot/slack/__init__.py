"""The Slack edge: text escaping, the outbound writer, pacing, channels."""
