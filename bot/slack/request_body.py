"""Reading untrusted HTTP request bodies: bounded in size, UTF-8 only."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request

from bot.errors import BadInput


def charset_of(content_type: str) -> str | None:
    """The `charset` parameter of a Content-Type header, lower-cased, if any."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def require_utf8(content_type: str) -> None:
    """BadInput (415) for a declared charset other than UTF-8: the body is read as UTF-8."""
    charset = charset_of(content_type)
    if charset is not None and charset not in ("utf-8", "utf8"):
        raise BadInput(f"charset must be utf-8, not '{charset[:40]}'", status=415)


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is over `limit` bytes: refused on its Content-Length
    before a byte is read, else as soon as the stream passes the limit (a sender that
    lies about, or omits, Content-Length cannot make the process hold more). A client
    that hangs up, or is cut off by the server's read deadline, before the body is whole
    is BadInput (400): nothing half-read is ever handled."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        raise BadInput("the connection closed before the whole body arrived") from None
    return b"".join(chunks)
