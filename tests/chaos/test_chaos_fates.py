"""How the chaos suite counts: a second `sub` for one WeChat user is a duplicate even when the
first came in an earlier scenario, and recovery is the system's time in the first login
after the fault, not the person's."""

from __future__ import annotations

from chaos.fates import Fate, Login, tally


def completed(started: float, openid: str, sub: str, took: float = 1.5) -> Login:
    login = Login(started, openid, think=1.0, sub=sub)
    login.end(started + took, Fate.COMPLETED)
    return login


def test_a_second_sub_for_the_same_wechat_user_is_a_duplicate_across_scenarios() -> None:
    subs: dict[str, str] = {}
    first = tally([completed(0.0, "alice", "sub-1"), completed(1.0, "bob", "sub-2")], 0.0, subs)
    later = tally([completed(0.0, "alice", "sub-1"), completed(2.0, "alice", "sub-9")], 0.0, subs)

    assert first.fates[Fate.DUPLICATED] == 0
    assert later.fates == {Fate.COMPLETED: 1, Fate.DUPLICATED: 1}


def test_recovery_is_the_first_login_after_the_fault_less_the_think_time() -> None:
    before = completed(4.0, "alice", "sub-1", took=9.0)  # slowed by the fault: not counted
    after = completed(10.5, "bob", "sub-2", took=1.8)
    later = completed(11.0, "carol", "sub-3", took=1.1)

    t = tally([before, later, after], fault_over=10.0, subs={})

    assert t.recovery is not None
    assert abs(t.recovery - 0.8) < 1e-9


def test_no_recovery_when_the_first_login_after_the_fault_failed() -> None:
    failed = Login(10.5, "bob")
    failed.end(11.0, Fate.FAILED_CLEAR, "POST /api/v1/tickets: temporarily_unavailable")

    t = tally([failed, completed(11.0, "carol", "sub-3")], fault_over=10.0, subs={})

    assert t.recovery is None
    assert t.errors == {"POST /api/v1/tickets: temporarily_unavailable": 1}


def test_a_login_that_never_ended_is_counted_unfinished_not_completed() -> None:
    t = tally([Login(1.0, "alice", confirmed=2.0)], fault_over=0.0, subs={})

    assert t.unfinished == 1
    assert sum(t.fates.values()) == 0
