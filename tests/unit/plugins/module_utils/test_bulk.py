# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fleet machinery of the bulk modules, without HTTP: targets, request slots, the shared
pause, and BulkWhitelist over a fake whitelist family."""

import os
import subprocess
import sys
import threading
from collections import namedtuple

import pytest

from ansible_collections.ipguard.cloud.plugins.module_utils import (
    _alicloud as alicloud, _alicloud_redis as alicloud_redis, _bulk as bulk, _huaweicloud as huaweicloud,
    _huaweicloud_dcs as huaweicloud_dcs)
from ansible_collections.ipguard.cloud.plugins.module_utils._bulk import (
    BulkWhitelist, CoalescedStatusReads, RequestSlots, Target, check_concurrency, describe_failures, parse_targets, ready_instance_ids, run_concurrently,
    share_for_bulk)
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import (
    ApiError, ChangeUndoneError, InstanceBusyError, ThrottledError, TransportError, ValidationError)
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import RetryPolicy, SharedPause
from ansible_collections.ipguard.cloud.plugins.module_utils._transport import HttpClient, ThreadLocalSessions
from ansible_collections.ipguard.cloud.plugins.module_utils._write_gate import WriteGate, open_write_gate

# Long enough never to be hit by a healthy test; only a broken one waits it out.
DEADLOCK = 10.0


def redis_targets(instances):
    return parse_targets(instances, alicloud_redis.check_instance_id, alicloud.check_region, default_region='cn-hangzhou')


def dcs_targets(instances):
    return parse_targets(instances, huaweicloud_dcs.check_instance_id, huaweicloud.check_region, check_project_id=huaweicloud.check_project_id,
                         default_region='cn-north-4', default_project_id='0123456789abcdef0123456789abcdef')


# --- parse_targets ----------------------------------------------------------------------------

def test_targets_from_instance_ids_keep_the_input_order():
    assert redis_targets(['r-bp1b', 'r-bp1a', 'r-bp1c']) == [
        Target('r-bp1b', None, None), Target('r-bp1a', None, None), Target('r-bp1c', None, None)]


def test_targets_from_dicts_carry_their_region_and_project():
    assert redis_targets([{'instance_id': 'r-bp1a', 'region': 'ap-southeast-1'}, 'r-bp1b', {'instance_id': 'r-bp1c'}]) == [
        Target('r-bp1a', 'ap-southeast-1', None), Target('r-bp1b', None, None), Target('r-bp1c', None, None)]
    assert dcs_targets([{'instance_id': 'dcs-1', 'region': 'cn-north-4', 'project_id': 'p0123'}, 'dcs-2']) == [
        Target('dcs-1', 'cn-north-4', 'p0123'), Target('dcs-2', None, None)]


def test_an_empty_region_or_project_means_the_default():
    assert dcs_targets([{'instance_id': 'dcs-1', 'region': '', 'project_id': None}]) == [Target('dcs-1', None, None)]


def test_no_instances_is_no_target():
    assert redis_targets([]) == [] and redis_targets(None) == []


def refusal(parse, instances):
    with pytest.raises(ValidationError) as caught:
        parse(instances)
    assert caught.value.message.startswith('Invalid instances: ')
    return caught.value.message[len('Invalid instances: '):]


def test_unknown_keys_are_named_with_the_element():
    assert refusal(redis_targets, ['r-bp1a', {'instance_id': 'r-bp1b', 'zone': 'a', 'Region': 'x'}]) == (
        'instances[1] has unknown key(s) Region, zone (allowed: instance_id, region)')


def test_project_id_is_only_known_to_dcs():
    assert refusal(redis_targets, [{'instance_id': 'r-bp1a', 'project_id': 'p0123'}]) == (
        'instances[0] has unknown key(s) project_id (allowed: instance_id, region)')
    assert dcs_targets([{'instance_id': 'dcs-1', 'project_id': 'p0123'}]) == [Target('dcs-1', None, 'p0123')]


def test_role_arn_is_known_where_a_checker_is_given():
    role = 'acs:ram::2000000000000002:role/ipguard'

    def with_roles(instances):
        return parse_targets(instances, alicloud_redis.check_instance_id, alicloud.check_region, default_region='cn-hangzhou',
                             check_role_arn=alicloud.check_role_arn)

    assert with_roles([{'instance_id': 'r-bp1a', 'role_arn': role}, 'r-bp1b', {'instance_id': 'r-bp1c', 'role_arn': ''}]) == [
        Target('r-bp1a', None, None, role), Target('r-bp1b', None, None), Target('r-bp1c', None, None)]
    assert refusal(with_roles, ['r-bp1a', {'instance_id': 'r-bp1b', 'role_arn': 'acs:ram::2:user/x'}]) == (
        "instances[1]: role_arn 'acs:ram::2:user/x' is not a RAM role ARN: use the form acs:ram::<account id>:role/<role name>, "
        'for example acs:ram::1234567890123456:role/ipguard')
    assert refusal(redis_targets, [{'instance_id': 'r-bp1a', 'role_arn': role}]) == (
        'instances[0] has unknown key(s) role_arn (allowed: instance_id, region)')


@pytest.mark.parametrize('bad', ['r-bp1a\nr-bp1b', 'r-bp1a,r-bp1b', ' r-bp1a', ''])
def test_a_bad_instance_id_is_named_with_its_index(bad):
    message = refusal(redis_targets, ['r-bp1ok', bad])
    assert message == 'instances[1]: instance_id %r is not a Redis instance ID (for example r-bp1zxszhcgatnx1234)' % (bad,)


def test_a_bad_dcs_instance_id_in_a_dict_is_named_with_its_index():
    assert refusal(dcs_targets, [{'instance_id': 'a/b\n'}]) == "instances[0]: instance_id 'a/b\\n' is not a valid DCS instance id"


@pytest.mark.parametrize('element, fragment', [
    ({'region': 'cn-hangzhou'}, 'instance_id None is not an instance id'),
    ({'instance_id': 42}, 'instance_id 42 is not an instance id'),
    ({'instance_id': ['r-bp1a']}, "instance_id ['r-bp1a'] is not an instance id"),
])
def test_a_dict_without_a_string_instance_id_is_refused(element, fragment):
    assert refusal(redis_targets, [element]) == 'instances[0]: %s' % fragment


@pytest.mark.parametrize('region', ['CN-HANGZHOU', 'cn_hangzhou', 'cn-hangzhou\n', 'x' * 65, 7])
def test_a_bad_region_is_named_with_its_index(region):
    message = refusal(redis_targets, ['r-bp1a', {'instance_id': 'r-bp1b', 'region': region}])
    assert message.startswith('instances[1]: region %r is not a valid Alibaba Cloud region id' % (region,))


def test_a_bad_dcs_region_says_huawei():
    assert refusal(dcs_targets, [{'instance_id': 'dcs-1', 'region': 'North 4'}]).startswith(
        "instances[0]: region 'North 4' is not a valid Huawei Cloud region id")


def test_an_instance_listed_twice_is_refused():
    assert refusal(redis_targets, ['r-bp1a', 'r-bp1b', {'instance_id': 'r-bp1a'}]) == (
        'instances[2]: instance r-bp1a is listed twice (first at instances[0])')
    assert refusal(redis_targets, [{'instance_id': 'r-bp1a', 'region': 'cn-beijing'}, 'r-bp1b',
                                   {'instance_id': 'r-bp1a', 'region': 'cn-beijing'}]) == (
        'instances[2]: instance r-bp1a is listed twice (first at instances[0])')


@pytest.mark.parametrize('element, shown', [(42, '42'), (None, 'None'), (['r-bp1a'], "['r-bp1a']"), (True, 'True')])
def test_an_element_that_is_neither_an_id_nor_a_dict_is_refused(element, shown):
    assert refusal(redis_targets, ['r-bp1a', element]) == (
        'instances[1] must be an instance id or a dict with instance_id, not %s' % shown)


def test_every_bad_element_is_named_at_once():
    message = refusal(redis_targets, ['r-bp1a', 5, {'instance_id': 'r-bp1c', 'foo': 1}, 'r bad', 'r-bp1a',
                                      {'instance_id': 'r-bp1d', 'region': 'BAD'}])
    assert [part.split(':')[0].split(' ')[0] for part in message.split('; ')] == [
        'instances[1]', 'instances[2]', 'instances[3]', 'instances[4]', 'instances[5]']


# --- concurrency ----------------------------------------------------------------------------

@pytest.mark.parametrize('value', [1, 10, bulk.MAX_CONCURRENCY])
def test_concurrency_within_bounds_is_kept(value):
    assert check_concurrency(value) == value


@pytest.mark.parametrize('value', [0, -1, bulk.MAX_CONCURRENCY + 1, True, '5', 2.5, None])
def test_concurrency_out_of_bounds_is_refused(value):
    with pytest.raises(ValidationError) as caught:
        check_concurrency(value)
    assert caught.value.message == 'concurrency must be a whole number from 1 to %d, not %r' % (bulk.MAX_CONCURRENCY, value)


def test_the_bulk_options():
    spec = bulk.bulk_argument_spec()
    assert spec['instances'] == {'type': 'list', 'elements': 'raw', 'required': True}
    assert spec['concurrency'] == {'type': 'int', 'default': 10}
    assert spec['write_gate']['type'] == 'dict' and sorted(spec['write_gate']['options']) == ['id', 'name', 'runs', 'timeout']
    assert sorted(spec) == ['concurrency', 'instances', 'write_gate']


class Answer(str):
    """A fake response: RequestSlots notes on it how long its request waited for a slot."""


class GatedSessions:
    """A session factory whose requests block until released; records how many are in flight."""

    def __init__(self):
        self.lock = threading.Condition()
        self.in_flight = 0
        self.most_in_flight = 0
        self.sessions = []
        self.release = threading.Event()

    def __call__(self):
        session = GatedSession(self)
        with self.lock:
            self.sessions.append(session)
        return session


class GatedSession:
    def __init__(self, gate):
        self.gate = gate
        self.thread = threading.get_ident()
        self.calls = []

    def request(self, method, url, **kwargs):
        assert threading.get_ident() == self.thread, 'a session is used by one thread only'
        self.calls.append(url)
        with self.gate.lock:
            self.gate.in_flight += 1
            self.gate.most_in_flight = max(self.gate.most_in_flight, self.gate.in_flight)
            self.gate.lock.notify_all()
        try:
            assert self.gate.release.wait(DEADLOCK), 'never released'
            return Answer(url)
        finally:
            with self.gate.lock:
                self.gate.in_flight -= 1


class CountingSlots:
    """Wraps RequestSlots' semaphore to count the requests that arrived at it."""

    def __init__(self, semaphore, gate):
        self.semaphore = semaphore
        self.gate = gate
        self.arrived = 0

    def __enter__(self):
        with self.gate.lock:
            self.arrived += 1
            self.gate.lock.notify_all()
        return self.semaphore.__enter__()

    def __exit__(self, *exc_info):
        return self.semaphore.__exit__(*exc_info)


