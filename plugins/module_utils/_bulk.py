# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bulk runs: one module run that reads, plans and writes one whitelist group on many instances.

The per-instance steps are the single-instance modules' own (read -> plan -> apply -> verify);
this file only adds the fleet around them:

1. every instance is read, concurrently, and planned;
2. nothing is written anywhere unless every instance was read and planned without error;
3. the changed instances are applied concurrently; one failing does not stop the others.
   Their status is read in batches first (DescribeInstances by 30 ids, ListInstances per
   project), so an instance found ready does not need a status read of its own before its write;
   the status reads of the waits around the writes are batched too where the family can
   (CoalescedStatusReads: Redis DescribeInstances).

``concurrency`` bounds the requests in flight, not the workers: a worker that sleeps (waiting
for an instance, or for a DCS change to settle) holds no request slot. Throttling pauses every
worker (RetryPolicy's shared pause), so a storm slows the pool down without multiplying retries.
"""

import threading
import time
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import IpguardError, ValidationError, fail_kwargs
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import SharedPause
from ansible_collections.ipguard.cloud.plugins.module_utils._transport import ThreadLocalSessions
from ansible_collections.ipguard.cloud.plugins.module_utils._write_gate import open_write_gate, write_gate_of_unchecked_option, write_gate_spec

MAX_CONCURRENCY = 64
# Workers beyond the request slots sleep through waits (an instance to accept changes, a DCS
# change to settle for its confirmation read) without holding a slot, so they are many: with
# few, 1000 DCS instances would wait out their 2 s settle one pool-width at a time.
MAX_WORKERS = 512
READ_WORKERS_PER_SLOT = 4

# ``role_arn``: the RAM role to assume for this instance (an instance of another Alibaba Cloud account).
Target = namedtuple('Target', ['instance_id', 'region', 'project_id', 'role_arn'], defaults=(None,))


def bulk_argument_spec():
    """The options every bulk module adds to its single-instance module's options."""
    return dict(
        instances=dict(type='list', elements='raw', required=True),
        concurrency=dict(type='int', default=10),
        **write_gate_spec()
    )


def parse_targets(instances, check_instance_id, check_region, check_project_id=None, default_region=None, default_project_id=None,
                  endpoint_set=False, check_role_arn=None):
    """The ``instances`` option as Targets, in input order; every bad element is named.

    An element is an instance id, or a dict with ``instance_id`` and optional ``region`` (and
    ``project_id`` when ``check_project_id`` is given, ``role_arn`` when ``check_role_arn`` is
    given). An instance listed twice is refused: its
    two plans would race each other inside one run. Without a default region (and without an
    ``endpoint``), every instance must name its region: none is guessed. Huawei project ids are
    per region, so an instance in another region than the default must name its project too.
    """
    allowed = ('instance_id', 'region') + (('project_id',) if check_project_id else ()) + (('role_arn',) if check_role_arn else ())
    targets = []
    problems = []
    seen = {}
    for index, element in enumerate(instances or []):
        where = 'instances[%d]' % index
        if isinstance(element, str):
            element = {'instance_id': element}
        if not isinstance(element, dict):
            problems.append('%s must be an instance id or a dict with instance_id, not %r' % (where, element))
            continue
        unknown = sorted(set(element) - set(allowed))
        if unknown:
            problems.append('%s has unknown key(s) %s (allowed: %s)' % (where, ', '.join(unknown), ', '.join(allowed)))
            continue
        target = Target(element.get('instance_id'), element.get('region') or None, element.get('project_id') or None,
                        element.get('role_arn') or None)
        try:
            if not isinstance(target.instance_id, str):
                raise ValidationError('instance_id %r is not an instance id' % (target.instance_id,))
            check_instance_id(target.instance_id)
            if target.region is not None:
                check_region(target.region)
            if target.project_id is not None:
                check_project_id(target.project_id)
            if target.role_arn is not None:
                check_role_arn(target.role_arn)
        except ValidationError as error:
            problems.append('%s: %s' % (where, error.message))
            continue
        if target.region is None and default_region is None and not endpoint_set:
            problems.append('%s: instance %s names no region and no region is set (option region or its environment variable)'
                            % (where, target.instance_id))
            continue
        if (check_project_id and target.region not in (None, default_region) and target.project_id is None
                and not (endpoint_set and default_project_id)):
            problems.append('%s: instance %s is in region %s; give its project_id too, since Huawei Cloud project ids are per region'
                            % (where, target.instance_id, target.region))
            continue
        if target.instance_id in seen:
            problems.append('%s: instance %s is listed twice (first at instances[%d])' % (where, target.instance_id, seen[target.instance_id]))
            continue
        seen[target.instance_id] = index
        targets.append(target)
    if problems:
        raise ValidationError('Invalid instances: %s' % '; '.join(problems))
    return targets


def first_region(instances):
    """The region the first instance names (before validation), to stand in for a missing region option."""
    return next((element.get('region') for element in instances or [] if isinstance(element, dict) and isinstance(element.get('region'), str)
                 and element.get('region')), None)


def check_concurrency(concurrency):
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValidationError('concurrency must be a whole number from 1 to %d, not %r' % (MAX_CONCURRENCY, concurrency))
    return concurrency


class RequestSlots:
    """Sessions for the worker threads, with at most ``concurrency`` requests in flight at once."""

    def __init__(self, concurrency, session_factory=None):
        self.sessions = ThreadLocalSessions(session_factory)
        self.slots = threading.BoundedSemaphore(concurrency)

    def request(self, *args, **kwargs):
        started = time.perf_counter()
        with self.slots:
            waited = time.perf_counter() - started
            response = self.sessions.request(*args, **kwargs)
        # HttpClient reports the round trip without this wait: the DCS confirmation read waits
        # a multiple of the slowest round trip, and queueing for a slot is not one.
        response.slot_wait = waited
        return response


def share_for_bulk(client, concurrency):
    """Make ``client`` (and every client derived from it with ``for_instance``) send through
    bounded request slots and pause together on throttling."""
    client.http.session = RequestSlots(concurrency)
    client.retry_policy.shared_pause = SharedPause()
    return client


def run_concurrently(function, items, workers):
    """``function(item)`` for every item on a pool of threads; the results, in input order.

    ``function`` must not raise: each step below catches what it expects.
    """
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(len(items), workers))) as pool:
        return list(pool.map(function, items))


