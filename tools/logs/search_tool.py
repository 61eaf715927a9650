"""Log search by window, service, level and free text, newest lines first."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.base import ToolResult
from tools.budget import fit_items, shorten
from tools.logs.base import LogFilterArgs, LogTool, describe_filter, log_filter, total_hits
from tools.logs.client import hits_of
from tools.logs.dsl import Level, LogRecord, record_from_hit, search_body
from tools.timewindow import format_duration, iso


class LogSearchData(BaseModel):
    """Structured result of log_search."""

    total: int = Field(description="All matching documents, not only those returned.")
    records: list[LogRecord] = Field(description="Newest first.")
    page_size: int = Field(description="How many were asked for after the cap.")


class LogSearchArgs(LogFilterArgs):
    level: Level | None = Field(
        None, description="Only this level (aliases such as warning/WARN are included)."
    )
    limit: int = Field(
        20,
        ge=1,
        le=500,
        description="Most lines to return (at most the cap in the tool description).",
    )


class LogSearchTool(LogTool[LogSearchArgs]):
    name = "log_search"
    description = (
        "Search application logs in a time window by service, level and words in the "
        "message; returns the newest matching lines and the total count. Use "
        "log_top_errors first to see which errors dominate."
    )
    args_model = LogSearchArgs

    def caps(self) -> str:
        c = self.config
        return (
            f"at most {c.max_page_size} lines per call; window at most "
            f"{format_duration(c.max_window)}; messages cut at {c.message_chars} characters; "
            f"about {c.output.max_tokens} tokens"
        )

    def execute(self, args: LogSearchArgs) -> ToolResult:
        levels = (args.level,) if args.level else ()
        chosen = log_filter(args, self.clock(), self.config, levels)
        size = min(args.limit, self.config.max_page_size)
        body = search_body(chosen, self.config, size)
        response = self.search(body)
        records = [record_from_hit(hit, self.config) for hit in hits_of(response)]
        total = total_hits(response)
        data = LogSearchData(total=total, records=records, page_size=size)
        scope = describe_filter(chosen)
        if not records:
            content = (
                f"No data: no log lines match{scope}. Check the service name, drop the text "
                "filter, or widen the window."
            )
            evidence = self.evidence(body, chosen, "no data")
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        header = f"{total} log lines match{scope}; newest {len(records)} shown"
        if size < args.limit:
            header += f" (page size capped at {size})"
        lines = [self._line(record) for record in records]
        content, left_out = fit_items(
            header + ":",
            lines,
            self.config.output.max_chars,
            lambda n: (
                f"... and {n} more returned lines left out to save space; narrow the "
                "filter or use log_top_errors to group them."
            ),
        )
        evidence = self.evidence(body, chosen, lines[0])
        return ToolResult.success(
            self.name,
            content,
            data=data,
            evidence=[evidence],
            truncated=left_out > 0 or total > len(records),
        )

    def _line(self, record: LogRecord) -> str:
        when = iso(record.timestamp) if record.timestamp else "?"
        level = (record.level or "?").upper()
        message = shorten(record.message, self.config.message_chars)
        return f"- {when} [{level}] {record.service or '?'}: {message}"
