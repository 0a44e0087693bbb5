"""A stack locked by another run (clusterfabric.runner.locks): Pulumi's lock message read, the wait and its bound.

The messages are Pulumi v3.259's own, as the Automation API raised them for `up` of a stack whose lock another
holder had written beside its state: on a file backend, and in a SeaweedFS bucket (clusterfabric.local.objectstore;
the AWS SDK's warnings first, as they came)."""

from __future__ import annotations

import pytest
from pulumi import automation as auto

from clusterfabric.runner.locks import LONGEST_PAUSE, MAX_ATTEMPTS, Holder, LockWait, StackLocked, locked

FILE_BACKEND = (
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the "
    "lock file with `pulumi cancel`.\n"
    "  file:///tmp/s3probe/lockproj/state/.pulumi/locks/organization/locktext/east/"
    "0c1f2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b.json?no_tmp_dir=true: created by root@vm (pid 26752) at 2026-12-06T20:20:00Z")
BUCKET = (
    "SDK 2026/12/06 20:29:27 WARN Response has no supported checksum. Not validating response payload.\n"
    "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the "
    "lock file with `pulumi cancel`.\n"
    "  s3://fabric/.pulumi/locks/organization/locktext/west/9b1f3c55-2c0e-4a0e-9d0e-8f3a1d7c2b11.json?endpoint=http%3A"
    "%2F%2F127.0.0.1%3A42285&region=us-east-1&request_checksum_calculation=when_required&use_path_style=true: created "
    "by ci@runner-2 (pid 17781) at 2026-12-06T20:41:07Z")
CLOUD = "error: [409] Conflict: Another update is currently in progress."


def failure(stderr: str) -> auto.errors.CommandError:
    """What the Automation API raises for a command that wrote `stderr` and exited 1."""
    return auto.errors.create_command_error(auto.CommandResult(stdout="", stderr=stderr, code=1))


