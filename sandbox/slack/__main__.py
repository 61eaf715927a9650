"""python -m sandbox.slack: run the emulated workspace until interrupted."""

from __future__ import annotations

import argparse
import threading

from sandbox.slack.config import SlackConfig
from sandbox.slack.workspace import SlackWorkspace


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = SlackConfig()
    parser = argparse.ArgumentParser(prog="python -m sandbox.slack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--bot-url", default=defaults.bot_url, help="the bot's request URL")
    parser.add_argument("--signing-secret", default=defaults.signing_secret)
    parser.add_argument("--bot-token", default=defaults.bot_token)
    parser.add_argument("--app-token", default=defaults.app_token)
    parser.add_argument("--delivery", choices=["http", "socket"], default=defaults.delivery)
    parser.add_argument("--post-rate", type=float, default=defaults.post_message_rate)
    parser.add_argument("--post-burst", type=int, default=defaults.post_message_burst)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    config = SlackConfig(
        bot_token=args.bot_token,
        app_token=args.app_token,
        signing_secret=args.signing_secret,
        bot_url=args.bot_url or None,
        delivery=args.delivery,
        post_message_rate=args.post_rate,
        post_message_burst=args.post_burst,
    )
    workspace = SlackWorkspace(config)
    url = workspace.serve(args.host, args.port)
    print(url, flush=True)
    print(f"Web API base_url: {workspace.api_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        workspace.close()


if __name__ == "__main__":
    main()
