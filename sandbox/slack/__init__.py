"""A local Slack workspace: a faithful Web API, request delivery over HTTP or Socket Mode,
and a browser page to act as people in it."""

from sandbox.slack.app import create_app
from sandbox.slack.config import SlackConfig
from sandbox.slack.delivery import DeliveryResult
from sandbox.slack.workspace import Delivery, SlackWorkspace

__all__ = ["Delivery", "DeliveryResult", "SlackConfig", "SlackWorkspace", "create_app"]