def test_request_slots_never_let_more_than_concurrency_requests_in_flight():
    gate = GatedSessions()
    slots = RequestSlots(3, session_factory=gate)
    counting = slots.slots = CountingSlots(slots.slots, gate)
    answers = []

    def worker(number):
        answers.append(slots.request('GET', 'http://x/%d' % number))

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(9)]
    for thread in threads:
        thread.start()
    # every request has arrived, three hold a slot (and block in the session), six wait for one
    with gate.lock:
        assert gate.lock.wait_for(lambda: counting.arrived == 9 and gate.in_flight >= 3, DEADLOCK)
        assert gate.in_flight == 3 and gate.most_in_flight == 3
    gate.release.set()
    for thread in threads:
        thread.join(DEADLOCK)
    assert sorted(answers) == sorted('http://x/%d' % number for number in range(9))
    assert gate.most_in_flight == 3 and gate.in_flight == 0
    # every thread had a session of its own
    assert len(gate.sessions) == 9 and len(set(session.thread for session in gate.sessions)) == 9


def test_one_slot_serialises_requests():
    gate = GatedSessions()
    gate.release.set()
    slots = RequestSlots(1, session_factory=gate)
    run_concurrently(lambda number: slots.request('GET', 'http://x/%d' % number), list(range(20)), 8)
    assert gate.most_in_flight == 1


def test_a_thread_reuses_its_session():
    made = []

    class Session:
        def __init__(self):
            made.append(self)

        def request(self, *args, **kwargs):
            return (id(self), args)

    sessions = ThreadLocalSessions(Session)
    first, second = sessions.request('GET', 'a'), sessions.request('GET', 'b')
    assert len(made) == 1 and first[0] == second[0] and second[1] == ('GET', 'b')
    other = []
    thread = threading.Thread(target=lambda: other.append(sessions.request('GET', 'c')))
    thread.start()
    thread.join(DEADLOCK)
    assert len(made) == 2 and other[0][0] != first[0]


def test_a_slot_is_given_back_when_the_request_fails():
    class Failing:
        def request(self, *args, **kwargs):
            raise OSError('boom')

    slots = RequestSlots(1, session_factory=Failing)
    for dummy in range(3):
        with pytest.raises(OSError):
            slots.request('GET', 'x')


def test_share_for_bulk_bounds_requests_and_shares_the_pause_with_every_instance_client():
    client = huaweicloud.HuaweiCloudClient(huaweicloud.DCS, 'AK', 'SK', None, 'p0123', None, HttpClient(timeout=5), RetryPolicy(retries=2))
    assert share_for_bulk(client, 4) is client
    assert isinstance(client.http.session, RequestSlots) and isinstance(client.retry_policy.shared_pause, SharedPause)
    derived = client.for_instance('cn-north-4', 'p4567')
    assert derived.http is client.http and derived.retry_policy is client.retry_policy
    assert derived.write_request_ids is not client.write_request_ids and derived.calls is not client.calls


def test_run_concurrently_returns_results_in_input_order_on_a_bounded_pool():
    threads = set()
    lock = threading.Lock()
    # the first item finishes last: it waits until every other item is done
    others_done = threading.Event()
    remaining = [9]

    def work(number):
        with lock:
            threads.add(threading.get_ident())
        if number == 0:
            assert others_done.wait(DEADLOCK)
        else:
            with lock:
                remaining[0] -= 1
                if remaining[0] == 0:
                    others_done.set()
        return number * 10

    assert run_concurrently(work, list(range(10)), 4) == [number * 10 for number in range(10)]
    assert 1 <= len(threads) <= 4
    assert run_concurrently(work, [], 4) == []


# --- SharedPause and RetryPolicy --------------------------------------------------------------