class InstanceRun:
    """What one instance went through in a bulk run."""

    def __init__(self, target, client):
        self.target = target
        self.client = client
        self.state = None
        self.plan = None
        self.applied = None
        self.error = None

    @property
    def failed(self):
        return self.error is not None


def ready_instance_ids(runs, batch_key, read_ready, batch_size, workers):
    """The instances of ``runs`` that a batched status read finds ready for a write.

    ``runs`` are grouped by ``batch_key(run)`` (the runs one status call can cover: same region,
    project, account) and cut into batches of ``batch_size`` (None: one batch per group);
    ``read_ready(client, instance_ids)`` returns the ready ones of a batch. A batch whose read
    fails counts none as ready: those instances then read their own status before writing.
    """
    groups = {}
    for run in runs:
        groups.setdefault(batch_key(run), []).append(run)
    batches = []
    for members in groups.values():
        size = batch_size or len(members)
        batches.extend(members[start:start + size] for start in range(0, len(members), size))

    def read(batch):
        try:
            return read_ready(batch[0].client, [run.target.instance_id for run in batch])
        except IpguardError:
            return frozenset()

    return frozenset().union(*run_concurrently(read, batches, workers))


# How long the first worker to ask for a status waits for others to join its batched call.
# Workers finish their writes about ``concurrency`` per round trip, so this gathers several into
# one call; an instance waits that much longer at most, next to the seconds between the polls of
# a wait for an instance.
COALESCE_SECONDS = 0.1


class _StatusWanted:
    """One worker's request for the status of its instance."""

    def __init__(self, client, instance_id):
        self.client = client
        self.instance_id = instance_id
        self.wake = threading.Event()
        self.leads = False
        self.done = False
        self.listed = False
        self.status = None


