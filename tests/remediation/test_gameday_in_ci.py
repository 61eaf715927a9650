"""The GameDay runs in CI: a scenario played through the whole loop with nobody watching."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def gameday() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gameday", ROOT / "bench" / "gameday.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gameday"] = module
    spec.loader.exec_module(module)
    return module


def test_gameday_heals_the_bad_image_scenario_through_an_approved_rollback() -> None:
    result = gameday().play("bad-image", "supervised")
    assert result.detected_by == "watcher"
    assert result.state == "succeeded"
    assert result.healed is True
    assert result.action.startswith("rollback_deployment")


def test_opsbot_gameday_prints_the_report(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "bot", "gameday", "--scenarios", "node-not-ready"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "GameDay (supervised mode" in result.stdout
    assert "node-not-ready" in result.stdout
    assert "auto-heal rate" in result.stdout
