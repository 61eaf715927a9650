"""The streaming template miner: grouping, templates, bookkeeping and its memory bound."""

from __future__ import annotations

from bot.analysis.logmine import MinerConfig, TemplateMiner


def test_lines_differing_only_in_variables_share_one_template() -> None:
    miner = TemplateMiner()
    first = miner.add("Connection to 10.0.0.1 timed out after 500 ms")
    second = miner.add("Connection to 10.0.0.7 timed out after 30000 ms")
    assert first.cluster_id == second.cluster_id
    assert second.template == "Connection to <*> timed out after <*> ms"
    assert (first.change, second.change) == ("created", "none")


def test_a_token_with_digits_that_varies_becomes_a_wildcard() -> None:
    miner = TemplateMiner()
    miner.add("Backup of volume vol7a finished without errors")
    result = miner.add("Backup of volume data2 finished without errors")
    assert result.template == "Backup of volume <*> finished without errors"
    assert result.change == "updated"


def test_two_events_differing_only_in_a_verb_stay_apart() -> None:
    miner = TemplateMiner()
    ids = [
        miner.add(f"{verb} request for /api/v1/items served in 12 ms").cluster_id
        for verb in ("GET", "DELETE", "GET", "DELETE", "GET")
    ]
    assert ids[0::2] == [ids[0]] * 3
    assert ids[1] == ids[3] != ids[0]
    started = miner.add("Service billing started on this node").cluster_id
    assert miner.add("Service billing stopped on this node").cluster_id != started


def test_a_value_after_a_key_varies_like_a_number() -> None:
    miner = TemplateMiner()
    miner.add("authentication failure; tty=ssh user=root")
    result = miner.add("authentication failure; tty=ssh user=uucp")
    assert result.template == "authentication failure; tty=ssh user=<*>"


def test_month_names_and_duration_units_vary_like_numbers() -> None:
    miner = TemplateMiner()
    first = miner.add("nightly backup of the orders database finished Mar 3 after 250 ms")
    second = miner.add("nightly backup of the orders database finished Apr 8 after 2 sec")
    assert first.cluster_id == second.cluster_id
    assert second.template == "nightly backup of the orders database finished <*> <*> after <*> <*>"


def test_with_a_repeat_limit_a_position_of_often_repeated_words_is_not_folded() -> None:
    miner = TemplateMiner(MinerConfig(fold_max_repeats=4))
    line = "{} request for /api/v1/items answered with status 200"
    for verb in ("GET", "PUT") * 10:
        miner.add(line.format(verb))
    deleted = miner.add(line.format("DELETE"))
    assert deleted.change == "created"
    assert len(miner.clusters) == 3
    users = [miner.add(f"User {name} logged in from the console") for name in "abcd"]
    assert users[2].template == "User <*> logged in from the console"
    assert len(miner.clusters) == 4


def test_values_of_the_same_keys_agree_even_when_several_are_words() -> None:
    miner = TemplateMiner()
    first = miner.add('acquire lock=1, tag="RILJ_ACK_WL", name=com.android.phone, ws=null')
    second = miner.add('acquire lock=2, tag="View Lock", name=android, ws=WorkSource{7}')
    assert first.cluster_id == second.cluster_id
    assert second.template == 'acquire lock=<*>, tag="<*>", name=<*>, ws=<*>'


def test_a_word_already_seen_as_a_value_is_a_value_in_other_templates_too() -> None:
    miner = TemplateMiner()
    miner.add("authentication failure; tty=ssh user=root")
    miner.add("authentication failure; tty=ssh user=uucp")
    first = miner.add("Failed password for root from 10.0.0.1 port 22 ssh2")
    second = miner.add("Failed password for uucp from 10.0.0.2 port 22 ssh2")
    assert first.cluster_id == second.cluster_id
    assert second.template == "Failed password for <*> from <*> port <*> ssh2"


