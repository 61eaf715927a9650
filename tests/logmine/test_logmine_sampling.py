"""Smart sampling: errors and security lines always, rare templates never lost, drops counted."""

from __future__ import annotations

from bot.analysis.logmine import Level, Sampler, SamplingPolicy, decide, detect_level, parse_level


def test_every_error_critical_and_fatal_line_is_kept() -> None:
    sampler = Sampler(SamplingPolicy(shares={Level.INFO: 0.0}, keep_first=0))
    for i in range(200):
        level = (Level.ERROR, Level.CRITICAL, Level.FATAL)[i % 3]
        assert sampler.offer(f"disk failure {i}", "t-disk", level).keep
    assert not sampler.dropped


def test_security_relevant_lines_are_kept_whatever_their_level() -> None:
    policy = SamplingPolicy(shares={Level.INFO: 0.0, Level.DEBUG: 0.0}, keep_first=0)
    sampler = Sampler(policy)
    lines = [
        "Failed password for invalid user admin from 10.0.0.5 port 22 ssh2",
        "pam_unix(sshd:auth): authentication failure; rhost=10.0.0.5",
        "open(/etc/shadow): Permission denied",
        "alice : TTY=pts/0 ; USER=root ; COMMAND=/usr/bin/sudo -i",
        "request rejected: token expired",
        "GET /admin -> 403 Forbidden",
        "Invalid user oracle from 10.0.0.9",
    ]
    for line in lines:
        decision = sampler.offer(line, "t-security", Level.INFO)
        assert decision.reason == "security", line
        assert decision.keep
    assert not sampler.offer("cache warmed", "t-cache", Level.INFO).keep


def test_the_first_lines_of_every_template_are_kept_so_rare_templates_survive() -> None:
    sampler = Sampler(SamplingPolicy(shares={Level.INFO: 0.0}, keep_first=3))
    kept = [sampler.offer(f"GET /health {i}", "t-health", Level.INFO).keep for i in range(10)]
    assert kept == [True] * 3 + [False] * 7
    assert sampler.offer("rare event happened once", "t-rare", Level.INFO).keep


def test_info_lines_are_kept_at_their_share_and_the_rest_counted_per_template_and_level() -> None:
    sampler = Sampler(SamplingPolicy(shares={Level.INFO: 0.1, Level.DEBUG: 0.0}, keep_first=5))
    for i in range(5000):
        sampler.offer(f"served request {i}", "t-served", Level.INFO)
    for i in range(100):
        sampler.offer(f"cache probe {i}", "t-served", Level.DEBUG)
    kept_info = sampler.kept[("t-served", Level.INFO)]
    assert 5 + 400 < kept_info < 5 + 600
    assert sampler.dropped[("t-served", Level.INFO)] == 5000 - kept_info
    assert sampler.dropped_by_template() == {
        "t-served": {Level.DEBUG: 100, Level.INFO: 5000 - kept_info}
    }


def test_sampling_is_reproducible_and_depends_on_the_salt() -> None:
    def run(salt: str) -> list[bool]:
        sampler = Sampler(SamplingPolicy(shares={Level.INFO: 0.5}, keep_first=0, salt=salt))
        return [sampler.offer(f"tick {i}", "t-tick", Level.INFO).keep for i in range(300)]

    assert run("a") == run("a")
    assert run("a") != run("b")


def test_decide_is_a_pure_function_of_its_arguments() -> None:
    policy = SamplingPolicy(shares={Level.INFO: 0.5}, keep_first=2)
    first = [decide("tick", Level.INFO, "t", n, policy) for n in range(50)]
    again = [decide("tick", Level.INFO, "t", n, policy) for n in range(50)]
    assert first == again
    assert {d.reason for d in first[:2]} == {"first_of_template"}
    assert {d.reason for d in first[2:]} == {"sampled_in", "sampled_out"}


def test_levels_are_detected_in_lines_and_normalised_from_names() -> None:
    assert detect_level("2024-01-01 12:00:00 WARN disk almost full") is Level.WARNING
    assert detect_level("[error] upstream timed out") is Level.ERROR
    assert detect_level("kernel: panic: out of memory") is Level.FATAL
    assert detect_level("just some text") is Level.UNKNOWN
    assert parse_level("crit") is Level.CRITICAL
    assert parse_level(None) is Level.UNKNOWN
