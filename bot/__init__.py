"""opsbot: a Slack-first AIOps bot."""

__version__ = "0.1.0"
