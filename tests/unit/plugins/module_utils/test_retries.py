# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import pytest

from ansible_collections.ipguard.cloud.plugins.module_utils import _errors as errors
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import RetryPolicy, wait_until


class Script:
    """Raises the scripted errors in turn, then returns 'ok'; counts attempts."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.attempts = 0

    def __call__(self):
        self.attempts += 1
        if self.outcomes:
            outcome = self.outcomes.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        return 'ok'


def policy(retries=5, random_value=0.0, sleeps=None):
    sleeps = [] if sleeps is None else sleeps
    return RetryPolicy(retries=retries, sleep=sleeps.append, random_fn=lambda: random_value), sleeps


@pytest.mark.parametrize('error', [
    errors.ThrottledError('slow down', code='Throttling.User'),
    errors.ServerError('oops', http_status=503),
    errors.TransportError('reset'),
])
def test_transient_errors_are_retried_with_doubling_delays(error):
    retry, sleeps = policy(random_value=1.0)
    script = Script(error, error, error)
    assert retry.run(script) == 'ok'
    assert script.attempts == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_busy_errors_wait_longer():
    retry, sleeps = policy(random_value=1.0)
    busy = errors.InstanceBusyError('busy', code='IncorrectDBInstanceState')
    assert retry.run(Script(busy, busy)) == 'ok'
    assert sleeps == [2.0, 4.0]


@pytest.mark.parametrize('error', [
    errors.AuthError('bad signature'),
    errors.InvalidParameterError('bad'),
    errors.NotFoundError('gone'),
    errors.ApiError('other'),
    errors.ValidationError('bad input'),
])
def test_permanent_errors_are_not_retried(error):
    retry, sleeps = policy()
    script = Script(error)
    with pytest.raises(type(error)):
        retry.run(script)
    assert script.attempts == 1 and sleeps == []


def test_other_exceptions_propagate_untouched():
    retry, sleeps = policy()
    script = Script(KeyError('x'))
    with pytest.raises(KeyError):
        retry.run(script)
    assert script.attempts == 1 and sleeps == []


def test_retries_are_bounded():
    retry, sleeps = policy(retries=2)
    error = errors.ThrottledError('slow down')
    script = Script(error, error, error, error)
    with pytest.raises(errors.ThrottledError):
        retry.run(script)
    assert script.attempts == 3 and len(sleeps) == 2


def test_zero_retries_means_one_attempt():
    retry, sleeps = policy(retries=0)
    script = Script(errors.ServerError('x'))
    with pytest.raises(errors.ServerError):
        retry.run(script)
    assert script.attempts == 1 and sleeps == []


def test_negative_retries_refused():
    with pytest.raises(errors.ValidationError, match='retries must be 0 or more'):
        RetryPolicy(retries=-1)


def test_jitter_stays_between_half_and_full_delay_and_is_capped():
    low, dummy = policy(random_value=0.0)
    high, dummy = policy(random_value=0.999)
    error = errors.ThrottledError('x')
    for attempt in range(1, 10):
        nominal = min(8.0, 0.5 * 2 ** (attempt - 1))
        assert low.delay(attempt, error) == nominal / 2
        assert nominal / 2 < high.delay(attempt, error) <= nominal
    assert high.delay(30, error) <= 8.0


def test_retry_after_raises_the_delay_but_never_lowers_it():
    retry, dummy = policy(random_value=1.0)
    assert retry.delay(1, errors.ThrottledError('x', retry_after=3)) == 3.0
    assert retry.delay(3, errors.ThrottledError('x', retry_after=0.1)) == 2.0


def test_on_retry_hears_about_each_retry():
    retry, dummy = policy(random_value=1.0)
    heard = []
    error = errors.ThrottledError('x')
    retry.run(Script(error), on_retry=lambda attempt, err, delay: heard.append((attempt, err, delay)))
    assert heard == [(1, error, 0.5)]


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_until_polls_with_growing_interval():
    clock = FakeClock()
    values = iter(['Changing', 'Changing', 'Changing', 'Normal'])
    assert wait_until(lambda: next(values), lambda v: v == 'Normal', 60, 'instance r-1 to be Normal',
                      interval=2, max_interval=4, sleep=clock.sleep, clock=clock) == 'Normal'
    assert clock.sleeps == [2, 3.0, 4]


def test_wait_until_times_out_naming_what_and_last_value():
    clock = FakeClock()
    with pytest.raises(errors.WaitTimeoutError) as info:
        wait_until(lambda: 'Changing', lambda v: v == 'Normal', 10, 'instance r-1 to be Normal',
                   interval=4, sleep=clock.sleep, clock=clock)
    assert info.value.message == 'Timed out after 10s waiting for instance r-1 to be Normal (last seen: Changing)'
    assert sum(clock.sleeps) == 10  # never sleeps past the deadline


def test_wait_until_returns_at_once_when_ready():
    clock = FakeClock()
    assert wait_until(lambda: 'Normal', lambda v: v == 'Normal', 0, 'x', sleep=clock.sleep, clock=clock) == 'Normal'
    assert clock.sleeps == []


def test_fail_kwargs_and_redaction():
    error = errors.AuthError('bad: sekret and TOKEN', code='SignatureDoesNotMatch', request_id='R-1', http_status=400)
    assert errors.fail_kwargs(error) == {'msg': 'bad: sekret and TOKEN', 'error_code': 'SignatureDoesNotMatch',
                                         'request_id': 'R-1', 'http_status': 400}
    assert errors.fail_kwargs(errors.ValidationError('bad input')) == {'msg': 'bad input'}
    assert errors.redact('bad: sekret and TOKEN', ['sekret', 'TOKEN', None, '']) == 'bad: ******** and ********'
    assert errors.redact(None, ['x']) is None
    assert str(error) == 'bad: sekret and TOKEN'


def test_fail_kwargs_reports_the_writes_made_before_the_failure():
    class Client:
        write_request_ids = ['REQ-1', 'REQ-2']

    error = errors.ConflictError('group changed under us')
    assert errors.fail_kwargs(error, Client()) == {'msg': 'group changed under us', 'changed': True, 'request_ids': ['REQ-1', 'REQ-2']}
    Client.write_request_ids = []
    assert errors.fail_kwargs(error, Client()) == {'msg': 'group changed under us'}
    assert errors.fail_kwargs(error, None) == {'msg': 'group changed under us'}


def test_exhausted_retries_are_named_in_the_message():
    retry, sleeps = policy(retries=2)
    error = errors.ThrottledError('slow down.')
    with pytest.raises(errors.ThrottledError) as info:
        retry.run(Script(error, error, error))
    assert info.value.message == 'slow down (gave up after 2 retries)'
    retry, sleeps = policy(retries=0)
    error = errors.ServerError('oops')
    with pytest.raises(errors.ServerError) as info:
        retry.run(Script(error))
    assert info.value.message == 'oops (no retry was allowed (retries: 0))'


def test_a_permanent_error_is_not_marked_as_exhausted():
    retry, dummy = policy(retries=2)
    with pytest.raises(errors.AuthError) as info:
        retry.run(Script(errors.AuthError('denied.')))
    assert info.value.message == 'denied.'


def test_a_write_is_repeated_only_after_a_refusal():
    retry, sleeps = policy(retries=3)
    script = Script(errors.ThrottledError('slow'), errors.InstanceBusyError('busy'), 'done')
    assert retry.run(script, idempotent=False) == 'done' and script.attempts == 3
    for lost in (errors.ServerError('oops', http_status=502), errors.TransportError('reset')):
        script = Script(lost)
        with pytest.raises(type(lost)):
            retry.run(script, idempotent=False)
        assert script.attempts == 1


def test_max_retries_lowers_the_bound_for_one_call():
    retry, sleeps = policy(retries=3)
    error = errors.ThrottledError('slow')
    script = Script(error, error, error)
    with pytest.raises(errors.ThrottledError):
        retry.run(script, max_retries=1)
    assert script.attempts == 2 and len(sleeps) == 1
    script = Script(error, error, error, error)
    with pytest.raises(errors.ThrottledError):
        retry.run(script, max_retries=10)  # never above retries
    assert script.attempts == 4


class Attempts:
    """For converge: raises the scripted errors in turn (by retry number), then returns ('ok', retry)."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.seen = []

    def __call__(self, retry):
        self.seen.append(retry)
        if self.outcomes:
            outcome = self.outcomes.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
        return ('ok', retry)


