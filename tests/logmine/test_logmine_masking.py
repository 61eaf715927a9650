"""Masking: which variables become <*> and which words stay."""

from __future__ import annotations

import random
import re

import pytest

from bot.analysis.logmine.masking import Masker, MaskRule


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("Connection to 10.0.0.1:8080 timed out", "Connection to <*>:<*> timed out"),
        ("peer [fe80::1]:443 and 2001:db8::ff00:42:8329 ok", "peer [<*>]:<*> and <*> ok"),
        ("request 550e8400-e29b-41d4-a716-446655440000 done", "request <*> done"),
        ("fault at 0x7fff5fbff8a8", "fault at <*>"),
        ("deleting blk_-1608999687919862906 now", "deleting <*> now"),
        ("took 12ms then 1.5s", "took <*> then <*>"),
        ("at 2024-01-02T10:11:12.123Z", "at <*>"),
        ("on 2017-07-01 10:11:12 local", "on <*>-<*>-<*> <*>:<*>:<*> local"),
        ("mail bob@example.com bounced", "mail <*> bounced"),
        ("GET https://api.example.com/v1/users?id=7 failed", "GET https://<*> failed"),
        ("open /var/log/syslog: no such file", "open <*>: no such file"),
        ("retries=3 tty=ssh", "retries=<*> tty=ssh"),
        ("BSSID changed to 5c:50:15:36:bc:03", "BSSID changed to <*>"),
        ("free 317.5 MB, used 16KB", "free <*>, used <*>"),
        ("host db-1.prod.example.com is down", "host <*> is down"),
        ("appattempt_1445144423722_0020_000001 started", "<*> started"),
        ("enabled=true while cache is null", "enabled=<*> while cache is <*>"),
        ("pod api-7d9f8b6c5-xk2p9 restarted", "pod <*> restarted"),
        ("connect to msra-sa-41:8030 refused", "connect to <*>:<*> refused"),
    ],
)
def test_variables_are_masked_keeping_their_delimiters(line: str, masked: str) -> None:
    assert Masker().mask(line) == masked


def test_words_that_merely_contain_digits_stay_words() -> None:
    masked = Masker().mask("L3 cache on x86_64 speaks UTF-8 to worker-2")
    assert masked == "L3 cache on x86_64 speaks UTF-<*> to worker-<*>"


def test_extra_rules_run_on_the_whole_line_before_the_builtin_ones() -> None:
    masker = Masker([MaskRule("tenant", r"tenant \w+", "tenant <*>")])
    assert masker.mask("tenant acme hit quota of 10") == "tenant <*> hit quota of <*>"


def test_masking_without_builtins_only_applies_the_extra_rules() -> None:
    masker = Masker([MaskRule("code", r"E\d+")], builtins=False)
    assert masker.mask("E42 at 10.0.0.1") == "<*> at 10.0.0.1"


def test_a_long_lived_masker_masks_exactly_like_a_fresh_one() -> None:
    rng = random.Random(5)
    shapes = [
        "user {w} from {ip}:{n} port {n}",
        "x={n} y={n}.{n} id=req-{n} 0x{h}",
        "Received block blk_{n} of size {n} from /{ip}",
        "L{d} tree level {n}: {n}ms  [{n}] v{d}.{d}",
        "pod web-{d}f{d}c{d}b{d}d-x{d}k{d}z on node-pool-{n} at 2024-0{d}-1{d}T10:1{d}:00Z",
    ]
    seasoned = Masker()

    def fill(shape: str) -> str:
        return shape.format(
            w=rng.choice(["root", "admin", "x86_64"]),
            ip=".".join(str(rng.randrange(256)) for _ in range(4)),
            n=rng.randrange(10**6),
            h=f"{rng.randrange(16**8):x}",
            d=rng.randrange(10),
        )

    for _ in range(400):
        line = re.sub(r"\{n\}", lambda _m: str(rng.randrange(10**7)), fill(rng.choice(shapes)))
        assert seasoned.mask(line) == Masker().mask(line)


def test_a_quoted_phrase_stays_one_token_and_an_unmatched_quote_is_kept() -> None:
    masker = Masker()
    assert masker.mask_tokens('wake lock tag="View Lock", uid=1000') == [
        "wake",
        "lock",
        'tag="View Lock",',
        "uid=<*>",
    ]
    assert masker.mask_tokens('say "hello there') == ["say", '"hello', "there"]
