"""After validation: only "worse" undoes; "not recovered" keeps the change and calls humans;
a rollback away from a failing revision is never undone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.remediation.aftermath import after_validation
from bot.remediation.records import ActionState
from bot.remediation.validation import AllOf, Health, Reading, judge
from policies import ActionKind

KINDS = st.sampled_from(list(ActionKind))


@given(kind=KINDS, has_inverse=st.booleans(), failing_before=st.booleans())
def test_an_action_that_did_not_help_is_never_undone_and_always_escalated(
    kind: ActionKind, has_inverse: bool, failing_before: bool
) -> None:
    decided = after_validation(
        Health.NOT_RECOVERED, kind=kind, has_inverse=has_inverse, failing_before=failing_before
    )
    assert not decided.undo
    assert decided.escalate
    assert decided.state is ActionState.NOT_RECOVERED


@given(kind=KINDS, has_inverse=st.booleans(), failing_before=st.booleans())
def test_a_recovered_action_is_kept_quietly(
    kind: ActionKind, has_inverse: bool, failing_before: bool
) -> None:
    decided = after_validation(
        Health.RECOVERED, kind=kind, has_inverse=has_inverse, failing_before=failing_before
    )
    assert (decided.state, decided.undo, decided.escalate) == (ActionState.SUCCEEDED, False, False)


@given(kind=KINDS, failing_before=st.booleans())
def test_worse_undoes_unless_it_would_redeploy_a_failing_revision(
    kind: ActionKind, failing_before: bool
) -> None:
    decided = after_validation(
        Health.WORSE, kind=kind, has_inverse=True, failing_before=failing_before
    )
    redeploys_failure = kind is ActionKind.ROLLBACK_DEPLOYMENT and failing_before
    assert decided.undo is not redeploys_failure
    assert decided.escalate
    assert decided.state is (ActionState.FAILED if redeploys_failure else ActionState.ROLLED_BACK)


def test_worse_without_an_inverse_is_escalated_and_nothing_is_undone() -> None:
    decided = after_validation(
        Health.WORSE, kind=ActionKind.RESTART_DEPLOYMENT, has_inverse=False, failing_before=True
    )
    assert (decided.state, decided.undo, decided.escalate) == (ActionState.FAILED, False, True)


class Fixed:
    def __init__(self, description: str, reading: Reading) -> None:
        self.description = description
        self.reading = reading

    def read(self) -> Reading:
        return self.reading


def test_both_signals_must_clear_and_either_one_getting_worse_is_worse() -> None:
    def both(proof: float | None, alert: float | None) -> Reading:
        return AllOf(Fixed("proof", Reading(proof)), Fixed("alert", Reading(alert))).read()

    before = both(1.0, 1.0)
    assert judge(before, both(None, None), 0.25) is Health.RECOVERED
    assert judge(before, both(None, 1.0), 0.25) is Health.NOT_RECOVERED  # the alert holds
    assert judge(before, both(3.0, None), 0.25) is Health.WORSE
    assert judge(both(None, 1.0), both(2.0, 1.0), 0.25) is Health.WORSE  # a new failure
    assert judge(both(None, 1.0), both(0.0, 1.0), 0.25) is Health.NOT_RECOVERED  # rolling


@given(
    before=st.one_of(st.none(), st.floats(0, 1e6)),
    after=st.floats(0, 1e6),
)
def test_a_reading_no_higher_than_before_is_never_worse(before: float | None, after: float) -> None:
    if before is not None and after <= before:
        assert judge(Reading(before), Reading(after), 0.0) is not Health.WORSE
    if after == 0:
        assert judge(Reading(before), Reading(after), 0.25) is Health.NOT_RECOVERED
