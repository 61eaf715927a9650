"""Per-channel Slack pacing shared by every replica, through Redis.

Each process paces its own writes (bot.slack.outbox), but N replicas posting to one channel
would together exceed Slack's ~1 message/s. So before a write the outbox also asks this
gate for a slot: a GCRA (one key per channel holding its "theoretical arrival time"),
updated by one Lua script so the check-and-take is atomic across replicas. Redis's own
clock is used, so replicas' clocks need not agree. With burst ≥ 2 only the most urgent
priority (0, thread headers) may take the last slot, as in the per-process bucket; and
any other write waits a fifth of a slot past it, so when a header on one replica and a
triage on another both wait for the same slot, the header gets it (each process still
orders its own queue).

The same gate paces edits (chat.update) under one key for the workspace, `reserve=False`:
Slack limits that method per workspace (Web API Tier 3, "50+ per minute"), not per channel,
and headers are never edits, so no slot is kept back for them.

When Redis is unreachable the gate lets every write through for a short cool-down and the
per-process bucket alone paces (degraded: replicas may then draw Slack 429s, which the
WebClient retries).
"""

from __future__ import annotations

import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.logs import get_logger

log = get_logger("opsbot.slack.pacing")

# KEYS[1]: the channel's key, holding its theoretical arrival time (TAT). ARGV: interval
# (s per message), burst, need (1, or 2 to leave the last slot to headers), grace (s a
# non-header waits past its slot, so a header asking at the slot from any replica gets it).
# Returns {1, ""} when a slot was taken, else {0, seconds to wait} (a string: Lua numbers
# become integers on the way out). The key outlives its TAT by one interval so a slot that
# just opened is still known to be contested.
_GCRA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local need = tonumber(ARGV[3])
local grace = tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local stored = tonumber(redis.call('GET', KEYS[1]))
local allowance = (burst - need) * interval
local wait = -allowance
if stored then wait = stored - allowance + grace - now end
if wait > 0 then
  return {0, string.format('%.6f', wait)}
end
local base = now
if stored then
  if stored > base then base = stored end
  if grace > 0 and stored > now - grace then base = stored end
end
local tat = base + interval
redis.call('SET', KEYS[1], string.format('%.6f', tat),
  'PX', math.max(1, math.ceil((tat - now + interval) * 1000)))
return {1, ''}
"""
# Gives back one slot: moves the TAT one interval earlier, not before now.
_REFUND = """
local interval = tonumber(ARGV[1])
local stored = tonumber(redis.call('GET', KEYS[1]))
if not stored then return 0 end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tat = math.max(now, stored - interval)
redis.call('SET', KEYS[1], string.format('%.6f', tat),
  'PX', math.max(1, math.ceil((tat - now + interval) * 1000)))
return 1
"""
GRACE_OF_INTERVAL = 0.2  # a non-header's head start given to headers, as a share of a slot


class SharedPacing:
    """The cross-replica half of the outbox's pacing (see module doc)."""

    def __init__(
        self,
        client: redis.Redis,
        rate: float,
        burst: int,
        prefix: str = "opsbot:",
        retry_after: float = 5.0,
        reserve: bool = True,
    ) -> None:
        self._client = client
        self._script = client.register_script(_GCRA)
        self._refund = client.register_script(_REFUND)
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._burst = max(1, burst)
        self._reserve = reserve  # with burst >= 2 keep the last slot for headers (priority 0)
        self._prefix = prefix + "slack-pace:"
        self._retry_after = retry_after
        self._down_until = 0.0
        self.degraded_takes = 0  # writes let through on per-process pacing alone

    @classmethod
    def from_url(
        cls, url: str, rate: float, burst: int, prefix: str, *, reserve: bool = True
    ) -> SharedPacing:
        """A gate with its own connection that fails fast (no retries, short timeouts): a
        write must not wait seconds on a dead Redis before pacing per process."""
        client = redis.Redis.from_url(
            url,
            socket_timeout=1.0,
            socket_connect_timeout=0.5,
            retry=Retry(NoBackoff(), 0),
        )
        return cls(client, rate, burst, prefix, reserve=reserve)

    def refund(self, channel: str) -> None:
        """Give back a slot taken for a write that did not happen (best effort)."""
        if self._interval <= 0 or time.monotonic() < self._down_until:
            return
        try:
            self._refund(keys=[self._prefix + channel], args=[self._interval])
        except redis.RedisError as exc:
            log.info("could not give back a Slack pacing slot", error=str(exc)[:200])

    def close(self) -> None:
        self._client.close()

    def wait(self, channel: str, priority: int) -> float:
        """Take a slot for one write to `channel` (0.0) or say how many seconds to wait."""
        if self._interval <= 0:
            return 0.0
        if time.monotonic() < self._down_until:
            self.degraded_takes += 1
            return 0.0
        urgent = priority == 0 or not self._reserve
        need = 1 if urgent or self._burst < 2 else 2
        grace = 0.0 if urgent else GRACE_OF_INTERVAL * self._interval
        try:
            taken, wait = self._script(
                keys=[self._prefix + channel], args=[self._interval, self._burst, need, grace]
            )
        except redis.RedisError as exc:
            if self._down_until <= time.monotonic():
                log.warning("shared Slack pacing unavailable; pacing per process", error=str(exc))
            self._down_until = time.monotonic() + self._retry_after
            self.degraded_takes += 1
            return 0.0
        return 0.0 if int(taken) == 1 else max(0.001, float(wait))