class FakeTime:
    """A clock that only moves when slept on."""

    def __init__(self, now=100.0):
        self.now = now
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_shared_pause_waits_until_the_end_of_the_longest_extension():
    time = FakeTime()
    pause = SharedPause(clock=time.clock, sleep=time.sleep)
    pause.wait()
    assert time.sleeps == []
    pause.extend(5.0)
    pause.extend(2.0)  # never shortens it
    pause.wait()
    assert time.sleeps == [5.0] and time.now == 105.0
    pause.wait()
    assert time.sleeps == [5.0]


def test_shared_pause_extended_while_waiting_is_waited_out_too():
    time = FakeTime()
    pause = SharedPause(clock=time.clock, sleep=time.sleep)
    extended = []

    def sleep(seconds):
        time.sleep(seconds)
        if not extended:
            # another worker was throttled meanwhile
            extended.append(True)
            pause.extend(3.0)

    pause.sleep = sleep
    pause.extend(1.0)
    pause.wait()
    assert time.sleeps == [1.0, 3.0] and time.now == 104.0


def test_shared_pause_past_its_end_does_not_wait():
    time = FakeTime()
    pause = SharedPause(clock=time.clock, sleep=time.sleep)
    pause.extend(1.0)
    time.now += 5
    pause.wait()
    assert time.sleeps == []


class RecordingPause:
    def __init__(self):
        self.events = []

    def extend(self, seconds):
        self.events.append(('extend', seconds))

    def wait(self):
        self.events.append('wait')


def attempts(*outcomes):
    outcomes = list(outcomes)

    def attempt(*args):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    return attempt


def test_throttling_extends_the_shared_pause_and_every_attempt_waits_on_it():
    pause = RecordingPause()
    sleeps = []
    policy = RetryPolicy(retries=3, sleep=sleeps.append, random_fn=lambda: 1.0, shared_pause=pause)
    throttled = ThrottledError('slow down', code='Throttling.User')
    assert policy.run(attempts(throttled, throttled, 'ok')) == 'ok'
    # before each of the 3 attempts a wait; each throttling extends the pool's pause and waits on it
    assert pause.events == ['wait', ('extend', 0.5), 'wait', 'wait', ('extend', 1.0), 'wait', 'wait']
    assert sleeps == []


def test_a_retry_after_extends_the_shared_pause_by_that_long():
    pause = RecordingPause()
    policy = RetryPolicy(retries=1, sleep=[].append, random_fn=lambda: 0.0, shared_pause=pause)
    assert policy.run(attempts(ThrottledError('slow down', retry_after=7), 'ok')) == 'ok'
    assert ('extend', 7.0) in pause.events


@pytest.mark.parametrize('error, delay', [
    (InstanceBusyError('busy', code='IncorrectDBInstanceState'), 2.0),
    (TransportError('reset'), 0.5),
])
def test_busy_and_connection_errors_back_off_alone(error, delay):
    pause = RecordingPause()
    sleeps = []
    policy = RetryPolicy(retries=3, sleep=sleeps.append, random_fn=lambda: 1.0, shared_pause=pause)
    assert policy.run(attempts(error, 'ok')) == 'ok'
    assert pause.events == ['wait', 'wait'] and sleeps == [delay]


def test_without_a_shared_pause_throttling_sleeps_alone():
    sleeps = []
    policy = RetryPolicy(retries=3, sleep=sleeps.append, random_fn=lambda: 1.0)
    assert policy.run(attempts(ThrottledError('slow down'), 'ok')) == 'ok'
    assert sleeps == [0.5]


def test_converge_shares_the_pause_only_for_throttling():
    pause = RecordingPause()
    sleeps = []
    policy = RetryPolicy(retries=3, sleep=sleeps.append, random_fn=lambda: 1.0, shared_pause=pause)
    throttled = ThrottledError('slow down')
    throttled.replan = True
    undone = ChangeUndoneError('undone')
    assert policy.converge(attempts(throttled, undone, 'ok')) == 'ok'
    assert pause.events == [('extend', 0.5), 'wait'] and sleeps == [1.0]


def test_one_workers_throttling_pauses_another_workers_next_attempt():
    time = FakeTime()
    pause = SharedPause(clock=time.clock, sleep=time.sleep)
    first = RetryPolicy(retries=2, sleep=time.sleep, random_fn=lambda: 1.0, shared_pause=pause)
    second = RetryPolicy(retries=2, sleep=time.sleep, random_fn=lambda: 1.0, shared_pause=pause)
    pause.extend(4.0)  # as the first worker's throttling would
    seen = []
    assert second.run(lambda: seen.append(time.now) or 'ok') == 'ok'
    assert seen == [104.0] and time.sleeps == [4.0]
    # a worker's own retries still bound it: a storm does not multiply them
    calls = []

    def always_throttled():
        calls.append(time.now)
        raise ThrottledError('slow down')

    with pytest.raises(ThrottledError):
        first.run(always_throttled)
    assert len(calls) == 3


# --- BulkWhitelist over a fake family --------------------------------------------------------

Plan = namedtuple('Plan', ['changed', 'after'])


class FakeClient:
    def __init__(self, target):
        self.target = target
        self.wrote = False
        self.write_request_ids = []
        self.unconfirmed_writes = []


class FakeFamily:
    """Per-instance steps scripted by instance id; records what was applied."""

    def __init__(self, states, desired='wanted', read_errors=None, plan_errors=None, apply_errors=None, writes=True,
                 wrote_before_failing=()):
        self.states = states
        self.desired = desired
        self.read_errors = read_errors or {}
        self.plan_errors = plan_errors or {}
        self.apply_errors = apply_errors or {}
        self.writes = writes
        self.wrote_before_failing = wrote_before_failing
        self.applied = []
        self.ready_asked = []
        self.applied_ready = {}
        self.lock = threading.Lock()

    def client_for(self, target):
        return FakeClient(target)

    def ready_to_write(self, runs, workers):
        self.ready_asked.append([run.target.instance_id for run in runs])
        return frozenset(run.target.instance_id for run in runs if run.target.instance_id != 'i-busy')

    def read(self, client, target):
        if target.instance_id in self.read_errors:
            raise self.read_errors[target.instance_id]
        return self.states[target.instance_id]

    def plan(self, state, target):
        if target.instance_id in self.plan_errors:
            raise self.plan_errors[target.instance_id]
        return Plan(state != self.desired, self.desired)

    @staticmethod
    def changed(plan):
        return plan.changed

    def apply(self, client, target, plan, ready=False):
        with self.lock:
            self.applied.append(target.instance_id)
            self.applied_ready[target.instance_id] = ready
        if target.instance_id in self.wrote_before_failing:
            client.wrote = True
            client.write_request_ids.append('W-%s' % target.instance_id)
        if target.instance_id in self.apply_errors:
            raise self.apply_errors[target.instance_id]
        if self.writes:
            client.wrote = True
            client.write_request_ids.append('W-%s' % target.instance_id)
        return 'applied %s' % plan.after

    def result(self, run, diff):
        entry = {'region': run.target.region or 'default-region',
                 'state': run.applied if run.applied is not None else (run.plan.after if run.plan else run.state)}
        if diff and run.plan is not None:
            entry['diff'] = {'before': {'state': run.state}, 'after': {'state': run.plan.after}}
        return entry


def targets(*ids):
    return [Target(instance_id, None, None) for instance_id in ids]


def execute(family, ids, check_mode=False, diff=False, concurrency=10):
    return BulkWhitelist(family, targets(*ids), concurrency, check_mode, diff).execute()


