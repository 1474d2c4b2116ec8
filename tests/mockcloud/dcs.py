# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Huawei Cloud DCS v2: whitelist groups (synchronous and job-based), jobs and instance status."""

import re
import secrets

from .errors import CloudError
from .ipv4 import entry_key, merge_entries, parse_entry
from .state import epoch_millis_text, read_status

MAX_GROUPS = 4
# Current docs: "more than four characters", first a letter, then letters, digits, '-' and '_'.
GROUP_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_-]{4,63}$')
DEFAULT_LIST_LIMIT = 10
MAX_LIST_LIMIT = 1000


def invalid(field, detail):
    return CloudError(400, 'DCS.4800', 'Invalid %s parameter in the request: %s' % (field, detail))


def _instance_not_found(instance_id):
    return CloudError(404, 'DCS.3022', 'The instance %s does not exist.' % instance_id)


def _tag_filter(text):
    """The (key, value) pairs of ListInstances' ``tags`` query parameter: ``{key}={value}`` pairs separated by
    commas, all of which an instance must carry (SDK ListInstancesRequest.tags). A pair is split at its first
    ``=``; a pair without one, or with an empty key, is refused like any malformed parameter."""
    if text is None:
        return []
    pairs = []
    for pair in text.split(','):
        key, separator, value = pair.partition('=')
        if not separator or not key:
            raise invalid('tags', 'use {key}={value}[,{key}={value}...]')
        pairs.append((key, value))
    return pairs


def _supports_whitelist(instance):
    """Whitelists exist only for Redis 4.0 and later; Redis 3.0 and Memcached use security groups."""
    if instance['engine'].lower() != 'redis':
        return False
    major = instance['engine_version'].split('.')[0]
    return not major.isdigit() or int(major) >= 4


def validate_whitelist(groups, ip_limit):
    """Check a complete set of groups as it would be stored; returns it normalised to plain dicts."""
    if not isinstance(groups, list):
        raise invalid('whitelist', 'must be an array of groups')
    if len(groups) > MAX_GROUPS:
        raise CloudError(400, 'DCS.4062', 'Invalid whitelist parameter in the request: at most %d groups per instance, got %d.'
                         % (MAX_GROUPS, len(groups)))
    names = set()
    seen_ips = {}
    result = []
    for group in groups:
        if not isinstance(group, dict) or not isinstance(group.get('group_name'), str) or not isinstance(group.get('ip_list'), list):
            raise invalid('whitelist', 'every group needs a group_name string and an ip_list array')
        name = group['group_name']
        if not GROUP_NAME.match(name):
            raise invalid('group_name', '"%s" must be 5 to 64 letters, digits, "-" or "_", starting with a letter' % name)
        if name in names:
            raise invalid('group_name', 'group "%s" appears twice' % name)
        names.add(name)
        if not group['ip_list']:
            raise invalid('ip_list', 'group "%s" has no IP address' % name)
        for entry in group['ip_list']:
            network = parse_entry(entry)
            if network is None:
                raise invalid('ip_list', '"%s" is not an IPv4 address or CIDR block' % entry)
            if str(network.network_address) == '0.0.0.0':
                raise invalid('ip_list', '"%s": 0.0.0.0 is not supported' % entry)
            key = entry_key(entry)
            if key in seen_ips:
                raise invalid('ip_list', '"%s" is already in group "%s"; an IP address may appear once per instance' % (entry, seen_ips[key]))
            seen_ips[key] = name
        result.append({'group_name': name, 'ip_list': [entry.strip() for entry in group['ip_list']]})
    if len(seen_ips) > ip_limit:
        raise CloudError(400, 'DCS.4062', 'Invalid ip_list parameter in the request: at most %d IP addresses per instance, got %d.'
                         % (ip_limit, len(seen_ips)))
    return result


def added_whitelist(current, added, reading):
    """The whole whitelist after AddIpWhitelist, under one reading of its UNCONFIRMED semantics:
    "merge" adds the IPs to an existing group of that name, "replace" makes them its whole
    list; other groups stay as they are and unknown groups are appended in both readings."""
    result = [{'group_name': group['group_name'], 'ip_list': list(group['ip_list'])} for group in current]
    for group in added:
        target = next((candidate for candidate in result if candidate['group_name'] == group['group_name']), None)
        if target is None:
            result.append({'group_name': group['group_name'], 'ip_list': list(group['ip_list'])})
        elif reading == 'replace':
            target['ip_list'] = list(group['ip_list'])
        else:
            target['ip_list'] = merge_entries(target['ip_list'], group['ip_list'])
    return result