class CoalescedStatusReads:
    """Status reads that the workers of a bulk run ask for at about the same time, sent as batched calls.

    After its write a worker waits for its instance to accept changes again before the read-back,
    one status read per instance and poll. ``read(client, instance_id, batch_key)`` returns the
    status instead from one ``read_batch(client, instance_ids)`` call (returning
    ``{instance_id: status}``, at most ``batch_size`` ids) shared by every worker that asked with
    the same ``batch_key`` within ``linger`` seconds of the first: that first worker sends it,
    with its own client, and the others wait for its answer. A worker joins only once its write
    was answered, so the batched call is sent after the write of every instance in it. An
    instance the answer does not list, and every instance of a batch whose call failed, read
    their own status with ``read_one(client, instance_id)``.
    """

    def __init__(self, read_batch, read_one, batch_size, linger=COALESCE_SECONDS):
        self.read_batch = read_batch
        self.read_one = read_one
        self.batch_size = batch_size
        self.linger = linger
        self.condition = threading.Condition()
        self.waiting = {}

    def read(self, client, instance_id, batch_key):
        wanted = _StatusWanted(client, instance_id)
        with self.condition:
            queue = self.waiting.setdefault(batch_key, [])
            queue.append(wanted)
            wanted.leads = len(queue) == 1
            self.condition.notify_all()
        while not wanted.done:
            if wanted.leads:
                wanted.leads = False
                self._send_batch(batch_key)
            else:
                wanted.wake.wait()
                wanted.wake.clear()
        if wanted.listed:
            return wanted.status
        return self.read_one(client, instance_id)

    def _send_batch(self, batch_key):
        with self.condition:
            # wait_for keeps its own clock: the linger is real time, whatever the retry code's clock does.
            self.condition.wait_for(lambda: len(self.waiting[batch_key]) >= self.batch_size, self.linger)
            queue = self.waiting[batch_key]
            batch, rest = queue[:self.batch_size], queue[self.batch_size:]
            if rest:
                self.waiting[batch_key] = rest
                rest[0].leads = True
                rest[0].wake.set()
            else:
                del self.waiting[batch_key]
        statuses = {}
        try:
            statuses = self.read_batch(batch[0].client, [wanted.instance_id for wanted in batch])
        except IpguardError:
            statuses = {}
        finally:
            # Also after an unexpected error: no worker is left waiting for an answer.
            for wanted in batch:
                wanted.listed = wanted.instance_id in statuses
                wanted.status = statuses.get(wanted.instance_id)
                wanted.done = True
                wanted.wake.set()


class BulkWhitelist:
    """The fleet steps around one family's per-instance steps.

    ``family`` provides: ``client_for(target)``, ``read(client, target)``, ``plan(state, target)``,
    ``changed(plan)``, ``ready_to_write(runs, workers)`` (the instance ids a batched status read
    found ready, or an empty set), ``apply(client, target, plan, ready)`` and
    ``result(run, diff)`` (the per-instance result keys beyond instance_id, changed, failed,
    msg and request_ids: region, the managed group, diff...).
    """

    def __init__(self, family, targets, concurrency, check_mode, diff, gate=None):
        self.family = family
        self.gate = gate
        self.runs = [InstanceRun(target, family.client_for(target)) for target in targets]
        self.workers = MAX_WORKERS
        self.concurrency = concurrency
        self.check_mode = check_mode
        self.diff = diff
        self.ready = frozenset()

    def _read_and_plan(self, run):
        try:
            run.state = self.family.read(run.client, run.target)
            run.plan = self.family.plan(run.state, run.target)
        except Exception as error:  # pylint: disable=broad-exception-caught
            run.error = as_instance_error(error)
        return run

    def _apply(self, run):
        try:
            run.applied = self.family.apply(run.client, run.target, run.plan, run.target.instance_id in self.ready)
        except Exception as error:  # pylint: disable=broad-exception-caught
            run.error = as_instance_error(error)
        return run

    def execute(self):
        """Read and plan everything, then apply the changed instances unless a plan failed; return the module result."""
        # Reads never wait for an instance: a few workers per request slot keep the slots busy while
        # reusing their connections (a worker per instance would open a connection per instance).
        try:
            run_concurrently(self._read_and_plan, self.runs, min(self.workers, READ_WORKERS_PER_SLOT * self.concurrency))
        except BaseException as error:
            # Stopped while planning (Ctrl-C reaches the module as KeyboardInterrupt): the other runs of the
            # write gate learn it now, rather than waiting out write_gate.timeout.
            post_refusal(self.gate, 'Nothing was written: the run was stopped while reading its instances (%s)' % type(error).__name__)
            raise
        refused = [run for run in self.runs if run.failed]
        if refused:
            message = 'Nothing was written: %s' % describe_failures(refused, 'could not be planned')
            post_refusal(self.gate, message)
            return self.result(message, refused_before_writing=True)
        to_apply = [run for run in self.runs if self.family.changed(run.plan)]
        stopped = self._pass_gate(writes_next=bool(to_apply) and not self.check_mode)
        if stopped is not None:
            run_name, reason = stopped
            return self.result('Nothing was written: %s' % reason, refused_before_writing=True, refused_by=run_name)
        if not self.check_mode and to_apply:
            self.ready = self.family.ready_to_write(to_apply, self.workers)
            run_concurrently(self._apply, to_apply, self.workers)
        failed = [run for run in self.runs if run.failed]
        if failed:
            others = len(to_apply) - len(failed)
            return self.result('%s; %d other changed instance(s) were written' % (describe_failures(failed, 'failed'), others))
        return self.result(None)

    def _pass_gate(self, writes_next):
        """Post this run's plans to the write gate; before writing, wait for the other runs' verdicts.

        None when the run may go on, else (the run that could not plan, or None; why nothing may be written)."""
        if self.gate is None:
            return None
        try:
            self.gate.post(True)
            if writes_next:
                return self.gate.wait_for_others()
            self.gate.close()
        except (OSError, ValidationError) as error:
            # Fail closed: without the other runs' verdicts nothing is written.
            return None, 'the write gate could not be used: %s' % error
        return None

    def instance_changed(self, run):
        if run.plan is None or not self.family.changed(run.plan):
            return False
        # Another writer may have made the change while this run waited: then nothing was written.
        return self.check_mode or run.client.wrote

    def result(self, failure, refused_before_writing=False, refused_by=None):
        results = []
        summary = {'changed': [], 'unchanged': [], 'failed': []}
        for run in self.runs:
            changed = self.instance_changed(run) and not refused_before_writing
            entry = {
                'instance_id': run.target.instance_id,
                'changed': changed or bool(run.failed and run.client.wrote),
                'failed': run.failed,
                'msg': fail_kwargs(run.error, run.client)['msg'] if run.failed else '',
                'request_ids': list(run.client.write_request_ids),
            }
            entry.update(self.family.result(run, self.diff and not refused_before_writing))
            results.append(entry)
            summary['failed' if run.failed else 'changed' if entry['changed'] else 'unchanged'].append(run.target.instance_id)
        outcome = {'changed': any(entry['changed'] for entry in results), 'results': results, 'summary': summary,
                   'refused': refused_before_writing}
        if refused_by is not None:
            outcome['refused_by'] = refused_by
        if self.diff:
            # Ansible shows a list of diffs one after the other; the headers name each instance.
            outcome['diff'] = [dict(entry['diff'], before_header=entry['instance_id'], after_header=entry['instance_id'])
                               for entry in results if entry['changed'] and 'diff' in entry]
        if failure is not None:
            outcome['msg'] = failure
            outcome['failed'] = True
        return outcome


