"""``asg-lifecycle signal``: the instance's own "Run checks now" for the instances that wait in a
lifecycle wait state (Auto Scaling says which), one PutEvents per 10; on the emulator, the stack's
SignalFunction ends the waiting round's wait and the checks run at once."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from asg_lifecycle.signals.instance import DETAIL_TYPE, SOURCE, event_entry
from asg_lifecycle_cli import signals
from asg_lifecycle_cli.main import Session, cli
from lifecycle_emulator.local_aws import ACCOUNT, REGION
from tests.cli.conftest import Paused, lines_with, paused_at
from tests.flow.stack import doc, launch_hook

TARGET = f"account {ACCOUNT}, Region {REGION}, stack asg-lifecycle"

# Two instances ready after 60 s on a hook that polls every 300 s: at 100 s both wait for their
# second round (due at about 300 s), their checks would pass now.
SLOW_POLL = doc(
    [launch_hook(heartbeat=600, pollSeconds=300, maxPollSeconds=300, maxWaitSeconds=1800)],
    instances=[{"readyAfter": 60}, {"readyAfter": 60}],
    steps=[{"at": 0, "desired": 2}],
)


class EventsSpy:
    """The CLI's EventBridge client: every PutEvents call's entries; the entries of the instances
    in ``refuse`` are answered as EventBridge answers an entry it failed, the others sent."""

    def __init__(self) -> None:
        self.calls: list[list[dict[str, str]]] = []
        self.refuse: dict[str, str] = {}  # instance -> ErrorCode
        self.real: Any = None

    def put_events(self, Entries: list[dict[str, str]]) -> dict[str, Any]:  # boto3's names
        self.calls.append(Entries)
        refused = [json.loads(e["Detail"])["instance-id"] in self.refuse for e in Entries]
        passed = [e for e, no in zip(Entries, refused, strict=True) if not no]
        sent = iter(self.real.put_events(Entries=passed)["Entries"] if passed else [])
        answers = [
            {
                "ErrorCode": self.refuse[json.loads(e["Detail"])["instance-id"]],
                "ErrorMessage": "An internal error occurred",
            }
            if no
            else next(sent)
            for e, no in zip(Entries, refused, strict=True)
        ]
        return {"FailedEntryCount": sum(refused), "Entries": answers}

    @property
    def instances(self) -> list[list[str]]:
        return [[json.loads(e["Detail"])["instance-id"] for e in call] for call in self.calls]


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> EventsSpy:
    spy = EventsSpy()
    original: Callable[[Session, str], Any] = Session.client

    def client(self: Session, service: str) -> Any:
        real = original(self, service)
        if service != "events":
            return real
        spy.real = real
        return spy

    monkeypatch.setattr(Session, "client", client)
    return spy


def _signalled(stack: Paused) -> list[dict[str, Any]]:
    """What SignalFunction answered, each time it ran."""
    return [i.result for i in stack.aws.runtime.invocations if i.function == "SignalFunction"]


def test_a_waiting_instance_is_signalled_and_its_checks_run_now(events: EventsSpy) -> None:
    with paused_at(SLOW_POLL, at=100) as stack:
        signalled, other = stack.waiting()
        result = stack.cli("signal", signalled)
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[0] == f"Acting on {TARGET}."
        (line,) = lines_with(result, signalled)
        assert line.startswith(
            f"{signalled} waits in Pending:Wait (group web): signal sent (event "
        )
        assert line.endswith("its checks run now if a round is waiting.")
        assert events.calls == [[event_entry(signalled)]]
        assert events.calls[0][0]["Source"] == SOURCE
        assert events.calls[0][0]["DetailType"] == DETAIL_TYPE
        stack.aws.run(until=stack.t0 + 130)
        (answer,) = _signalled(stack)
        assert answer["status"] == "signalled"
        assert answer["waitsEnded"] == [f"{signalled} web-launch"]
        (record,) = stack.aws.autoscaling.actions(instance_id=signalled)
        assert record.result == "CONTINUE", "its round ran at the signal, not at ~300 s"
        assert stack.waiting() == [other], "the other waits for its round"


def test_an_instance_in_no_lifecycle_wait_is_sent_nothing(fleet: Paused, events: EventsSpy) -> None:
    (done,) = [r.instance_id for r in fleet.aws.autoscaling.actions(active=False)]  # InService
    result = fleet.cli("signal", done, "i-0000000000000000f")
    assert result.exit_code == 0, result.output
    (in_service,) = lines_with(result, done)
    assert in_service == (
        f"{done} is not in a lifecycle wait (InService in group web): nothing sent, nothing "
        "waits for its signal."
    )
    (unknown,) = lines_with(result, "i-0000000000000000f")
    assert "is not in a lifecycle wait (in no Auto Scaling group): nothing sent" in unknown
    assert events.calls == []
    fleet.aws.advance(5)
    assert _signalled(fleet) == []


def test_a_malformed_id_is_named_and_nothing_is_sent(fleet: Paused, events: EventsSpy) -> None:
    waiting = fleet.waiting()[0]
    for bad in ("web-1", "i-123", "I-0123456789ABCDEF0", f"{waiting}\n"):
        result = fleet.cli("signal", waiting, bad)
        assert result.exit_code == 2, result.output
        assert repr(bad) in result.output
        assert "is not an EC2 instance id" in result.output
        assert "nothing sent" in result.output
        assert "Acting on" not in result.output
    assert events.calls == []
    assert fleet.cli("signal").exit_code == 2  # at least one instance


def test_a_refused_entry_is_reported_with_its_error_code_and_fails_the_command(
    events: EventsSpy,
) -> None:
    with paused_at(SLOW_POLL, at=100) as stack:
        refused, accepted = stack.waiting()
        events.refuse[refused] = "InternalFailure"
        result = stack.cli("signal", refused, accepted)
        assert result.exit_code == 1, result.output
        assert events.instances == [[refused, accepted]], "one call for both"
        (line,) = lines_with(result, refused, "Pending:Wait")
        assert line == (
            f"{refused} waits in Pending:Wait (group web): signal NOT sent: InternalFailure: "
            "An internal error occurred."
        )
        assert "signal sent (event " in lines_with(result, accepted)[0]
        assert f"EventBridge refused the signal of {refused} (see above)" in result.output
        stack.aws.run(until=stack.t0 + 130)
        (answer,) = _signalled(stack)
        assert answer["waitsEnded"] == [f"{accepted} web-launch"]


def test_signals_are_sent_ten_to_a_call(events: EventsSpy) -> None:
    many = doc(
        [launch_hook(heartbeat=600, pollSeconds=30)],
        instances=[{"readyAfter": None}] * 12,
        steps=[{"at": 0, "desired": 12}],
        group={"name": "web", "maxSize": 12},
    )
    with paused_at(many, at=45) as stack:
        waiting = stack.waiting()
        assert len(waiting) == 12
        result = stack.cli("signal", *waiting, waiting[0])  # one named twice: signalled once
        assert result.exit_code == 0, result.output
        assert events.instances == [waiting[:10], waiting[10:]]
        assert len(lines_with(result, "signal sent (event ")) == 12
        stack.aws.run(until=stack.t0 + 50)
        ended = [e for answer in _signalled(stack) for e in answer["waitsEnded"]]
        assert sorted(ended) == sorted(f"{i} web-launch" for i in waiting)


# --- the calls, on their own ----------------------------------------------------------------------


class _Pages:
    def __init__(self, calls: list[list[str]]) -> None:
        self.calls = calls

    def paginate(self, InstanceIds: list[str]) -> Iterator[dict[str, Any]]:
        self.calls.append(InstanceIds)
        yield {
            "AutoScalingInstances": [
                {"InstanceId": i, "AutoScalingGroupName": "web", "LifecycleState": "Pending:Wait"}
                for i in InstanceIds
            ]
        }


class _AutoScaling:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def get_paginator(self, name: str) -> _Pages:
        assert name == "describe_auto_scaling_instances"
        return _Pages(self.calls)


class _Events:
    def __init__(self, answer: Callable[[int], dict[str, Any]]) -> None:
        self.answer = answer
        self.calls: list[int] = []

    def put_events(self, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.calls.append(len(Entries))
        return self.answer(len(Entries))


def _ids(count: int) -> list[str]:
    return [f"i-{n:017x}" for n in range(count)]


def test_auto_scaling_is_asked_fifty_instances_at_a_time() -> None:
    asg = _AutoScaling()
    found = signals.whereabouts(asg, _ids(120))
    assert [len(c) for c in asg.calls] == [50, 50, 20]
    assert all(w.waiting for w in found.values())
    assert not signals.Whereabouts("web", "InService").waiting
    assert signals.Whereabouts("web", "Warmed:Terminating:Wait").waiting
    assert signals.Whereabouts("web", "ReplacingRootVolume:Wait").waiting


def test_put_answers_each_instance_in_order_and_a_missing_answer_is_a_failure() -> None:
    by_instance = {i: event_entry(i) for i in _ids(25)}
    events = _Events(lambda n: {"Entries": [{"EventId": f"e{k}"} for k in range(n)]})
    sent = signals.put(events, by_instance)
    assert events.calls == [10, 10, 5]
    assert [s.instance for s in sent] == list(by_instance)
    assert all(s.ok for s in sent)
    short = signals.put(_Events(lambda n: {"Entries": []}), dict(list(by_instance.items())[:1]))
    assert [(s.ok, s.error_code) for s in short] == [(False, "NoAnswer")]


def test_a_call_that_fails_fails_its_entries_and_the_next_call_is_made() -> None:
    from botocore.exceptions import ClientError  # noqa: PLC0415

    by_instance = {i: event_entry(i) for i in _ids(12)}

    def answer(n: int) -> dict[str, Any]:
        if n == 10:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "PutEvents"
            )
        return {"Entries": [{"EventId": "e"}] * n}

    sent = signals.put(_Events(answer), by_instance)
    assert [(s.ok, s.error_code) for s in sent] == [(False, "AccessDeniedException")] * 10 + [
        (True, None)
    ] * 2


def test_entries_are_checked_before_any_is_used() -> None:
    (good,) = _ids(1)
    assert signals.entries([good, good]) == {good: event_entry(good)}
    with pytest.raises(signals.MalformedInstance, match="'web-1' is not an EC2 instance id"):
        signals.entries([good, "web-1"])


# --- --local --------------------------------------------------------------------------------------


def test_local_signal_sends_and_plays_on() -> None:
    listed = CliRunner().invoke(cli, ["--local", "mixed-fleet", "--at", "150", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    waiting = [a["instanceId"] for a in json.loads(listed.stdout)]
    assert waiting
    result = CliRunner().invoke(cli, ["--local", "mixed-fleet", "--at", "150", "signal", *waiting])
    assert result.exit_code == 0, result.output
    assert len(lines_with(result, "waits in Pending:Wait", "signal sent")) == len(waiting)
    assert "Outcome per lifecycle action" in result.output
    (calls,) = lines_with(result, "Lambda invocations")
    assert f"'SignalFunction': {len(waiting)}" in calls
