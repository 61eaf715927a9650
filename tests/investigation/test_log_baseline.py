"""Error lines are only evidence when they deviate from their own baseline, and a question
about a service where nothing deviates is answered that the service is fine (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.investigation.patterns.health import verdict
from bot.investigation.patterns.log_baseline import covered, deviating, error_kind
from tools.logs.aggregation_tools import MessageGroup, TopErrorsData

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TIMEOUT = "failed to load recommendations: context deadline exceeded (timeout 800ms)"


def errors(*groups: tuple[str, dict[str, int]], since: datetime | None = None) -> TopErrorsData:
    made = [
        MessageGroup(
            message=message,
            count=sum(services.values()),
            services=services,
            first_seen=since,
            last_seen=NOW,
        )
        for message, services in groups
    ]
    return TopErrorsData(total_errors=sum(g.count for g in made), groups=made, other_count=0)


def test_an_error_logged_at_its_usual_rate_is_not_evidence_and_is_reported_as_steady() -> None:
    recent = errors((TIMEOUT, {"frontend": 4}))
    baseline = errors((TIMEOUT, {"frontend": 8}))
    kept, steady = deviating(recent, HOUR, baseline, 2 * HOUR)
    assert kept.groups == []
    assert kept.total_errors == 0
    assert [(s.service, s.recent, s.baseline_per_hour) for s in steady] == [("frontend", 4, 4.0)]
    assert "against 4.0 per hour before" in steady[0].describe()


def test_an_error_that_rose_well_above_its_baseline_is_kept() -> None:
    recent = errors((TIMEOUT, {"frontend": 40}))
    baseline = errors((TIMEOUT, {"frontend": 8}))
    kept, steady = deviating(recent, HOUR, baseline, 2 * HOUR)
    assert [g.count for g in kept.groups] == [40]
    assert steady == []


def test_an_error_never_seen_before_is_kept_once_it_repeats() -> None:
    refused = "charge failed: dial tcp 10.0.3.7:8080: connect: connection refused"
    recent = errors((refused, {"checkout": 30}), ("payment declined for order 17", {"checkout": 1}))
    baseline = errors(("payment declined for order 9", {"checkout": 2}))
    kept, _ = deviating(recent, HOUR, baseline, 2 * HOUR)
    assert [g.message for g in kept.groups] == [refused]


def test_only_the_writers_whose_rate_rose_stay_in_a_group() -> None:
    recent = errors((TIMEOUT, {"checkout": 50, "frontend": 4}))
    baseline = errors((TIMEOUT, {"frontend": 8}))
    kept, steady = deviating(recent, HOUR, baseline, 2 * HOUR)
    assert [(g.services, g.count) for g in kept.groups] == [({"checkout": 50}, 50)]
    assert [s.service for s in steady] == ["frontend"]


def test_lines_of_one_failure_class_are_compared_together_whatever_their_numbers() -> None:
    assert error_kind("dial tcp 10.0.0.1:80: connection refused") == error_kind(
        "connect ECONNREFUSED 10.9.9.9:5432"
    )
    assert error_kind("payment declined for order 17") == error_kind(
        "payment declined for order 9000"
    )


def test_without_a_baseline_every_recent_error_still_counts() -> None:
    recent = errors((TIMEOUT, {"frontend": 4}))
    assert deviating(recent, HOUR, None, 6 * HOUR) == (recent, [])
    empty = errors()
    assert deviating(recent, HOUR, empty, 6 * HOUR) == (recent, [])


def test_the_baseline_rate_is_taken_over_the_span_its_lines_cover() -> None:
    baseline = errors((TIMEOUT, {"frontend": 8}), since=NOW - 2 * HOUR)
    assert covered(baseline, NOW, 6 * HOUR) == 2 * HOUR
    assert covered(errors(), NOW, 6 * HOUR) == 6 * HOUR


def test_the_verdict_answers_what_the_question_asks() -> None:
    assert verdict("why is checkout slow?", "checkout") == "checkout is not slow now"
    assert verdict("is payments failing?", "payments") == "payments is not failing now"
    assert verdict("how is inventory?", "inventory") == "inventory looks healthy now"
