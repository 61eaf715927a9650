"""The whole sandbox at once: every backend on loopback ports, loaded with a scenario.

from sandbox.world import World, WorldOptions
with World(WorldOptions()).start() as world:
    world.route_alerts_to("http://127.0.0.1:3000/alertmanager")
    world.run_scenario("oom-kill")
"""

from sandbox.world.backends import WorldOptions, WorldUrls
from sandbox.world.world import LoadedRecording, LoadedScenario, World

__all__ = ["LoadedRecording", "LoadedScenario", "World", "WorldOptions", "WorldUrls"]