class Clock:
    """Time that passes only when the wait sleeps; records each pause."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


def wait(clock: Clock, timeout: float, alive=lambda pid: True) -> LockWait:
    return LockWait(timeout, sleep=clock.sleep, clock=lambda: clock.now, jitter=lambda: 0.0, alive=alive, host="vm")


def locked_then(value: str, times: int, stderr: str = FILE_BACKEND):
    """A call that fails `times` times for the lock, then returns `value`; its `calls` counts the tries."""
    def call() -> str:
        call.calls += 1
        if call.calls <= times:
            raise failure(stderr)
        return value
    call.calls = 0
    return call


def test_pulumis_lock_message_names_the_lock_file_and_its_holder():
    assert locked(str(failure(FILE_BACKEND))).holders == (Holder(
        "file:///tmp/s3probe/lockproj/state/.pulumi/locks/organization/locktext/east/"
        "0c1f2e3d-4b5a-6978-8a9b-0c1d2e3f4a5b.json?no_tmp_dir=true", "root", "vm", 26752, "2026-12-06T20:20:00Z"),)


def test_a_buckets_lock_url_keeps_its_query():
    holder, = locked(str(failure(BUCKET))).holders
    assert (holder.lock.split("?")[0], holder.user, holder.host, holder.pid) == (
        "s3://fabric/.pulumi/locks/organization/locktext/west/9b1f3c55-2c0e-4a0e-9d0e-8f3a1d7c2b11.json", "ci",
        "runner-2", 17781)


def test_pulumi_clouds_conflict_is_a_lock_without_a_holder():
    found = locked(str(failure(CLOUD)))
    assert (found.cloud, found.holders) == (True, ())


def test_another_failure_is_no_lock():
    assert locked(str(failure("error: update failed\n  kubernetes:core/v1:Namespace (east): timeout"))) is None


def test_the_automation_api_raises_the_lock_as_a_concurrent_update():
    assert type(failure(FILE_BACKEND)) is auto.errors.ConcurrentUpdateError


def test_a_run_waits_for_the_lock_then_runs():
    clock, heard = Clock(), []
    call = locked_then("done", 2)
    assert wait(clock, 60).run("east", call, on_wait=heard.append) == "done"
    assert (call.calls, clock.pauses) == (3, [1.0, 2.0])
    assert heard[0] == ("locked by another run: root@vm (pid 26752) since 2026-12-06T20:20:00Z, lock file:///tmp/"
                        "s3probe/lockproj/state/.pulumi/locks/organization/locktext/east/0c1f2e3d-4b5a-6978-8a9b-"
                        "0c1d2e3f4a5b.json?no_tmp_dir=true; trying again in 1 s (waited 0 s of --lock-timeout 60)")


def test_past_the_bound_the_run_is_refused_naming_the_holder_and_pulumi_cancel():
    clock = Clock()
    with pytest.raises(StackLocked) as refused:
        wait(clock, 10).run("west", locked_then("never", 1000, BUCKET))
    message = str(refused.value)
    assert message.startswith("stack west is locked by another run: ci@runner-2 (pid 17781) since "
                              "2026-12-06T20:41:07Z, lock s3://fabric/.pulumi/locks/organization/locktext/west/")
    assert "still locked after 10 s (--lock-timeout 10)" in message
    assert message.endswith("`pulumi cancel --yes --stack west` (with this fabric's backend) removes it")


def test_the_last_try_is_at_the_bound_and_the_pauses_add_up_to_it():
    clock = Clock()
    with pytest.raises(StackLocked):
        wait(clock, 10).run("west", locked_then("never", 1000))
    assert clock.pauses == [1.0, 2.0, 4.0, 3.0]


def test_no_timeout_refuses_at_the_first_lock_without_waiting():
    clock, call = Clock(), locked_then("never", 1000)
    with pytest.raises(StackLocked):
        wait(clock, 0).run("east", call)
    assert (call.calls, clock.pauses) == (1, [])


def test_pauses_grow_to_a_bound_and_tries_are_bounded_in_number():
    clock, call = Clock(), locked_then("never", 10_000)
    with pytest.raises(StackLocked):
        wait(clock, 1e9).run("east", call)
    assert (call.calls, max(clock.pauses), clock.pauses[:6]) == (MAX_ATTEMPTS, LONGEST_PAUSE,
                                                                 [1.0, 2.0, 4.0, 8.0, 15.0, 15.0])


def test_two_waiting_runs_do_not_try_in_step():
    clock = Clock()
    LockWait(60, sleep=clock.sleep, clock=lambda: clock.now, jitter=lambda: 1.0, alive=lambda pid: True).run(
        "east", locked_then("ok", 2))
    assert clock.pauses == [1.25, 2.5]


def test_a_lock_whose_holder_here_has_ended_is_refused_when_found_again():
    clock, call = Clock(), locked_then("never", 1000)
    with pytest.raises(StackLocked) as refused:
        wait(clock, 300, alive=lambda pid: pid != 26752).run("east", call)
    assert (call.calls, clock.pauses) == (2, [1.0])
    assert str(refused.value).startswith("stack east is locked by a run that no longer exists: root@vm (pid 26752)")


def test_a_lock_gone_with_its_ended_holder_is_no_refusal():
    # Two runs starting together: each wrote its lock, found the other's and removed its own.
    clock = Clock()
    assert wait(clock, 300, alive=lambda pid: False).run("east", locked_then("done", 1)) == "done"


def test_a_holder_on_another_machine_is_waited_for_whatever_its_pid():
    clock = Clock()
    assert wait(clock, 300, alive=lambda pid: False).run("west", locked_then("done", 1, BUCKET)) == "done"


def test_another_failure_is_raised_at_once():
    clock = Clock()

    def call():
        raise failure("error: update failed")

    with pytest.raises(auto.errors.CommandError) as failed:
        wait(clock, 300).run("east", call)
    assert (type(failed.value), clock.pauses) == (auto.errors.CommandError, [])