def write_error(error_class, action='ModifySecurityIps', replan=True):
    """An error as SignedApiClient.send_write marks it (``replan``: lost answer, or a refused overwrite)."""
    error = error_class('%s failed.' % action)
    error.write_action = action
    error.replan = replan
    return error


def test_converge_plans_again_after_a_failed_write():
    retry, sleeps = policy(retries=3, random_value=1.0)

    class Client:
        unconfirmed_writes = [('ModifySecurityIps', None)]

    client = Client()
    attempts = Attempts(write_error(errors.ServerError), write_error(errors.ThrottledError), write_error(errors.ChangeUndoneError))
    assert retry.converge(attempts, client) == ('ok', 3)
    assert attempts.seen == [0, 1, 2, 3]
    assert sleeps == [0.5, 1.0, 2.0]
    # A successful attempt read the state afresh: the earlier lost answers are settled.
    assert client.unconfirmed_writes == []


def test_converge_busy_errors_back_off_longer():
    retry, sleeps = policy(retries=3, random_value=1.0)
    assert retry.converge(Attempts(write_error(errors.InstanceBusyError))) == ('ok', 1)
    assert sleeps == [2.0]


@pytest.mark.parametrize('error', [
    errors.ServerError('a read failed'),                      # not a write: the read already had its retries
    write_error(errors.ServerError, replan=False),
    write_error(errors.InvalidParameterError, replan=False),  # a write refused for good
    write_error(errors.ThrottledError, replan=False),         # a refusal the client already retried
    write_error(errors.PermanentTransportError, replan=False),
    errors.ConflictError('not as planned'),
])
def test_converge_does_not_retry_reads_or_permanent_errors(error):
    retry, sleeps = policy(retries=3)
    attempts = Attempts(error)

    class Client:
        unconfirmed_writes = [('X', None)]

    client = Client()
    with pytest.raises(type(error)) as info:
        retry.converge(attempts, client)
    assert info.value is error and attempts.seen == [0] and sleeps == []
    assert 'gave up' not in info.value.message
    assert client.unconfirmed_writes == [('X', None)]


