# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Huawei Cloud DCS IP whitelists: the API wrapper and the pure planning of the whole whitelist.

The DCS write (``PUT .../whitelist``) replaces every group and the enabled flag at once, so a
change of one group is planned as a change of the whole whitelist: the other groups are sent
back exactly as read. The plan is checked against the instance-wide limits before anything is
written, and refuses the two results that open the instance to the whole VPC (no group left,
whitelist disabled) unless the user opted in.
"""

import re
import time
from collections import namedtuple
from urllib.parse import quote

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import (
    ApiError, ChangeUndoneError, ConflictError, IpguardError, ValidationError, WaitTimeoutError)
from ansible_collections.ipguard.cloud.plugins.module_utils._instance_listing import list_dcs_instances
from ansible_collections.ipguard.cloud.plugins.module_utils._ipsets import (
    HUAWEICLOUD_DCS, check_group_name, check_zero_address, normalize_ips, normalize_vendor_entry, sorted_entries)
from ansible_collections.ipguard.cloud.plugins.module_utils._planner import plan_group
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import check_purge_with_state, check_wait_timeout, wait_until

INSTANCE_ID_PATTERN = re.compile(r'[A-Za-z0-9_-]{1,64}')

RUNNING = 'RUNNING'
# ShowInstance states from which an instance never returns to RUNNING by itself (the set
# Terraform's huaweicloud provider treats as failures).
BROKEN_STATES = frozenset(['CREATEFAILED', 'ERROR', 'FROZEN'])
JOB_SUCCESS = 'SUCCESS'
JOB_FAIL = 'FAIL'

NO_WHITELIST_API = ('this instance (or region) has no IP whitelist API: Redis 3.0 and Memcached instances of DCS use '
                    'security groups instead. Its access is NOT restricted by a whitelist')
# PUT .../whitelist replaces every group with what it is sent, and the API has no conditional
# write: a writer that read before our PUT and writes after it sends our group back as it was,
# undoing our change with no error on either side. After a write we look once more, this long
# (or SETTLE_ROUND_TRIPS of the slowest round trip seen, if longer) after the write (and its job),
# and plan and write again if our change is gone.
SETTLE_SECONDS = 2.0
SETTLE_ROUND_TRIPS = 4
OPEN_TO_VPC = 'open to every address that can reach the VPC'


class DcsGroup(namedtuple('DcsGroup', ['name', 'ip_list'])):
    """One whitelist group: its name and its entries as the vendor spells them (a tuple)."""

    __slots__ = ()

    @property
    def entries(self):
        """Canonical, sorted entries, for comparing groups as sets."""
        return tuple(sorted_entries(normalize_vendor_entry(entry) for entry in self.ip_list))


class DcsWhitelist(namedtuple('DcsWhitelist', ['enabled', 'groups', 'ip_limit'])):
    """The whole whitelist of an instance: the enabled flag, the groups (a tuple, in vendor order)
    and the per-instance entry limit the API reported (None when it did not)."""

    __slots__ = ()

    def group(self, name):
        return next((group for group in self.groups if group.name == name), None)

    def entries_of(self, name):
        """Canonical entries of group ``name``, or None when there is no such group."""
        group = self.group(name)
        return group.entries if group is not None else None

    def as_result(self):
        """The ``groups`` return value: every group with canonical entries, sorted by name."""
        return [group_result(group) for group in sorted(self.groups, key=lambda group: group.name)]

    def content(self):
        """What the whitelist allows, independent of how the API orders or spells it."""
        return self.enabled, frozenset((group.name, group.entries) for group in self.groups)

    def __str__(self):
        return 'enable_whitelist=%s, groups: %s' % (
            self.enabled, '; '.join('%s=%s' % (group.name, ','.join(group.entries)) for group in self.groups) or 'none')


def group_result(group):
    """``{group_name, ips}`` of a group, or ``{}`` when there is none."""
    if group is None:
        return {}
    return {'group_name': group.name, 'ips': list(group.entries)}


WhitelistRequest = namedtuple('WhitelistRequest', [
    'instance_id', 'group_name', 'ips', 'state', 'purge_ips', 'enable_whitelist', 'allow_open'])


def whitelist_group_spec():
    """The options of one whitelist group (documented in the huaweicloud_dcs.whitelist_group fragment)."""
    return dict(
        group_name=dict(type='str', required=True),
        ips=dict(type='list', elements='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        purge_ips=dict(type='bool', default=False),
        enable_whitelist=dict(type='bool'),
        allow_open=dict(type='bool', default=False),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=300),
    )


def validate_request(params):
    """Check the module's options before any API call; return a WhitelistRequest with canonical ``ips``."""
    check_instance_id(params['instance_id'])
    return validate_group_request(params, params['instance_id'])