class DcsService(object):
    """DCS operations over ``state['huawei']``."""

    # operation -> (handler name, whether it writes)
    OPERATIONS = {
        'ShowIpWhitelist': ('show_ip_whitelist', False),
        'UpdateIpWhitelist': ('update_ip_whitelist', True),
        'AddIpWhitelistAsync': ('add_ip_whitelist_async', True),
        'UpdateIpWhitelistAsync': ('update_ip_whitelist_async', True),
        'ShowJobInfo': ('show_job_info', False),
        'ShowInstance': ('show_instance', False),
        'ListInstances': ('list_instances', False),
    }

    def __init__(self, state, take_job_failure):
        self.instances = state['huawei']['dcs_instances']
        self.jobs = state['huawei']['jobs']
        # The settings dict itself: readings changed at run time apply to the next request.
        self.settings = state['settings']
        self.take_job_failure = take_job_failure

    def _instance(self, project_id, instance_id):
        instance = self.instances.get(instance_id)
        if instance is None or instance['project_id'] != project_id:
            raise _instance_not_found(instance_id)
        return instance

    def _whitelist_instance(self, project_id, instance_id):
        instance = self._instance(project_id, instance_id)
        if not _supports_whitelist(instance):
            raise CloudError(400, 'DCS.4133', 'The instance engine %s %s does not support IP whitelists; it uses security groups.'
                             % (instance['engine'], instance['engine_version']))
        return instance

    @staticmethod
    def _require_running(instance):
        if instance['status'] != 'RUNNING' or instance['busy_reads'] > 0:
            raise CloudError(400, 'DCS.4049', 'The instance status is not running.')

    @staticmethod
    def _body_object(body, required_fields):
        if not isinstance(body, dict):
            raise CloudError(400, 'DCS.4005', 'The request body is not a JSON object.')
        for field in required_fields:
            if field not in body:
                raise invalid(field, 'the field is required')
        return body

    def _observe_job(self, job):
        """Jobs move one status per observation (a ShowJobInfo, or a ShowIpWhitelist of their instance)."""
        if job['status'] in ('SUCCESS', 'FAIL'):
            return
        job['observations'] += 1
        statuses = self.settings['dcs_job_statuses']
        status = statuses[min(job['observations'], len(statuses)) - 1]
        if status == 'SUCCESS':
            status = self._finish_job(job)
            job['end_time'] = epoch_millis_text()
        job['status'] = status

    def _finish_job(self, job):
        if job['will_fail']:
            job['fail_reason'] = 'Injected job failure.'
            return 'FAIL'
        instance = self.instances.get(job['instance_id'])
        if instance is None:
            job['fail_reason'] = 'The instance no longer exists.'
            return 'FAIL'
        change = job['change']
        try:
            if change['mode'] == 'add':
                # The reading in force when the job finishes decides, as it decides what the job does.
                combined = added_whitelist(instance['whitelist'], change['whitelist'], self.settings['dcs_add_whitelist'])
                groups = validate_whitelist(combined, instance['whitelist_ip_limit_num'])
            else:
                groups = validate_whitelist(change['whitelist'], instance['whitelist_ip_limit_num'])
        except CloudError as error:
            job['fail_reason'] = error.message
            return 'FAIL'
        instance['whitelist'] = groups
        if change.get('enable_whitelist') is not None:
            instance['enable_whitelist'] = change['enable_whitelist']
        return 'SUCCESS'

    def _new_job(self, project_id, instance_id, change, call):
        job_id = secrets.token_hex(16)
        self.jobs[job_id] = {
            'project_id': project_id, 'instance_id': instance_id, 'job_type': 'modifyIpWhitelist', 'status': 'INIT',
            'observations': 0, 'will_fail': self.take_job_failure(), 'change': change,
            'begin_time': epoch_millis_text(), 'end_time': None, 'fail_reason': None,
        }
        call.job_id = job_id
        return 200, {'job_id': job_id}

    def show_ip_whitelist(self, project_id, instance_id, query, body, call):
        instance = self._whitelist_instance(project_id, instance_id)
        for job in list(self.jobs.values()):
            if job['instance_id'] == instance_id:
                self._observe_job(job)
        return 200, {
            'instance_id': instance_id,
            'enable_whitelist': instance['enable_whitelist'],
            'whitelist': [{'group_name': group['group_name'], 'ip_list': list(group['ip_list'])} for group in instance['whitelist']],
            'whitelist_ip_limit_num': instance['whitelist_ip_limit_num'],
        }

    def _replacement(self, instance, body):
        body = self._body_object(body, ('enable_whitelist', 'whitelist'))
        if not isinstance(body['enable_whitelist'], bool):
            raise invalid('enable_whitelist', 'must be true or false')
        return body['enable_whitelist'], validate_whitelist(body['whitelist'], instance['whitelist_ip_limit_num'])

    def update_ip_whitelist(self, project_id, instance_id, query, body, call):
        instance = self._whitelist_instance(project_id, instance_id)
        enable, groups = self._replacement(instance, body)
        self._require_running(instance)
        # PUT replaces every group: whatever the body leaves out is deleted.
        instance['enable_whitelist'] = enable
        instance['whitelist'] = groups
        return 204, None

    def update_ip_whitelist_async(self, project_id, instance_id, query, body, call):
        instance = self._whitelist_instance(project_id, instance_id)
        enable, groups = self._replacement(instance, body)
        self._require_running(instance)
        return self._new_job(project_id, instance_id, {'mode': 'replace', 'enable_whitelist': enable, 'whitelist': groups}, call)

    def add_ip_whitelist_async(self, project_id, instance_id, query, body, call):
        instance = self._whitelist_instance(project_id, instance_id)
        body = self._body_object(body, ('whitelist',))
        added = validate_whitelist(body['whitelist'], instance['whitelist_ip_limit_num'])
        if not added:
            raise invalid('whitelist', 'at least one group is required')
        validate_whitelist(added_whitelist(instance['whitelist'], added, self.settings['dcs_add_whitelist']), instance['whitelist_ip_limit_num'])
        self._require_running(instance)
        return self._new_job(project_id, instance_id, {'mode': 'add', 'enable_whitelist': None, 'whitelist': added}, call)

    def show_job_info(self, project_id, job_id, query, body, call):
        job = self.jobs.get(job_id)
        # With dcs_jobs_visible false the job API does not know whitelist jobs (every job here is
        # one) and answers as for an unknown id; the jobs still progress on whitelist reads.
        if job is None or job['project_id'] != project_id or not self.settings['dcs_jobs_visible']:
            raise CloudError(400, 'DCS.4070', 'Invalid job ID %s.' % job_id)
        call.resource_id = job['instance_id']
        self._observe_job(job)
        return 200, {'job_id': job_id, 'job_type': job['job_type'], 'status': job['status'], 'begin_time': job['begin_time'],
                     'end_time': job['end_time'], 'fail_reason': job['fail_reason']}

    def _describe(self, instance_id, instance):
        return {
            'instance_id': instance_id,
            'name': instance['name'],
            'status': read_status(instance),
            'engine': instance['engine'],
            'engine_version': instance['engine_version'],
            'capacity': instance['capacity'],
            'ip': '192.168.0.100',
            'port': 6379,
            'vpc_id': 'mock-vpc-0001',
            'subnet_id': 'mock-subnet-0001',
            'charging_mode': 0,
            'no_password_access': 'true',
            'description': '',
            # ShowInstance and ListInstances (InstanceListInfo) both carry the tags as ResourceTag objects.
            'tags': [{'key': key, 'value': value} for key, value in instance['tags'].items()],
        }

    def show_instance(self, project_id, instance_id, query, body, call):
        return 200, self._describe(instance_id, self._instance(project_id, instance_id))

    def list_instances(self, project_id, unused_id, query, body, call):
        numbers = {}
        for name, default, lowest, highest in (('offset', 0, 0, None), ('limit', DEFAULT_LIST_LIMIT, 1, MAX_LIST_LIMIT)):
            text = query.get(name, str(default))
            if not text.isdigit() or int(text) < lowest or (highest is not None and int(text) > highest):
                raise invalid(name, 'out of range')
            numbers[name] = int(text)
        exact_name = query.get('name_equal') == 'true'
        wanted_tags = _tag_filter(query.get('tags'))
        selected = [
            (instance_id, instance) for instance_id, instance in self.instances.items()
            if instance['project_id'] == project_id
            and query.get('instance_id') in (None, instance_id)
            and query.get('status') in (None, instance['status'])
            and (query.get('name') is None or (query['name'] == instance['name'] if exact_name else query['name'] in instance['name']))
            and all(instance['tags'].get(key) == value for key, value in wanted_tags)
        ]
        page = selected[numbers['offset']:numbers['offset'] + numbers['limit']]
        return 200, {'instance_num': len(selected), 'instances': [self._describe(instance_id, instance) for instance_id, instance in page]}
