"""Log template mining, smart sampling and window findings."""

from bot.analysis.logmine.findings import (
    NewTemplate,
    RateJump,
    TemplateCount,
    WindowFindings,
    new_templates,
    rate_jumps,
    top_error_templates,
    window_findings,
)
from bot.analysis.logmine.masking import BUILTIN_RULES, WILDCARD, Masker, MaskRule
from bot.analysis.logmine.miner import TemplateMiner
from bot.analysis.logmine.model import Cluster, MatchResult, MinerConfig
from bot.analysis.logmine.sampling import (
    Level,
    SampleDecision,
    Sampler,
    SamplingPolicy,
    decide,
    detect_level,
    parse_level,
)

__all__ = [
    "BUILTIN_RULES",
    "WILDCARD",
    "Cluster",
    "Level",
    "MaskRule",
    "Masker",
    "MatchResult",
    "MinerConfig",
    "NewTemplate",
    "RateJump",
    "SampleDecision",
    "Sampler",
    "SamplingPolicy",
    "TemplateCount",
    "TemplateMiner",
    "WindowFindings",
    "decide",
    "detect_level",
    "new_templates",
    "parse_level",
    "rate_jumps",
    "top_error_templates",
    "window_findings",
]