def test_results_come_in_input_order_with_a_summary():
    family = FakeFamily({'i-1': 'wanted', 'i-2': 'old', 'i-3': 'old', 'i-4': 'wanted'})
    outcome = execute(family, ['i-3', 'i-1', 'i-4', 'i-2'])
    assert [entry['instance_id'] for entry in outcome['results']] == ['i-3', 'i-1', 'i-4', 'i-2']
    assert outcome['changed'] is True and 'failed' not in outcome and 'msg' not in outcome and 'diff' not in outcome
    assert outcome['summary'] == {'changed': ['i-3', 'i-2'], 'unchanged': ['i-1', 'i-4'], 'failed': []}
    assert sorted(family.applied) == ['i-2', 'i-3']
    assert outcome['results'][0] == {'instance_id': 'i-3', 'changed': True, 'failed': False, 'msg': '', 'request_ids': ['W-i-3'],
                                     'region': 'default-region', 'state': 'applied wanted'}
    assert outcome['results'][1] == {'instance_id': 'i-1', 'changed': False, 'failed': False, 'msg': '', 'request_ids': [],
                                     'region': 'default-region', 'state': 'wanted'}


def test_results_keep_the_input_order_when_reads_finish_out_of_order():
    last_read = threading.Event()

    class Slow(FakeFamily):
        def read(self, client, target):
            if target.instance_id == 'i-1':
                assert last_read.wait(DEADLOCK)
            elif target.instance_id == 'i-3':
                last_read.set()
            return FakeFamily.read(self, client, target)

    family = Slow({'i-1': 'old', 'i-2': 'wanted', 'i-3': 'old'})
    outcome = execute(family, ['i-1', 'i-2', 'i-3'])
    assert [entry['instance_id'] for entry in outcome['results']] == ['i-1', 'i-2', 'i-3']
    assert outcome['summary'] == {'changed': ['i-1', 'i-3'], 'unchanged': ['i-2'], 'failed': []}


@pytest.mark.parametrize('failure', ['read', 'plan'])
def test_nothing_is_applied_when_any_read_or_plan_fails(failure):
    errors = {'i-2': ApiError('Redis instance i-2 was not found', code='InvalidInstanceId.NotFound')}
    if failure == 'read':
        family = FakeFamily({'i-1': 'old', 'i-2': 'old', 'i-3': 'old'}, read_errors=errors)
    else:
        errors['i-3'] = ValidationError('group office of i-3 would hold 1001 entries')
        family = FakeFamily({'i-1': 'old', 'i-2': 'old', 'i-3': 'old'}, plan_errors=errors)
    outcome = execute(family, ['i-1', 'i-2', 'i-3'], diff=True)
    assert family.applied == []
    assert outcome['failed'] is True and outcome['changed'] is False
    assert [entry['changed'] for entry in outcome['results']] == [False, False, False]
    assert [entry['failed'] for entry in outcome['results']] == [False, True, failure == 'plan']
    assert outcome['results'][1]['msg'] == 'Redis instance i-2 was not found'
    if failure == 'read':
        assert outcome['msg'] == 'Nothing was written: 1 instance(s) could not be planned: i-2: Redis instance i-2 was not found'
        assert outcome['summary'] == {'changed': [], 'unchanged': ['i-1', 'i-3'], 'failed': ['i-2']}
    else:
        assert outcome['msg'] == ('Nothing was written: 2 instance(s) could not be planned: i-2: Redis instance i-2 was not found; '
                                  'i-3: group office of i-3 would hold 1001 entries')
        assert outcome['summary'] == {'changed': [], 'unchanged': ['i-1'], 'failed': ['i-2', 'i-3']}
    # no diff of a change that was not made
    assert outcome['diff'] == [] and all('diff' not in entry for entry in outcome['results'])
    assert all(entry['request_ids'] == [] for entry in outcome['results'])


def test_one_instance_failing_to_apply_does_not_stop_the_others():
    family = FakeFamily({'i-1': 'old', 'i-2': 'old', 'i-3': 'old', 'i-4': 'wanted'},
                        apply_errors={'i-2': ApiError('ModifySecurityIps failed: Forbidden', code='Forbidden.RAM', request_id='RQ-2')})
    outcome = execute(family, ['i-1', 'i-2', 'i-3', 'i-4'])
    assert sorted(family.applied) == ['i-1', 'i-2', 'i-3']
    assert outcome['failed'] is True and outcome['changed'] is True
    assert outcome['msg'] == '1 instance(s) failed: i-2: ModifySecurityIps failed: Forbidden; 2 other changed instance(s) were written'
    assert outcome['summary'] == {'changed': ['i-1', 'i-3'], 'unchanged': ['i-4'], 'failed': ['i-2']}
    failed = outcome['results'][1]
    assert (failed['failed'], failed['changed'], failed['msg'], failed['request_ids']) == (
        True, False, 'ModifySecurityIps failed: Forbidden', [])


def test_every_failed_instance_is_named_and_one_that_wrote_before_failing_is_changed():
    family = FakeFamily({'i-1': 'old', 'i-2': 'old', 'i-3': 'old'},
                        apply_errors={'i-1': ApiError('job failed'), 'i-3': ApiError('write refused')}, wrote_before_failing=('i-1',))
    outcome = execute(family, ['i-1', 'i-2', 'i-3'])
    assert outcome['msg'] == '2 instance(s) failed: i-1: job failed; i-3: write refused; 1 other changed instance(s) were written'
    assert outcome['summary'] == {'changed': ['i-2'], 'unchanged': [], 'failed': ['i-1', 'i-3']}
    assert [(entry['changed'], entry['failed'], entry['request_ids']) for entry in outcome['results']] == [
        (True, True, ['W-i-1']), (True, False, ['W-i-2']), (False, True, [])]


def test_a_lost_answer_is_reported_in_the_instance_message():
    class LostAnswer(FakeFamily):
        def apply(self, client, target, plan, ready=False):
            client.wrote = True
            client.unconfirmed_writes.append(('ModifySecurityIps', None))
            raise TransportError('No answer from host within 30 seconds')

    outcome = execute(LostAnswer({'i-1': 'old'}), ['i-1'])
    entry = outcome['results'][0]
    assert entry['changed'] is True and entry['failed'] is True
    assert entry['msg'].startswith('No answer from host within 30 seconds. The answer to ModifySecurityIps (no request id')


def test_check_mode_applies_nothing_and_reports_what_would_change():
    family = FakeFamily({'i-1': 'old', 'i-2': 'wanted'})
    outcome = execute(family, ['i-1', 'i-2'], check_mode=True, diff=True)
    assert family.applied == []
    assert outcome['changed'] is True and outcome['summary'] == {'changed': ['i-1'], 'unchanged': ['i-2'], 'failed': []}
    assert outcome['results'][0]['state'] == 'wanted' and outcome['results'][0]['request_ids'] == []
    assert outcome['diff'] == [{'before': {'state': 'old'}, 'after': {'state': 'wanted'}, 'before_header': 'i-1', 'after_header': 'i-1'}]


def test_an_instance_is_changed_only_when_its_client_wrote():
    # another writer made the change while this run waited: the apply wrote nothing
    family = FakeFamily({'i-1': 'old', 'i-2': 'old'}, writes=False)
    outcome = execute(family, ['i-1', 'i-2'], diff=True)
    assert sorted(family.applied) == ['i-1', 'i-2']
    assert outcome['changed'] is False and outcome['summary'] == {'changed': [], 'unchanged': ['i-1', 'i-2'], 'failed': []}
    assert outcome['diff'] == [] and 'failed' not in outcome


