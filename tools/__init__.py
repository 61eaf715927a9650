"""Read-only data-source capabilities for the agent and the pattern engine.

Core types live here; `tools.registry.build_toolbox(ToolsConfig(...))` assembles every
configured tool (it imports the backend clients, so it is not imported here).
"""

from tools.base import ErrorKind, Evidence, Tool, ToolArgs, ToolFailure, ToolResult, ToolStatus
from tools.budget import OutputBudget
from tools.config import (
    JaegerConfig,
    KubernetesConfig,
    LogSearchConfig,
    PrometheusConfig,
    ToolsConfig,
)
from tools.toolbox import Toolbox

__all__ = [
    "ErrorKind",
    "Evidence",
    "JaegerConfig",
    "KubernetesConfig",
    "LogSearchConfig",
    "OutputBudget",
    "PrometheusConfig",
    "Tool",
    "ToolArgs",
    "ToolFailure",
    "ToolResult",
    "ToolStatus",
    "Toolbox",
    "ToolsConfig",
]