def test_converge_is_bounded_by_retries_and_says_so():
    retry, sleeps = policy(retries=2)
    errors_raised = [write_error(errors.ChangeUndoneError, 'UpdateIpWhitelist') for dummy in range(3)]
    attempts = Attempts(*errors_raised)
    with pytest.raises(errors.ChangeUndoneError) as info:
        retry.converge(attempts)
    assert attempts.seen == [0, 1, 2] and len(sleeps) == 2
    assert info.value is errors_raised[-1]
    assert info.value.message == 'UpdateIpWhitelist failed (gave up after 2 retries, each planned again from a fresh read)'
    retry, sleeps = policy(retries=1)
    attempts = Attempts(write_error(errors.TransportError), write_error(errors.TransportError))
    with pytest.raises(errors.TransportError) as info:
        retry.converge(attempts)
    assert info.value.message == 'ModifySecurityIps failed (gave up after 1 retry, each planned again from a fresh read)'


def test_converge_with_no_retries_makes_one_attempt():
    retry, sleeps = policy(retries=0)
    attempts = Attempts(write_error(errors.ThrottledError))
    with pytest.raises(errors.ThrottledError) as info:
        retry.converge(attempts)
    assert attempts.seen == [0] and sleeps == []
    assert info.value.message == 'ModifySecurityIps failed (no retry was allowed (retries: 0))'


def test_fail_kwargs_says_a_lost_answer_may_have_been_applied():
    class Client:
        write_request_ids = ['REQ-1']
        unconfirmed_writes = [('ModifySecurityIps', None), ('UpdateIpWhitelist', 'rq-9')]

    error = errors.ServerError('Alibaba Cloud R-kvstore DescribeSecurityIps failed: HTTP 503.', http_status=503)
    assert errors.fail_kwargs(error, Client()) == {
        'msg': 'Alibaba Cloud R-kvstore DescribeSecurityIps failed: HTTP 503. The answer to ModifySecurityIps (no request id: the answer '
               'was lost), UpdateIpWhitelist (request id rq-9) was lost: the write may have been applied. Nothing was repeated blindly; '
               'run the task again to see the state and converge.',
        'http_status': 503, 'changed': True, 'request_ids': ['REQ-1']}
    Client.write_request_ids = []
    Client.unconfirmed_writes = [('AddIpControlPolicyItem', None)]
    assert errors.fail_kwargs(error, Client())['changed'] is True
    Client.unconfirmed_writes = []
    assert 'changed' not in errors.fail_kwargs(error, Client())