def validate_group_request(params, instance_id=None):
    """Check the group options (all but the instance) before any API call; return a WhitelistRequest.

    A bulk run checks them once and makes a request per instance with ``_replace(instance_id=...)``.
    """
    check_group_name(HUAWEICLOUD_DCS, params['group_name'])
    check_purge_with_state(params['state'], params['purge_ips'], 'purge_ips', 'group %r' % params['group_name'])
    ips = normalize_ips(params['ips'])
    if ips is not None:
        # Every set of entries that covers the whole address space contains one whose address is
        # 0.0.0.0, so this also refuses 0.0.0.0/0 and world-open combinations: DCS rejects them
        # whatever allow_open says.
        check_zero_address(HUAWEICLOUD_DCS, ips)
        if params['state'] == 'present' and not ips:
            raise ValidationError('ips is empty: state=present needs at least one entry (use state=absent to remove the group)')
        # The per-instance entry limit is checked against the instance's own whitelist_ip_limit_num
        # once the whitelist is read: support can raise it above the documented 20.
    check_wait_timeout(params['wait_timeout'])
    return WhitelistRequest(
        instance_id=instance_id, group_name=params['group_name'], ips=ips, state=params['state'],
        purge_ips=params['purge_ips'], enable_whitelist=params['enable_whitelist'], allow_open=params['allow_open'])


def check_instance_id(instance_id):
    """The instance id becomes part of the URL path, so only id characters are accepted."""
    if not isinstance(instance_id, str) or not INSTANCE_ID_PATTERN.fullmatch(instance_id):
        raise ValidationError('instance_id %r is not a valid DCS instance id' % (instance_id,))


