"""A local world for opsbot: servers that speak Slack's, Kubernetes', Jaeger's and Claude's
wire protocols, plus scenario packs. The bot never imports this package; only the dev CLI
and the test suite do."""