def test_diff_mode_lists_the_changed_instances_with_headers():
    family = FakeFamily({'i-1': 'old', 'i-2': 'wanted', 'i-3': 'older'})
    outcome = execute(family, ['i-1', 'i-2', 'i-3'], diff=True)
    assert outcome['diff'] == [
        {'before': {'state': 'old'}, 'after': {'state': 'wanted'}, 'before_header': 'i-1', 'after_header': 'i-1'},
        {'before': {'state': 'older'}, 'after': {'state': 'wanted'}, 'before_header': 'i-3', 'after_header': 'i-3'}]
    # every instance's own result carries its diff, unchanged ones too
    assert outcome['results'][1]['diff'] == {'before': {'state': 'wanted'}, 'after': {'state': 'wanted'}}


def test_without_diff_mode_there_is_no_diff():
    outcome = execute(FakeFamily({'i-1': 'old'}), ['i-1'])
    assert 'diff' not in outcome and 'diff' not in outcome['results'][0]


def test_no_instances_change_nothing():
    outcome = execute(FakeFamily({}), [])
    assert outcome == {'changed': False, 'results': [], 'summary': {'changed': [], 'unchanged': [], 'failed': []}, 'refused': False}


def test_the_pool_has_workers_beyond_the_request_slots():
    family = FakeFamily({'i-1': 'old'})
    # Requests are bounded by the slots; workers only wait, so there are as many whatever the concurrency.
    assert BulkWhitelist(family, targets('i-1'), 1, False, False).workers == bulk.MAX_WORKERS == 512
    assert BulkWhitelist(family, targets('i-1'), bulk.MAX_CONCURRENCY, False, False).workers == bulk.MAX_WORKERS


def test_applies_run_concurrently():
    # two applies that each wait for the other can only both finish when they run at once
    both = threading.Barrier(2, timeout=DEADLOCK)

    class Meeting(FakeFamily):
        def apply(self, client, target, plan, ready=False):
            both.wait()
            return FakeFamily.apply(self, client, target, plan)

    outcome = execute(Meeting({'i-1': 'old', 'i-2': 'old'}), ['i-1', 'i-2'], concurrency=1)
    assert outcome['summary']['changed'] == ['i-1', 'i-2'] and 'failed' not in outcome


def test_the_status_of_the_changed_instances_is_read_once_before_they_are_applied():
    family = FakeFamily({'i-1': 'wanted', 'i-2': 'old', 'i-busy': 'old'})
    outcome = execute(family, ['i-1', 'i-2', 'i-busy'])
    assert family.ready_asked == [['i-2', 'i-busy']]
    assert family.applied_ready == {'i-2': True, 'i-busy': False}
    assert outcome['summary']['changed'] == ['i-2', 'i-busy']


@pytest.mark.parametrize('check_mode, states', [(True, {'i-1': 'old'}), (False, {'i-1': 'wanted'})])
def test_no_status_is_read_in_check_mode_or_when_nothing_changes(check_mode, states):
    family = FakeFamily(states)
    execute(family, ['i-1'], check_mode=check_mode)
    assert family.ready_asked == [] and family.applied == []


class StatusClient:
    def __init__(self, region):
        self.region = region


def test_ready_instance_ids_batches_by_key_and_size_and_counts_a_failed_batch_as_not_ready():
    class Run:
        def __init__(self, instance_id, region):
            self.target = Target(instance_id, region, None)
            self.client = StatusClient(region)

    runs = [Run('a1', 'a'), Run('b1', 'b'), Run('a2', 'a'), Run('a3', 'a'), Run('c1', 'c')]
    batches = []
    lock = threading.Lock()

    def read_ready(client, instance_ids):
        with lock:
            batches.append((client.region, instance_ids))
        if client.region == 'c':
            raise ApiError('DescribeInstances failed: Forbidden')
        return frozenset(instance_id for instance_id in instance_ids if instance_id != 'a2')

    ready = ready_instance_ids(runs, lambda run: run.client.region, read_ready, 2, workers=4)
    assert ready == frozenset(['a1', 'a3', 'b1'])
    assert sorted(batches) == [('a', ['a1', 'a2']), ('a', ['a3']), ('b', ['b1']), ('c', ['c1'])]
    batches[:] = []
    assert ready_instance_ids(runs, lambda run: run.client.region, read_ready, None, workers=4) == frozenset(['a1', 'a3', 'b1'])
    assert sorted(batches) == [('a', ['a1', 'a2', 'a3']), ('b', ['b1']), ('c', ['c1'])]


def read_statuses_together(reads, askers, batch_key=lambda instance_id: 'k'):
    """``askers`` threads each asking ``reads`` for the status of its instance at once; their answers by instance."""
    answers = {}
    start = threading.Barrier(len(askers))

    def ask(instance_id):
        start.wait(DEADLOCK)
        answers[instance_id] = reads.read(StatusClient(batch_key(instance_id)), instance_id, batch_key(instance_id))

    threads = [threading.Thread(target=ask, args=(instance_id,)) for instance_id in askers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLOCK)
    assert not any(thread.is_alive() for thread in threads), 'a worker was left waiting for its status'
    return answers


class StatusCalls:
    """read_batch and read_one for CoalescedStatusReads, recording every call."""

    def __init__(self, statuses, failing_keys=()):
        self.statuses = statuses
        self.failing_keys = failing_keys
        self.batches = []
        self.single = []
        self.lock = threading.Lock()

    def read_batch(self, client, instance_ids):
        with self.lock:
            self.batches.append((client.region, sorted(instance_ids)))
        if client.region in self.failing_keys:
            raise ApiError('DescribeInstances failed: Throttling.User')
        return dict((instance_id, self.statuses[instance_id]) for instance_id in instance_ids if instance_id in self.statuses)

    def read_one(self, client, instance_id):
        with self.lock:
            self.single.append(instance_id)
        return 'single:%s' % self.statuses.get(instance_id, 'missing')


def test_status_reads_asked_together_share_one_batched_call():
    calls = StatusCalls({'r-%d' % number: 'Normal' if number % 2 else 'Changing' for number in range(8)})
    # The batch is sent once all eight asked (it is full), long before its linger ends.
    reads = CoalescedStatusReads(calls.read_batch, calls.read_one, batch_size=8, linger=DEADLOCK)
    answers = read_statuses_together(reads, ['r-%d' % number for number in range(8)])
    assert answers == dict(('r-%d' % number, 'Normal' if number % 2 else 'Changing') for number in range(8))
    assert calls.batches == [('k', ['r-%d' % number for number in range(8)])] and calls.single == []


def test_a_full_batch_is_sent_at_once_and_the_rest_go_in_the_next():
    instance_ids = ['r-%02d' % number for number in range(7)]
    calls = StatusCalls(dict((instance_id, 'Normal') for instance_id in instance_ids))
    # A full batch does not wait for its linger (which would outlast the test); the last, partial one does.
    reads = CoalescedStatusReads(calls.read_batch, calls.read_one, batch_size=3, linger=0.2)
    answers = read_statuses_together(reads, instance_ids)
    assert answers == dict((instance_id, 'Normal') for instance_id in instance_ids)
    assert sorted(len(ids) for key, ids in calls.batches) == [1, 3, 3]
    assert sorted(instance_id for key, ids in calls.batches for instance_id in ids) == instance_ids


