"""Redaction before the model: property-based (hypothesis) and by example."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.investigation.agent.redaction import Redactor, luhn_valid

noise = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
emails = st.from_regex(r"[a-z][a-z0-9._]{0,10}@[a-z][a-z0-9]{0,8}\.(com|io|org)", fullmatch=True)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda parts: ".".join(map(str, parts)))
jwt = st.from_regex(
    r"eyJ[A-Za-z0-9_-]{8,20}\.eyJ[A-Za-z0-9_-]{8,20}\.[A-Za-z0-9_-]{8,30}", fullmatch=True
)
aws_keys = st.from_regex(r"AKIA[0-9A-Z]{16}", fullmatch=True)


def with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


cards = st.from_regex(r"4[0-9]{14}", fullmatch=True).map(with_check_digit)
secrets = st.one_of(emails, ipv4, jwt, aws_keys, cards)


@settings(max_examples=200, deadline=None)
@given(noise, secrets, noise)
def test_a_secret_between_arbitrary_text_never_survives_redaction(
    before: str, secret: str, after: str
) -> None:
    masked = Redactor().redact(f"{before} {secret} {after}")
    assert secret not in masked


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(noise, secrets, st.just("[EMAIL_1]"), st.just("Bearer abcdefgh12")), max_size=8
    )
)
def test_restoring_a_redacted_text_gives_back_exactly_the_original(parts: list[str]) -> None:
    redactor = Redactor()
    text = " ".join(parts)
    assert redactor.restore(redactor.redact(text)) == text


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"4[0-9]{15}", fullmatch=True).filter(lambda n: not luhn_valid(n)))
def test_digit_runs_that_fail_the_luhn_check_are_kept(number: str) -> None:
    assert Redactor().redact(f"order {number} shipped") == f"order {number} shipped"


def test_the_same_value_gets_the_same_placeholder_and_configured_patterns_are_masked() -> None:
    redactor = Redactor([r"tenant-[0-9]{4}"])
    text = "bob@x.io paid; bob@x.io again; tenant-0042 from 10.0.0.1 with Bearer s3cr3t-t0ken-value"
    assert redactor.redact(text) == (
        "[EMAIL_1] paid; [EMAIL_1] again; [SECRET_1] from [IP_1] with Bearer [TOKEN_1]"
    )
    assert redactor.mapping["[IP_1]"] == "10.0.0.1"


def test_versions_and_timestamps_are_not_mistaken_for_addresses_or_cards() -> None:
    text = "release 1.2.3.4.5 at 2024-05-01T12:00:00Z took 1234567890123 ns"
    assert Redactor().redact(text) == text
