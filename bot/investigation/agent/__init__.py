"""The Claude path: a tool-using agent loop over the data sources, with redaction and fencing
of untrusted text, a token budget, answer caching and the proposals the model may make."""