def test_status_reads_are_batched_only_with_their_own_key():
    calls = StatusCalls({'a-1': 'Normal', 'a-2': 'Normal', 'b-1': 'Changing'})
    reads = CoalescedStatusReads(calls.read_batch, calls.read_one, batch_size=30, linger=0.5)
    answers = read_statuses_together(reads, ['a-1', 'a-2', 'b-1'], batch_key=lambda instance_id: instance_id[0])
    assert answers == {'a-1': 'Normal', 'a-2': 'Normal', 'b-1': 'Changing'}
    assert sorted(calls.batches) == [('a', ['a-1', 'a-2']), ('b', ['b-1'])]


def test_a_failed_batch_or_an_unlisted_instance_reads_its_own_status():
    calls = StatusCalls({'a-1': 'Normal', 'b-1': 'Normal', 'b-2': 'Normal'}, failing_keys=('b',))
    reads = CoalescedStatusReads(calls.read_batch, calls.read_one, batch_size=30, linger=0.5)
    answers = read_statuses_together(reads, ['a-1', 'a-gone', 'b-1', 'b-2'], batch_key=lambda instance_id: instance_id[0])
    assert answers == {'a-1': 'Normal', 'a-gone': 'single:missing', 'b-1': 'single:Normal', 'b-2': 'single:Normal'}
    assert sorted(calls.single) == ['a-gone', 'b-1', 'b-2']


def test_an_unexpected_error_in_a_batched_call_leaves_no_worker_waiting():
    def broken(client, instance_ids):
        raise KeyError('InstanceStatus')

    reads = CoalescedStatusReads(broken, lambda client, instance_id: 'single', batch_size=30, linger=0.5)
    outcomes = {}
    start = threading.Barrier(3)

    def ask(instance_id):
        start.wait(DEADLOCK)
        try:
            outcomes[instance_id] = reads.read(StatusClient('k'), instance_id, 'k')
        except KeyError:
            outcomes[instance_id] = 'raised'

    threads = [threading.Thread(target=ask, args=(instance_id,)) for instance_id in ('r-1', 'r-2', 'r-3')]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLOCK)
    assert not any(thread.is_alive() for thread in threads)
    # The worker that sent the call fails as any unexpected error does; the others read their own status.
    assert sorted(outcomes.values()) == ['raised', 'single', 'single']


def test_describe_failures():
    class Run:
        def __init__(self, instance_id, message):
            self.target = Target(instance_id, None, None)
            self.error = ApiError(message)

    assert describe_failures([Run('a', 'x'), Run('b', 'y')], 'failed') == '2 instance(s) failed: a: x; b: y'


# --- clients for one instance of a bulk run ---------------------------------------------------

def test_alicloud_client_for_an_instance_in_another_region_uses_that_regions_host():
    base = alicloud.AlicloudClient(alicloud.REDIS, alicloud.resolve_credentials(
        {'access_key_id': 'AK', 'access_key_secret': 'SECRET', 'region': 'cn-hangzhou'}, environ={}),
        alicloud.alicloud_endpoint(alicloud.REDIS, 'cn-hangzhou'), HttpClient(timeout=5), RetryPolicy())
    other = base.for_instance('ap-southeast-1')
    assert other.endpoint.netloc == 'r-kvstore.ap-southeast-1.aliyuncs.com' and other.credentials.region == 'ap-southeast-1'
    same = base.for_instance(None)
    assert same.endpoint.netloc == 'r-kvstore.aliyuncs.com' and same.credentials.region == 'cn-hangzhou'
    assert base.credentials.region == 'cn-hangzhou'


def test_alicloud_endpoint_option_wins_over_the_instance_region():
    base = alicloud.AlicloudClient(alicloud.REDIS, alicloud.resolve_credentials(
        {'access_key_id': 'AK', 'access_key_secret': 'SECRET', 'region': 'cn-hangzhou'}, environ={}),
        alicloud.alicloud_endpoint(alicloud.REDIS, 'cn-hangzhou', 'http://127.0.0.1:9'), HttpClient(timeout=5), RetryPolicy(),
        endpoint_option='http://127.0.0.1:9')
    other = base.for_instance('ap-southeast-1')
    assert other.endpoint.netloc == '127.0.0.1:9' and other.credentials.region == 'ap-southeast-1'


def test_huaweicloud_client_for_an_instance_takes_its_region_and_project():
    base = huaweicloud.HuaweiCloudClient(huaweicloud.DCS, 'AK', 'SK', None, 'p0123', huaweicloud.huaweicloud_endpoint(huaweicloud.DCS, 'cn-north-4'),
                                         HttpClient(timeout=5), RetryPolicy())
    other = base.for_instance('ap-southeast-1', 'p4567')
    assert other.endpoint.netloc == 'dcs.ap-southeast-1.myhuaweicloud.com' and other.project_id == 'p4567'
    same = base.for_instance(None, None)
    assert same.endpoint.netloc == 'dcs.cn-north-4.myhuaweicloud.com' and same.project_id == 'p0123'
    with pytest.raises(ValidationError) as caught:
        base.for_instance(None, 'p/../x')
    assert caught.value.message.startswith("project_id 'p/../x' is not a valid Huawei Cloud project id")


def test_huaweicloud_endpoint_option_wins_over_the_instance_region():
    endpoint = huaweicloud.huaweicloud_endpoint(huaweicloud.DCS, None, 'http://127.0.0.1:9')
    base = huaweicloud.HuaweiCloudClient(huaweicloud.DCS, 'AK', 'SK', None, 'p0123', endpoint, HttpClient(timeout=5), RetryPolicy(),
                                         endpoint_option='http://127.0.0.1:9')
    assert base.for_instance('ap-southeast-1', None).endpoint.netloc == '127.0.0.1:9'


@pytest.mark.parametrize('check', [alicloud.check_region, huaweicloud.check_region])
@pytest.mark.parametrize('region', [None, '', 'CN', 'cn hangzhou', 'x' * 100, 3])
def test_check_region_refuses_what_is_not_a_region_id(check, region):
    with pytest.raises(ValidationError):
        check(region)


@pytest.mark.parametrize('check', [alicloud.check_region, huaweicloud.check_region])
def test_check_region_accepts_region_ids(check):
    check('cn-hangzhou')
    check('ap-southeast-1')


def test_without_any_region_every_instance_must_name_its_own():
    with pytest.raises(ValidationError) as info:
        parse_targets(['r-bp1a', {'instance_id': 'r-bp1b', 'region': 'cn-beijing'}], alicloud_redis.check_instance_id, alicloud.check_region)
    assert info.value.message == ('Invalid instances: instances[0]: instance r-bp1a names no region and no region is set '
                                  '(option region or its environment variable)')
    # With an endpoint (a test server, a VPC endpoint) the instance goes there without a region.
    assert parse_targets(['r-bp1a'], alicloud_redis.check_instance_id, alicloud.check_region, endpoint_set=True) == [Target('r-bp1a', None, None)]


def test_a_bad_project_id_is_named_before_any_request():
    with pytest.raises(ValidationError) as info:
        dcs_targets(['d-1', {'instance_id': 'd-2', 'project_id': 'p\n1'}])
    assert info.value.message.startswith("Invalid instances: instances[1]: project_id 'p\\n1' is not a valid Huawei Cloud project id")


