"""`python -m sandbox up [--scenario NAME] | status | down`: see sandbox/world/cli.py."""

from sandbox.world.cli import main

raise SystemExit(main())