def parse_ip_limit(value):
    """``whitelist_ip_limit_num``: documented as a string, shown as a number; None when unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        return None
    return number if number > 0 else None


def parse_whitelist(answer, instance_id):
    """A ShowIpWhitelist answer as a DcsWhitelist; anything unexpected is an error, never an empty whitelist."""
    if not isinstance(answer, dict) or not isinstance(answer.get('whitelist'), list) or not isinstance(answer.get('enable_whitelist'), bool):
        raise ApiError('Huawei Cloud DCS ShowIpWhitelist of instance %s gave an answer without enable_whitelist and whitelist; '
                       'refusing to treat it as an empty whitelist' % instance_id)
    groups = []
    for group in answer['whitelist']:
        if not isinstance(group, dict) or not isinstance(group.get('group_name'), str) or not isinstance(group.get('ip_list'), list):
            raise ApiError('Huawei Cloud DCS ShowIpWhitelist of instance %s returned a malformed group: %r' % (instance_id, group))
        groups.append(DcsGroup(group['group_name'], tuple(str(entry).strip() for entry in group['ip_list'])))
    return DcsWhitelist(answer['enable_whitelist'], tuple(groups), parse_ip_limit(answer.get('whitelist_ip_limit_num')))


class WhitelistPlan(namedtuple('WhitelistPlan', ['instance_id', 'group', 'before', 'after', 'write', 'add_body', 'replace_body', 'warnings'])):
    """The plan for the whole whitelist of one instance.

    ``group`` is the GroupPlan of the managed group; ``before`` and ``after`` are DcsWhitelists;
    ``write`` is None (nothing to do), ``'add'`` (POST whitelist-async with ``add_body``) or
    ``'replace'`` (PUT whitelist with ``replace_body``). ``replace_body`` is set whenever there is
    a change, since it is also the fallback of ``'add'``.
    """

    __slots__ = ()

    @property
    def changed(self):
        return self.write is not None

    def as_replace(self):
        """The same change made with PUT whitelist."""
        return self._replace(write='replace', add_body=None) if self.write == 'add' else self

    def diff(self):
        return self.group.diff(extra_before={'enable_whitelist': self.before.enabled},
                               extra_after={'enable_whitelist': self.after.enabled})


def plan_whitelist(request, current):
    """Plan ``request`` (a WhitelistRequest) against ``current`` (a DcsWhitelist).

    Raises ValidationError when the result would break a DCS limit or open the instance without
    ``allow_open``; nothing has been written at that point.
    """
    name = request.group_name
    group_plan = plan_group(name, current.entries_of(name), request.ips, request.state, request.purge_ips)
    enabled_after = current.enabled if request.enable_whitelist is None else request.enable_whitelist
    groups_after = []
    for group in current.groups:
        if group.name != name:
            groups_after.append(group)
        elif group_plan.after is not None:
            groups_after.append(DcsGroup(name, group_plan.after))
    if current.group(name) is None and group_plan.after is not None:
        groups_after.append(DcsGroup(name, group_plan.after))
    after = DcsWhitelist(enabled_after, tuple(groups_after), current.ip_limit)
    if not group_plan.changed and enabled_after == current.enabled:
        return WhitelistPlan(request.instance_id, group_plan, current, current, None, None, None, [])

    check_whitelist_limits(after, request.instance_id)
    check_opening(current, after, request)
    warnings = []
    if not after.enabled:
        warnings.append('The whitelist of instance %s is disabled, so its groups have no effect: the instance is %s. '
                        'Set enable_whitelist: true to apply them.' % (request.instance_id, OPEN_TO_VPC))
    elif not after.groups:
        warnings.append('The whitelist of instance %s is enabled but holds no group; Huawei documents that an instance '
                        'without whitelist groups is %s.' % (request.instance_id, OPEN_TO_VPC))
    replace_body = {
        'enable_whitelist': after.enabled,
        'whitelist': [{'group_name': group.name, 'ip_list': list(group.ip_list)} for group in after.groups],
    }
    # POST whitelist-async on an existing group may add to it or replace its list (the docs allow
    # both readings), so it only ever creates a group; every other change is a PUT planned from a
    # fresh read.
    creates_group_only = group_plan.creates_group and enabled_after == current.enabled and current.enabled
    if creates_group_only:
        add_body = {'whitelist': [{'group_name': name, 'ip_list': list(group_plan.to_add)}]}
        return WhitelistPlan(request.instance_id, group_plan, current, after, 'add', add_body, replace_body, warnings)
    return WhitelistPlan(request.instance_id, group_plan, current, after, 'replace', None, replace_body, warnings)


def check_whitelist_limits(whitelist, instance_id):
    """Raise ValidationError when a planned whitelist breaks a DCS rule for whole instances."""
    rules = HUAWEICLOUD_DCS
    if len(whitelist.groups) > rules.max_groups:
        raise ValidationError('The whitelist of instance %s would have %d groups (%s); %s allows at most %d per instance'
                              % (instance_id, len(whitelist.groups), ', '.join(group.name for group in whitelist.groups),
                                 rules.label, rules.max_groups))
    limit = whitelist.ip_limit or rules.max_entries_per_instance
    total = sum(len(group.entries) for group in whitelist.groups)
    if total > limit:
        raise ValidationError('The whitelist of instance %s would hold %d entries across all groups; the instance allows at most %d'
                              % (instance_id, total, limit))
    owner = {}
    for group in whitelist.groups:
        for entry in group.entries:
            if entry in owner:
                raise ValidationError(
                    '%s would be in groups %r and %r of instance %s; DCS allows an address in only one group. Remove it from '
                    'one of them first: this module never moves an entry between groups' % (entry, owner[entry], group.name, instance_id))
            owner[entry] = group.name
    for group in whitelist.groups:
        check_zero_address(rules, group.entries)


def check_opening(current, after, request):
    """Refuse, without ``allow_open``, a plan that disables the whitelist or removes its last group."""
    if request.allow_open:
        return
    if current.enabled and not after.enabled:
        raise ValidationError('Refusing to disable the whitelist of instance %s: the instance would be %s. '
                              'Set allow_open: true to confirm.' % (request.instance_id, OPEN_TO_VPC))
    if after.enabled and current.groups and not after.groups:
        raise ValidationError('Refusing to remove group %r, the last whitelist group of instance %s: with no group the instance '
                              'would be %s. Set allow_open: true to confirm.' % (request.group_name, request.instance_id, OPEN_TO_VPC))


def change_persists(plan, seen):
    """Whether ``seen`` still holds our change: what we added is there, what we removed is not.

    Changes others made since (other entries, other groups) are not ours to judge.
    """
    if seen.enabled != plan.after.enabled:
        return False
    held = set(seen.entries_of(plan.group.name) or ())
    return set(plan.group.to_add) <= held and not set(plan.group.to_remove) & held


def change_undone(plan, seen, what):
    """The ChangeUndoneError for a whitelist ``seen`` after our write that lacks our change."""
    error = ChangeUndoneError(
        'The change to group %r of DCS instance %s is not in its whitelist %s: another writer replaced the whole whitelist '
        'with a copy read before our write (the DCS API has no conditional write). Planned: %s. Seen: %s.'
        % (plan.group.name, plan.instance_id, what, plan.after, seen))
    error.write_action = 'UpdateIpWhitelist' if plan.write == 'replace' else 'AddIpWhitelist'
    return error


AppliedChange = namedtuple('AppliedChange', ['plan', 'whitelist', 'job_ids'])


class DcsWhitelistApi:
    """The DCS calls for one instance's whitelist, over a HuaweiCloudClient."""

    def __init__(self, client, instance_id):
        check_instance_id(instance_id)
        self.client = client
        self.instance_id = instance_id
        project = quote(client.project_id, safe='')
        self.whitelist_path = '/v2/%s/instance/%s/whitelist' % (project, instance_id)
        self.instance_path = '/v2/%s/instances/%s' % (project, instance_id)
        self.jobs_path = '/v2/%s/jobs/' % project

    def read_whitelist(self):
        try:
            answer = self.client.request('ShowIpWhitelist', 'GET', self.whitelist_path)
        except ApiError as error:
            # DCS.4133 is what an engine without whitelists answers; a 404 other than "no such
            # instance" (DCS.3022) means the URL itself is unknown in that region.
            if error.code == 'DCS.4133' or (error.http_status == 404 and error.code != 'DCS.3022'):
                raise type(error)('Instance %s: %s (%s)' % (self.instance_id, NO_WHITELIST_API, error.message),
                                  code=error.code, request_id=error.request_id, http_status=error.http_status)
            raise
        return parse_whitelist(answer, self.instance_id)

    def instance_status(self):
        answer = self.client.request('ShowInstance', 'GET', self.instance_path)
        status = answer.get('status') if isinstance(answer, dict) else None
        if status in BROKEN_STATES:
            raise ApiError('DCS instance %s is %s and cannot accept whitelist changes' % (self.instance_id, status))
        return status

    def wait_until_running(self, timeout):
        """Poll the instance status until RUNNING; return True when it was not RUNNING at first."""
        polls = []

        def read_status():
            polls.append(None)
            return self.instance_status()

        wait_until(read_status, lambda status: status == RUNNING, timeout, 'DCS instance %s to be RUNNING' % self.instance_id)
        return len(polls) > 1

    def replace(self, body):
        self.client.request('UpdateIpWhitelist', 'PUT', self.whitelist_path, body=body, write=True, overwrite=True)

    def add(self, body):
        """POST whitelist-async (AddIpWhitelist); return the job id."""
        answer = self.client.request('AddIpWhitelist', 'POST', self.whitelist_path + '-async', body=body, write=True)
        job_id = answer.get('job_id') if isinstance(answer, dict) else None
        if not isinstance(job_id, str) or not job_id:
            raise ApiError('Huawei Cloud DCS AddIpWhitelist on instance %s answered without a job_id' % self.instance_id)
        return job_id

    def wait_for_job(self, job_id, timeout):
        """Poll ShowJobInfo until the job ends; return False when the job API does not know the job.

        Whether whitelist jobs are visible at GET /jobs/{id} is not documented; when they are
        not (DCS.4070, or a 404), the caller watches the whitelist itself instead.
        """
        answers = []

        def read_job():
            answer = self.client.request('ShowJobInfo', 'GET', self.jobs_path + quote(job_id, safe=''))
            answers.append(answer if isinstance(answer, dict) else {})
            return answers[-1].get('status')

        try:
            status = wait_until(read_job, lambda status: status in (JOB_SUCCESS, JOB_FAIL), timeout, 'DCS job %s' % job_id)
        except ApiError as error:
            if error.code == 'DCS.4070' or error.http_status == 404:
                return False
            raise
        if status == JOB_FAIL:
            raise ApiError('DCS job %s (whitelist change of instance %s) failed: %s'
                           % (job_id, self.instance_id, answers[-1].get('fail_reason') or 'no reason given'))
        return True

    def wait_for_change(self, plan, timeout):
        """Read the whitelist until it shows our change; return what was read.

        A whitelist that changed in some other way without showing ours means another writer's
        overwrite landed after our write: ChangeUndoneError at once, so the caller plans again
        instead of waiting out ``timeout``. A whitelist still as first read means our (async)
        change has not landed yet: keep polling.
        """
        seen = []

        def read():
            seen.append(self.read_whitelist())
            return seen[-1]

        try:
            wait_until(read, lambda whitelist: change_persists(plan, whitelist) or whitelist.content() != plan.before.content(), timeout,
                       'the whitelist of instance %s to show the change' % self.instance_id)
        except WaitTimeoutError:
            raise ConflictError('The whitelist of DCS instance %s did not show the planned change within %ss. Planned: %s. Seen: %s.'
                                % (self.instance_id, timeout, plan.after, seen[-1]))
        if not change_persists(plan, seen[-1]):
            raise change_undone(plan, seen[-1], 'right after the write')
        return seen[-1]

    def confirm_change_persists(self, plan):
        """Read the whitelist once more a little later; raise ChangeUndoneError when our change was undone."""
        # Another writer's read-to-write window is about one round trip: wait several of the slowest seen.
        delay = max(SETTLE_SECONDS, SETTLE_ROUND_TRIPS * self.client.slowest_round_trip)
        time.sleep(delay)
        seen = self.read_whitelist()
        if not change_persists(plan, seen):
            raise change_undone(plan, seen, '%.1fs after it was written' % delay)
        return seen


