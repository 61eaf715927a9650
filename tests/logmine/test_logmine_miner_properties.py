"""Any text, hostile or not, is absorbed by a template that fits it, and survives a restart."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analysis.logmine import MinerConfig, TemplateMiner
from bot.analysis.logmine.masking import Masker
from bot.analysis.logmine.matching import token_matches

_PIECES = st.sampled_from(
    ["GET", "DELETE", "user=root", "user=", '"View Lock"', '"', "=", "Mar", "3", "ms", "sec",
     "(x)", "<*>", "a:b", "host-7", "é", "\t", "10.0.0.1:80", "key==v", "'", "{}"]
)  # fmt: skip
_LINE = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=10).map(" ".join)


@settings(max_examples=40, deadline=None)
@given(st.lists(_LINE, min_size=1, max_size=40))
def test_every_line_fits_the_template_it_joined_and_a_restored_miner_continues_alike(
    lines: list[str],
) -> None:
    miner = TemplateMiner(MinerConfig(max_clusters=8, merge_variants=2))
    masker = Masker()
    half = len(lines) // 2
    for line in lines[:half]:
        result = miner.add(line)
        cluster = miner.get(result.cluster_id)
        assert cluster is not None
        tokens = masker.mask_tokens(line)
        assert len(cluster.tokens) == len(tokens)
        assert all(map(token_matches, cluster.tokens, tokens))
        assert len(miner.clusters) <= 8
    restored = TemplateMiner.from_state(json.loads(json.dumps(miner.to_state())))
    rest = lines[half:]
    assert [restored.add(x) for x in rest] == [miner.add(x) for x in rest]
    assert restored.to_state() == miner.to_state()