class BulkModule(AnsibleModule):
    """The AnsibleModule of a bulk module: a run that fails before it reached its bulk run wrote
    nothing, says so (``refused``), and tells its write gate first.

    Without that, a run whose options Ansible itself refused (a misspelt credential option in
    ``module_defaults``, say), or that crashed, would leave the gate's other runs waiting out
    ``write_gate.timeout`` (10 minutes) before they give up.
    """

    write_gate = None
    bulk_run_started = False

    def open_write_gate(self):
        """Open the gate of the ``write_gate`` option (if set) and announce this run on it."""
        self.write_gate = open_write_gate(self.params['write_gate'])
        if self.write_gate is not None:
            self.write_gate.announce()

    def _tell_gate(self, why):
        # Ansible may refuse the options before main() opened the gate: then the gate is the one the raw option names.
        gate = self.write_gate or write_gate_of_unchecked_option(getattr(self, 'params', {}).get('write_gate'))
        if gate is not None and not gate.posted:
            post_refusal(gate, 'Nothing was written: %s' % why)

    def fail_json(self, msg, **kwargs):
        if not self.bulk_run_started:
            self._tell_gate(msg)
            kwargs.setdefault('refused', True)
        super(BulkModule, self).fail_json(msg=msg, **kwargs)

    def refuse(self, error):
        """Fail before any write: bad options, credentials refused."""
        self.fail_json(**fail_kwargs(error))

    def run_bulk(self, bulk_run):
        """Execute ``bulk_run`` (a BulkWhitelist) and exit with its result and its family's warnings."""
        self.bulk_run_started = True
        outcome = bulk_run.execute()
        for warning in bulk_run.family.warnings:
            self.warn(warning)
        if outcome.get('failed'):
            self.fail_json(**outcome)
        self.exit_json(**outcome)

    @contextmanager
    def telling_the_gate_when_stopped(self):
        """A run stopped by an exception (a bug, KeyboardInterrupt) before it told the gate tells it it writes nothing."""
        try:
            yield
        except Exception as error:
            self._tell_gate('the run stopped (%s)' % type(error).__name__)
            raise
        except KeyboardInterrupt:
            self._tell_gate('the run was interrupted')
            raise


def post_refusal(gate, message):
    """Tell the other runs of the write gate (if any) that this run writes nothing, so they write nothing either."""
    if gate is None:
        return
    try:
        gate.post(False, message)
    except (OSError, ValidationError):
        # The others then wait out write_gate.timeout and write nothing: still closed.
        pass


def as_instance_error(error):
    """An error of one instance as an IpguardError: a bug hit by one instance must not lose the
    results of the others, which may have been written already."""
    if isinstance(error, IpguardError):
        return error
    return IpguardError('Unexpected %s: %s' % (type(error).__name__, error))


def describe_failures(runs, verb):
    return '%d instance(s) %s: %s' % (len(runs), verb, '; '.join('%s: %s' % (run.target.instance_id, run.error.message) for run in runs))