def test_a_leading_word_seen_with_three_values_is_folded_into_one_template() -> None:
    miner = TemplateMiner()
    first = miner.add("User alice logged in from the console")
    second = miner.add("User bob logged in from the console")
    assert first.cluster_id != second.cluster_id  # two values could be two events
    third = miner.add("User carol logged in from the console")
    assert third.cluster_id == first.cluster_id
    assert third.template == "User <*> logged in from the console"
    assert miner.add("User bob logged in from the console").cluster_id == first.cluster_id
    folded = miner.get(second.cluster_id)
    assert folded is not None
    assert folded.cluster_id == first.cluster_id
    assert folded.count == 4
    assert len(miner.clusters) == 1


def test_the_stable_part_of_a_varying_token_is_kept() -> None:
    miner = TemplateMiner()
    miner.add("session opened for user=alice by (uid=0)")
    result = miner.add("session opened for user=bob by (uid=0)")
    assert result.template == "session opened for user=<*> by (uid=<*>)"


def test_a_first_word_seen_with_three_values_keeps_its_stable_part() -> None:
    miner = TemplateMiner()
    ids = [
        miner.add(f"com.apple.{job}: scheduler told me to run this job; ignoring").cluster_id
        for job in ("CacheDelete.daily", "icloud.heartbeat", "Safari.Update", "xpc.launchd")
    ]
    clusters = {id(miner.get(i)) for i in ids}
    assert len(clusters) == 1
    cluster = miner.get(ids[-1])
    assert cluster is not None
    assert cluster.template == "com.apple.<*>: scheduler told me to run this job; ignoring"
    assert cluster.count == 4


def test_different_messages_of_the_same_length_stay_apart() -> None:
    miner = TemplateMiner()
    a = miner.add("Starting executor ID 3 on host mesos-slave-07")
    b = miner.add("Finished task 3.0 in stage 7.0 (TID 42)")
    c = miner.add("Registered signal handlers for [TERM, HUP, INT]")
    assert len({a.cluster_id, b.cluster_id, c.cluster_id}) == 3


def test_a_cluster_records_count_first_and_last_seen_and_a_few_examples() -> None:
    miner = TemplateMiner(MinerConfig(max_examples=2))
    for i, at in enumerate((100.0, 105.0, 130.0)):
        result = miner.add(f"PacketResponder {i} for block blk_{i}99 terminating", timestamp=at)
    cluster = miner.get(result.cluster_id)
    assert cluster is not None
    assert (cluster.count, cluster.first_seen, cluster.last_seen) == (3, 100.0, 130.0)
    assert cluster.examples == [
        "PacketResponder 0 for block blk_099 terminating",
        "PacketResponder 1 for block blk_199 terminating",
    ]
    assert cluster.template == "PacketResponder <*> for block <*> terminating"


def test_match_finds_the_cluster_without_learning_from_the_line() -> None:
    miner = TemplateMiner()
    created = miner.add("Disk /dev/sda1 is 91% full")
    found = miner.match("Disk /dev/sdb2 is 97% full")
    assert found is not None
    assert found.cluster_id == created.cluster_id
    assert found.count == 1
    assert miner.match("completely unrelated message") is None


def test_cluster_count_never_exceeds_the_cap_and_the_least_recently_seen_goes_first() -> None:
    miner = TemplateMiner(MinerConfig(max_clusters=3))
    keep = miner.add("heartbeat from the scheduler loop").cluster_id
    for word in ("alpha", "beta", "gamma", "delta", "epsilon", "zeta"):
        miner.add(f"{word} {word} {word} {word} {word} {word} {word} {word}")
        miner.add("heartbeat from the scheduler loop")
        assert len(miner.clusters) <= 3
    assert miner.get(keep) is not None
    assert [c.template.split()[0] for c in miner.clusters][1:] == ["epsilon", "zeta"]


def test_the_same_stream_always_gives_the_same_clusters() -> None:
    lines = [f"job {i % 7} finished in {i * 13}ms on node-{i % 3}" for i in range(300)]
    lines += [f"user u{i % 5} denied access to /srv/{i}" for i in range(300)]
    one, two = TemplateMiner(), TemplateMiner()
    assert [one.add(x) for x in lines] == [two.add(x) for x in lines]
    assert one.to_state() == two.to_state()
