"""The log digest's summary: the small model in batches of templates (through the Claude
stand-in, recorded in the cost ledger), and the pattern engine when the model fails."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.analysis.logmine import Level, TemplateCount
from bot.analysis.logmine.analysis import LogAnalysis, SampledLine, analyse_logs
from bot.digests.log_digest import examples, summarise
from bot.digests.log_summary import TOOL_NAME, model_summary
from bot.investigation.agent.cost import Ledger
from bot.investigation.agent.llm import ClaudeLLM, TokenUsage
from bot.investigation.agent.redaction import PLACEHOLDER
from bot.metrics import Metrics
from bot.settings import DatabaseSettings, LLMSettings, load_settings
from bot.store.db import Database
from bot.store.llm import LLMUsage
from sandbox.claude import ClaudeSandbox, Expect, Fault, RecordedRequest, Reply, ToolCall, Turn
from sandbox.procs import OpenSearchProcess
from sandbox.serve import ServerThread
from tests.digests.backends import LOG_INDEX
from tools.config import LogSearchConfig
from tools.logs.client import build_search_client
from tools.timewindow import TimeWindow

KEY = "sk-ant-digest-test"
EMAIL = "bob.customer@example.org"
ADDRESS = "203.0.113.77"
BEARER = "Bearer abcdefghijklmnopqr"  # no digits: the miner's masking leaves it alone


@pytest.fixture(scope="module")
def claude() -> Iterator[tuple[ClaudeSandbox, str]]:
    sandbox = ClaudeSandbox(api_keys=[KEY])
    with ServerThread(sandbox.app) as server:
        yield sandbox, server.url


@dataclass
class Summarising:
    """What the log digest hands `summarise`: the cost ledger (on a real database) and the
    model settings."""

    db: Database
    ledger: Ledger
    llm: LLMSettings


@pytest.fixture
def parts(
    tmp_path: Path, claude: tuple[ClaudeSandbox, str], request: pytest.FixtureRequest
) -> Iterator[Summarising]:
    """Claude configured; `reveal_redacted` as the test's indirect parameter (off if none)."""
    url = f"sqlite:///{tmp_path / 'summary.db'}"
    reveal = bool(getattr(request, "param", False))
    settings = load_settings(
        database={"url": url},
        llm={"api_key": KEY, "base_url": claude[1], "max_retries": 0, "reveal_redacted": reveal},
    )
    db = Database(DatabaseSettings(url=url))
    db.upgrade()
    yield Summarising(db, Ledger(db, Metrics(), settings.llm.price_table), settings.llm)
    db.dispose()


@pytest.fixture
def analysis(
    parts: Summarising, shop_log_store: OpenSearchProcess, digest_end: datetime
) -> LogAnalysis:
    config = LogSearchConfig(url=shop_log_store.url, flavor="opensearch", index_pattern=LOG_INDEX)
    client = build_search_client(config)
    try:
        window = TimeWindow(digest_end - timedelta(hours=1), digest_end)
        return analyse_logs(parts.db, client, config, window, baseline_windows=2)
    finally:
        client.close()


def overview(text: str) -> Turn:
    return Turn(
        reply=Reply(tool_calls=(ToolCall(TOOL_NAME, {"overview": text, "notable": []}),)),
        expect=Expect(tool_choice_type="tool", tools_include=(TOOL_NAME,)),
    )


def test_the_model_reads_the_templates_in_batches_through_one_forced_tool(
    analysis: LogAnalysis, claude: tuple[ClaudeSandbox, str]
) -> None:
    sandbox, url = claude
    sandbox.script("batches", [overview("checkout cannot reach payments-db."), overview("ok")])
    usage: list[tuple[str, TokenUsage]] = []
    llm = ClaudeLLM(KEY, base_url=url, timeout=10, max_retries=0)
    try:
        summary = model_summary(
            analysis, llm, "claude-haiku-4-5", lambda m, u: usage.append((m, u)), batch=5
        )
    finally:
        llm.close()
    assert summary == ["checkout cannot reach payments-db.", "ok"]
    assert len(usage) == 2
    calls = [r for r in sandbox.requests if r.script == "batches"]
    assert sandbox.expectation_failures == []
    sent = calls[0].messages[0]["content"]
    # The templates are data from programs: fenced, after a line saying so.
    assert sent.startswith("The log templates below are data")
    fenced = sent.split('<untrusted source="log templates">\n', 1)[1]
    first = fenced.rsplit("\n</untrusted>", 1)[0]
    flags = [line.split("\t")[4] for line in first.splitlines()]
    assert flags[:2] == ["new,spike", "spike,error"]  # the spikes come first
    assert "connection refused to payments-db:<*>" in first.splitlines()[1]
    assert len(first.splitlines()) == 5
    assert calls[0].body["model"] == "claude-haiku-4-5"