def test_an_instance_listed_twice_in_two_spellings_is_refused():
    with pytest.raises(ValidationError) as info:
        redis_targets(['r-bp1a', {'instance_id': 'r-bp1a', 'region': 'cn-hangzhou'}])
    assert info.value.message == 'Invalid instances: instances[1]: instance r-bp1a is listed twice (first at instances[0])'


def test_an_unexpected_error_on_one_instance_keeps_the_others_results():
    family = FakeFamily({'i-1': 'old', 'i-2': 'old'}, apply_errors={'i-2': KeyError('boom')})
    outcome = execute(family, ['i-1', 'i-2'])
    assert outcome['failed'] is True and outcome['summary'] == {'changed': ['i-1'], 'unchanged': [], 'failed': ['i-2']}
    assert outcome['results'][1]['msg'] == "Unexpected KeyError: 'boom'"


def test_the_round_trip_leaves_out_the_wait_for_a_request_slot(monkeypatch):
    class Reply:
        status_code = 200
        headers = {}
        content = b'{}'

    class Session:
        def request(self, *args, **kwargs):
            return Reply()

    # clock readings: HttpClient starts (0), RequestSlots starts (1) and gets its slot (4), HttpClient ends (6)
    readings = iter([0.0, 1.0, 4.0, 6.0])
    monkeypatch.setattr('time.perf_counter', lambda: next(readings))
    client = HttpClient(session=RequestSlots(1, session_factory=Session))
    response = client.send('GET', 'http://127.0.0.1:9/')
    assert response.seconds == 3.0


# --- the write gate of bulk runs started together (real files in a temporary directory, runs in threads) ---

RUNS = ['huaweicloud_dcs', 'alicloud_redis']


def option(name, runs=None, gate_id='gate-0123456789', timeout=int(DEADLOCK)):
    return {'id': gate_id, 'name': name, 'runs': list(runs or RUNS), 'timeout': timeout}


def gates(directory, runs=None, timeout=int(DEADLOCK)):
    return [WriteGate(str(directory), name, list(runs or RUNS), timeout) for name in (runs or RUNS)]


def run_both(first, second):
    """Run two callables at once; their results in order."""
    results = [None, None]

    def call(index, function):
        results[index] = function()

    threads = [threading.Thread(target=call, args=(index, function)) for index, function in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLOCK * 3)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_no_option_is_no_gate():
    assert open_write_gate(None) is None


def test_the_gate_directory_is_named_after_the_id_in_the_temporary_directory(tmp_path, monkeypatch):
    monkeypatch.setenv('TMPDIR', str(tmp_path))
    monkeypatch.setattr('tempfile.tempdir', None)
    first = open_write_gate(option('huaweicloud_dcs'))
    second = open_write_gate(option('alicloud_redis'))
    other = open_write_gate(option('alicloud_redis', gate_id='another-gate-id'))
    assert first.directory == second.directory != other.directory
    assert os.path.dirname(first.directory) == str(tmp_path)
    assert 'gate-0123456789' not in first.directory
    assert first.others == ['alicloud_redis'] and second.others == ['huaweicloud_dcs']


@pytest.mark.parametrize('value, message', [
    (option('dcs'), "write_gate.name 'dcs' is not one of write_gate.runs ['huaweicloud_dcs', 'alicloud_redis']"),
    (option('a', runs=['a', 'a']), "write_gate.runs ['a', 'a'] names a run twice"),
    (option('a/../b', runs=['a/../b']), "write_gate: 'a/../b' is not a run name (1-64 letters, digits, \"-\" and \"_\")"),
    (option('alicloud_redis', gate_id='short'),
     "write_gate.id 'short' is too short: it must be at least 8 characters, unique to the job (for example a random string)"),
    (option('alicloud_redis', timeout=0), 'write_gate.timeout must be at least 1 second, not 0'),
])
def test_bad_gate_options_are_named(value, message):
    with pytest.raises(ValidationError) as caught:
        open_write_gate(value)
    assert caught.value.message == message


def test_runs_that_both_planned_both_pass_and_the_directory_is_removed(tmp_path):
    directory = tmp_path / 'gate'
    dcs, redis = gates(directory)

    def plan_then_wait(gate):
        def run():
            gate.post(True)
            return gate.wait_for_others()
        return run

    assert run_both(plan_then_wait(dcs), plan_then_wait(redis)) == [None, None]
    assert not directory.exists()


def test_a_run_that_could_not_plan_stops_the_other_before_it_writes(tmp_path):
    dcs, redis = gates(tmp_path / 'gate')
    dcs.post(False, 'Nothing was written: 1 instance(s) could not be planned: d-1: the whitelist is full')
    redis.post(True)
    assert redis.wait_for_others() == ('huaweicloud_dcs', 'run huaweicloud_dcs of the same write gate could not plan its instances: '
                                       'Nothing was written: 1 instance(s) could not be planned: d-1: the whitelist is full')
    assert not (tmp_path / 'gate').exists()


def test_a_run_that_never_tells_stops_the_other_at_the_timeout(tmp_path):
    now = [0.0]
    redis = WriteGate(str(tmp_path / 'gate'), 'alicloud_redis', RUNS, 30, clock=lambda: now[0],
                      sleep=lambda seconds: now.__setitem__(0, now[0] + seconds))
    redis.post(True)
    assert redis.wait_for_others() == (None, 'run(s) huaweicloud_dcs of the same write gate did not report their plans within 30s '
                                             '(write_gate.timeout)')
    assert 30 <= now[0] < 31
    # The silent run may still come: the directory stays until it is done too.
    assert (tmp_path / 'gate' / 'alicloud_redis.done').exists()


def ended_process_id():
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, '-c', 'pass'])
    process.wait()
    return process.pid


def silent_redis_run_waiting(tmp_path, dcs_process_id, dcs_verdict=None):
    """The Redis run's wait, with the DCS run announced as ``dcs_process_id`` (and its verdict, if any) and a fake clock."""
    now = [0.0]
    dcs = WriteGate(str(tmp_path / 'gate'), 'huaweicloud_dcs', RUNS, 30)
    dcs.announce()
    (tmp_path / 'gate' / 'huaweicloud_dcs.pid').write_text(str(dcs_process_id), encoding='utf-8')
    if dcs_verdict is not None:
        dcs.post(dcs_verdict)
    redis = WriteGate(str(tmp_path / 'gate'), 'alicloud_redis', RUNS, 30, clock=lambda: now[0],
                      sleep=lambda seconds: now.__setitem__(0, now[0] + seconds))
    redis.announce()
    redis.post(True)
    return redis.wait_for_others(), now[0]


def test_a_run_whose_process_ended_without_a_verdict_stops_the_other_at_once(tmp_path):
    outcome, waited = silent_redis_run_waiting(tmp_path, ended_process_id())
    assert outcome == ('huaweicloud_dcs', 'run huaweicloud_dcs of the same write gate ended without reporting its plans '
                                          '(its process is gone)')
    assert waited == 0


def test_a_run_whose_process_is_alive_is_waited_for_until_the_timeout(tmp_path):
    outcome, waited = silent_redis_run_waiting(tmp_path, os.getpid())
    assert outcome == (None, 'run(s) huaweicloud_dcs of the same write gate did not report their plans within 30s (write_gate.timeout)')
    assert 30 <= waited < 31


def test_a_run_that_posted_its_verdict_before_it_ended_is_taken_at_its_word(tmp_path):
    outcome, waited = silent_redis_run_waiting(tmp_path, ended_process_id(), dcs_verdict=True)
    assert outcome is None and waited == 0


