"""The Slack edge: connections to Slack, outbound writing, text (moving here from bot/slack_*)."""