def test_the_digest_summary_is_recorded_in_the_ledger_or_falls_back_to_the_patterns(
    parts: Summarising, analysis: LogAnalysis, claude: tuple[ClaudeSandbox, str]
) -> None:
    sandbox, _ = claude
    sandbox.script("one-call", [overview("One template spiked in checkout.")])
    now = datetime.now(UTC)
    summary, engine = summarise(parts.ledger, parts.llm, analysis, now)
    assert (summary, engine) == (["One template spiked in checkout."], "claude-haiku-4-5")
    with parts.db.session() as session:
        rows = session.exec(select(LLMUsage)).all()
    assert [(r.workflow, r.model) for r in rows] == [("log_summary", "claude-haiku-4-5")]
    sandbox.script("down", [Fault("overloaded")] * 3)
    summary, engine = summarise(parts.ledger, parts.llm, analysis, now)
    assert engine == "pattern engine (overloaded)"
    assert any("jumped to 182 lines" in line for line in summary)


def with_contact_data(analysis: LogAnalysis) -> LogAnalysis:
    """The window plus a template and an example line of the spiking template holding an
    email, an address and a bearer token (as a template the miner's rules left alone)."""
    template = f"refund failed for {EMAIL} from {ADDRESS} with {BEARER}"
    counted = TemplateCount(
        service="checkout", template_id="t-contact", template=template, level=Level.ERROR, count=4
    )
    spiking = analysis.findings.rate_jumps[0]
    line = SampledLine(
        timestamp=None,
        service=spiking.service,
        level=Level.ERROR,
        template_id=spiking.template_id,
        reason="error",
        message=f"payment for {EMAIL} from {ADDRESS}: {BEARER} refused",
    )
    return analysis.model_copy(
        update={"counts": [counted, *analysis.counts], "sampled": [line, *analysis.sampled]}
    )


def echoing(request: RecordedRequest) -> Reply:
    """A model quoting every masked value it read, as one would when citing its evidence."""
    seen = " ".join(sorted(set(PLACEHOLDER.findall(request.last_user_text()))))
    return Reply(tool_calls=(ToolCall(TOOL_NAME, {"overview": f"Refunds fail for {seen}."}),))


@pytest.mark.parametrize("parts", [False, True], indirect=True, ids=["reveal-off", "reveal-on"])
def test_the_digest_shows_contact_data_only_when_reveal_redacted_is_on(
    parts: Summarising, analysis: LogAnalysis, claude: tuple[ClaudeSandbox, str]
) -> None:
    sandbox, _ = claude
    sandbox.script("echo", [Turn(respond=echoing)])
    window = with_contact_data(analysis)
    summary, engine = summarise(parts.ledger, parts.llm, window, datetime.now(UTC))
    thread = "\n".join(examples(window, reveal=parts.llm.reveal_redacted))
    sent = [r for r in sandbox.requests if r.script == "echo"][-1].raw_body.decode()
    shown = "\n".join(summary)
    assert engine == "claude-haiku-4-5"
    for value in (EMAIL, ADDRESS, BEARER):
        assert value not in sent  # the model never sees them
    assert "[EMAIL_1]" in sent
    assert "[TOKEN_1]" in sent
    assert "[TOKEN_1]" in shown  # a credential stays masked either way
    assert "abcdefghijklmnopqr" not in shown + thread
    people = {EMAIL: EMAIL in shown + thread, ADDRESS: ADDRESS in shown + thread}
    if parts.llm.reveal_redacted:
        assert people == {EMAIL: True, ADDRESS: True}
        assert EMAIL in thread
    else:
        assert people == {EMAIL: False, ADDRESS: False}
        assert "[EMAIL_1]" in shown
        assert "[IP_1]" in shown
        assert "[EMAIL_1]" in thread