def test_a_run_announces_itself_with_its_process_id(tmp_path):
    gate = WriteGate(str(tmp_path / 'gate'), 'alicloud_redis', RUNS, 30)
    gate.announce()
    assert (tmp_path / 'gate' / 'alicloud_redis.pid').read_text(encoding='utf-8') == str(os.getpid())
    assert oct((tmp_path / 'gate').stat().st_mode & 0o777) == '0o700'


def test_a_gate_directory_that_cannot_be_made_is_refused_when_the_run_announces(tmp_path):
    gate = WriteGate(str(tmp_path / 'missing-parent' / 'gate'), 'alicloud_redis', RUNS, 30)
    with pytest.raises(ValidationError, match='could not be used .*: nothing was written'):
        gate.announce()


def test_a_directory_someone_else_could_write_is_not_trusted(tmp_path):
    directory = tmp_path / 'gate'
    directory.mkdir(mode=0o777)
    os.chmod(str(directory), 0o777)
    dcs, _redis = gates(directory)
    with pytest.raises(ValidationError) as caught:
        dcs.post(True)
    assert caught.value.message == 'write gate directory %s is not a private directory of this user: nothing was written' % directory


def test_a_symlink_is_not_trusted(tmp_path):
    target = tmp_path / 'elsewhere'
    target.mkdir(mode=0o700)
    (tmp_path / 'gate').symlink_to(target)
    dcs, _redis = gates(tmp_path / 'gate')
    with pytest.raises(ValidationError, match='is not a private directory of this user'):
        dcs.post(True)


def test_a_reused_gate_id_is_refused(tmp_path):
    directory = tmp_path / 'gate'
    dcs, _redis = gates(directory)
    dcs.post(True)
    again, _redis = gates(directory)
    with pytest.raises(ValidationError) as caught:
        again.post(True)
    assert caught.value.message == ("write gate directory %s already holds a verdict of run 'huaweicloud_dcs': write_gate.id was "
                                    "used before, and must be unique to each job" % directory)


# --- BulkWhitelist with a gate ---------------------------------------------------------------

def gated_run(family, ids, gate, check_mode=False):
    return BulkWhitelist(family, targets(*ids), 10, check_mode, False, gate=gate)


def test_two_bulk_runs_that_planned_both_write(tmp_path):
    dcs_gate, redis_gate = gates(tmp_path / 'gate')
    dcs = FakeFamily({'d-1': 'old', 'd-2': 'wanted'})
    redis = FakeFamily({'r-1': 'old'})
    outcomes = run_both(gated_run(dcs, ['d-1', 'd-2'], dcs_gate).execute, gated_run(redis, ['r-1'], redis_gate).execute)
    assert [outcome.get('failed') for outcome in outcomes] == [None, None]
    assert dcs.applied == ['d-1'] and redis.applied == ['r-1']
    assert not (tmp_path / 'gate').exists()


def test_a_bulk_run_that_cannot_plan_stops_the_other_run_before_any_write(tmp_path):
    dcs_gate, redis_gate = gates(tmp_path / 'gate')
    dcs = FakeFamily({'d-1': 'old'}, plan_errors={'d-1': ValidationError('group office of d-1 would hold 21 entries')})
    redis = FakeFamily({'r-1': 'old', 'r-2': 'old'})
    dcs_outcome, redis_outcome = run_both(gated_run(dcs, ['d-1'], dcs_gate).execute, gated_run(redis, ['r-1', 'r-2'], redis_gate).execute)
    assert dcs.applied == [] and redis.applied == []
    assert dcs_outcome['refused'] is True and 'refused_by' not in dcs_outcome
    assert redis_outcome['failed'] is True and redis_outcome['refused'] is True and redis_outcome['refused_by'] == 'huaweicloud_dcs'
    assert redis_outcome['changed'] is False and redis_outcome['summary'] == {'changed': [], 'unchanged': ['r-1', 'r-2'], 'failed': []}
    assert redis_outcome['msg'] == ('Nothing was written: run huaweicloud_dcs of the same write gate could not plan its instances: '
                                    'Nothing was written: 1 instance(s) could not be planned: d-1: group office of d-1 would hold 21 entries')


def test_a_read_failure_stops_the_other_run_too(tmp_path):
    dcs_gate, redis_gate = gates(tmp_path / 'gate')
    dcs = FakeFamily({'d-1': 'old'})
    redis = FakeFamily({'r-1': 'old'}, read_errors={'r-1': ApiError('Redis instance r-1 was not found', code='InvalidInstanceId.NotFound')})
    dcs_outcome, redis_outcome = run_both(gated_run(dcs, ['d-1'], dcs_gate).execute, gated_run(redis, ['r-1'], redis_gate).execute)
    assert dcs.applied == [] and redis.applied == []
    assert dcs_outcome['refused_by'] == 'alicloud_redis' and redis_outcome['refused'] is True


def test_a_run_with_nothing_to_write_does_not_wait(tmp_path):
    dcs_gate, _redis_gate = gates(tmp_path / 'gate', timeout=int(DEADLOCK * 100))
    dcs = FakeFamily({'d-1': 'wanted'})
    outcome = gated_run(dcs, ['d-1'], dcs_gate).execute()
    assert outcome['changed'] is False and 'failed' not in outcome
    assert (tmp_path / 'gate' / 'huaweicloud_dcs.json').exists() and (tmp_path / 'gate' / 'huaweicloud_dcs.done').exists()


def test_check_mode_does_not_wait_and_writes_nothing(tmp_path):
    dcs_gate, _redis_gate = gates(tmp_path / 'gate', timeout=int(DEADLOCK * 100))
    dcs = FakeFamily({'d-1': 'old'})
    outcome = gated_run(dcs, ['d-1'], dcs_gate, check_mode=True).execute()
    assert outcome['changed'] is True and dcs.applied == []


def test_a_gate_that_cannot_be_used_writes_nothing(tmp_path):
    directory = tmp_path / 'gate'
    directory.mkdir(mode=0o755)
    os.chmod(str(directory), 0o755)
    dcs_gate, _redis_gate = gates(directory)
    dcs = FakeFamily({'d-1': 'old'})
    outcome = gated_run(dcs, ['d-1'], dcs_gate).execute()
    assert dcs.applied == [] and outcome['refused'] is True and 'refused_by' not in outcome
    assert outcome['msg'] == ('Nothing was written: the write gate could not be used: write gate directory %s is not a private '
                              'directory of this user: nothing was written' % directory)


def test_a_run_stopped_while_planning_tells_the_other_runs_at_once(tmp_path):
    class Interrupted(FakeFamily):
        def read(self, client, target):
            raise KeyboardInterrupt()

    # Without the stopped run's verdict the other would give up after 2 s, and say so (not the message below).
    dcs_gate, redis_gate = gates(tmp_path / 'gate', timeout=2)
    with pytest.raises(KeyboardInterrupt):
        gated_run(Interrupted({'d-1': 'old'}), ['d-1'], dcs_gate).execute()
    redis = FakeFamily({'r-1': 'old'})
    outcome = gated_run(redis, ['r-1'], redis_gate).execute()
    assert redis.applied == [] and outcome['refused'] is True and outcome['refused_by'] == 'huaweicloud_dcs'
    assert outcome['msg'] == ('Nothing was written: run huaweicloud_dcs of the same write gate could not plan its instances: '
                              'Nothing was written: the run was stopped while reading its instances (KeyboardInterrupt)')