def is_missing_api(error):
    """Whether a POST whitelist-async failure means the region has no AddIpWhitelist API (URL unknown)."""
    return error.http_status == 404 and error.code in (None, 'DCS.4001', 'APIGW.0101', 'APIG.0101')


def read_whitelist(client, instance_id):
    """The whole whitelist of the instance (ShowIpWhitelist) as a DcsWhitelist."""
    return DcsWhitelistApi(client, instance_id).read_whitelist()


def running_instance_ids(client, instance_ids):
    """The instances among ``instance_ids`` (all in the client's project) that ListInstances
    reports RUNNING: one status read (a page per 1000 instances) for many instances of a bulk run."""
    wanted = set(instance_ids)
    return frozenset(record['instance_id'] for record in list_dcs_instances(client, '', statuses=(RUNNING,)) if record['instance_id'] in wanted)


def apply_whitelist(client, request, plan, wait, wait_timeout, seen_running=False):
    """Write ``plan``; with ``wait``, wait for the instance first and verify the result after.

    Every attempt is planned from a whitelist read made right before its write (the first
    attempt uses the module's own read when the instance was RUNNING at once), so a PUT never
    sends back a copy older than a round trip or two. After the write (and its job, or the
    whitelist showing the change when the job API does not know the job) the whitelist must
    still show the change a little later: another writer's PUT of an older copy would have
    undone it by then. A refusal, a lost answer or an undone change makes the
    attempt start again from a fresh read (RetryPolicy.converge), a bounded number of times;
    after a lost POST answer or a POST the region does not have, the change is made with PUT.
    Returns an AppliedChange whose ``whitelist`` is the verified state (or the planned one
    without ``wait``). ``seen_running``: a status read made just before (a bulk run's
    ListInstances) found the instance RUNNING, so the first attempt does not read it again; an
    instance that stopped running since refuses the write (DCS.4049), and the next attempt waits.
    """
    api = DcsWhitelistApi(client, request.instance_id)
    job_ids = []
    use_put = []

    def attempt(retry):
        current = plan
        waited = api.wait_until_running(wait_timeout) if wait and (retry or not seen_running) else False
        # The first attempt writes from the module's read, one status round trip old; every other
        # attempt, and any after a wait for the instance, from a read made just now.
        if retry or waited or use_put:
            current = plan_whitelist(request, api.read_whitelist())
            if not current.changed:
                return AppliedChange(current, current.after, job_ids)
        if use_put:
            current = current.as_replace()
        if current.write == 'add':
            try:
                job_ids.append(api.add(current.add_body))
            except IpguardError as error:
                # After any failed POST the change is made with PUT: a lost answer means the
                # POST may land later, and POSTing again would be a blind repeat.
                use_put.append(True)
                if not (isinstance(error, ApiError) and is_missing_api(error)):
                    raise
                current = plan_whitelist(request, api.read_whitelist()).as_replace()
                if not current.changed:
                    return AppliedChange(current, current.after, job_ids)
        if current.write == 'replace':
            api.replace(current.replace_body)
        if not wait:
            return AppliedChange(current, current.after, job_ids)
        if current.write == 'add':
            # Whatever happens next, a second POST could repeat a job that is still pending.
            use_put.append(True)
            if not api.wait_for_job(job_ids[-1], wait_timeout):
                api.wait_for_change(current, wait_timeout)
        return AppliedChange(current, api.confirm_change_persists(current), job_ids)

    return api.client.retry_policy.converge(attempt, api.client)
