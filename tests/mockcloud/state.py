# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The fake cloud's state: the seed schema, its defaults, and loading/saving it as JSON.

A seed and a state dump have the same shape, so ``state()`` of one run can seed the next.
The schema is documented in tests/mockcloud/README.md; keep both in step.
"""

import copy
import datetime
import json
import os
import tempfile

from .errors import SeedError

# A small world with one resource of each kind; the integration tests' default seed.
EXAMPLE_SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'example-seed.json')

DEFAULT_ALIBABA_REGION = 'cn-hangzhou'
DEFAULT_HUAWEI_REGION = 'cn-north-4'
DEFAULT_HUAWEI_PROJECT_ID = '0123456789abcdef0123456789abcdef'
# The Alibaba account of every key and instance that names none (see "Accounts" in README.md).
DEFAULT_ALIBABA_ACCOUNT = '1000000000000001'
# STS and metadata expirations, e.g. 2015-04-09T11:52:19Z.
EXPIRATION_FORMAT = '%Y-%m-%dT%H:%M:%SZ'

# Fake credentials: a permanent key pair and a temporary (STS-style) one per cloud.
DEFAULT_CREDENTIALS = {
    'alibaba': {
        'LTAI5tMockAccessKeyId': {'secret': 'MockAccessKeySecret0123456789', 'security_token': None},
        'STS.MockTemporaryKeyId': {'secret': 'MockTemporarySecret0123456789', 'security_token': 'MockStsToken0123456789'},
    },
    'huawei': {
        'MOCKHUAWEIACCESSKEY0': {'secret': 'MockHuaweiSecretKey0123456789', 'security_token': None},
        'MOCKHUAWEITEMPORARY0': {'secret': 'MockHuaweiTemporarySecret01234', 'security_token': 'MockHuaweiSecurityToken0123'},
    },
}

DEFAULT_SETTINGS = {
    # Both vendors refuse requests signed more than 15 minutes away from server time.
    'clock_skew_seconds': 900,
    # Status a DCS async job reports on its 1st, 2nd, ... observation; it stays on the last one.
    'dcs_job_statuses': ['INIT', 'RUNNING', 'SUCCESS'],
    # Readings of vendor facts the docs leave open (README "Settings"): what POST .../whitelist-async
    # does to an existing group of the same name,
    'dcs_add_whitelist': 'merge',
    # whether ShowJobInfo knows whitelist jobs at all,
    'dcs_jobs_visible': True,
    # and whether ModifyMode=Delete removes the listed entries or the whole group.
    'redis_delete_mode': 'entries',
}
# The values each reading may take.
SETTING_CHOICES = {
    'dcs_add_whitelist': ('merge', 'replace'),
    'redis_delete_mode': ('entries', 'group'),
}

REDIS_STATUSES = frozenset([
    'Normal', 'Creating', 'Changing', 'Inactive', 'Flushing', 'Released', 'Transforming', 'Migrating',
    'BackupRecovering', 'MinorVersionUpgrading', 'NetworkModifying', 'SSLModifying', 'MajorVersionUpgrading',
])
DCS_STATUSES = frozenset(['CREATING', 'CREATEFAILED', 'RUNNING', 'ERROR', 'RESTARTING', 'EXTENDING', 'RESTORING', 'FROZEN'])
JOB_STATUSES = frozenset(['INIT', 'RUNNING', 'SUCCESS', 'FAIL'])
IP_CONTROL_TYPES = frozenset(['ALLOW', 'REFUSE'])
STAGE_NAMES = frozenset(['RELEASE', 'PRE', 'TEST'])
# Redis whitelist groups that DMS/DAS create when the user authorises them; Terraform skips them by name.
SYSTEM_GROUP_NAMES = frozenset(['ali_dms_group', 'hdm_security_ips'])


def utc_now_text():
    """Alibaba's time format, e.g. 2024-10-29T09:33:01Z."""
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def epoch_millis_text():
    """DCS job times are epoch milliseconds as strings."""
    return str(int(datetime.datetime.now(datetime.timezone.utc).timestamp() * 1000))


def read_status(instance):
    """The status one status read reports: a busy instance shows its busy status and counts down."""
    if instance['busy_reads'] > 0:
        instance['busy_reads'] -= 1
        return instance['busy_status']
    return instance['status']


def implied_system(name, attribute):
    """Whether a seeded Redis group that does not say is a system group: the DMS/DAS names, and hidden groups."""
    return name in SYSTEM_GROUP_NAMES or attribute == 'hidden'


def is_system_group(group):
    return group.get('system', implied_system(group['name'], group['attribute']))


def set_system(group, system):
    """Store the flag only where name and attribute do not imply it, so groups that never needed
    it keep the shape state documents had before the flag existed."""
    if system == implied_system(group['name'], group['attribute']):
        group.pop('system', None)
    else:
        group['system'] = system


def _require_mapping(value, where):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SeedError('%s must be a JSON object' % where)
    return value


def _require_list(value, where):
    if value is None:
        return []
    if not isinstance(value, list):
        raise SeedError('%s must be a JSON array' % where)
    return value


def _reject_unknown(record, allowed, where):
    unknown = sorted(set(record) - set(allowed))
    if unknown:
        raise SeedError('%s: unknown key(s) %s' % (where, ', '.join(unknown)))


def _string(value, where, choices=None):
    if not isinstance(value, str):
        raise SeedError('%s must be a string' % where)
    if choices is not None and value not in choices:
        raise SeedError('%s must be one of %s, not %r' % (where, ', '.join(sorted(choices)), value))
    return value


def _count(value, where):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SeedError('%s must be a non-negative integer' % where)
    return value


def _strings(value, where):
    return [_string(item, '%s[%d]' % (where, index)) for index, item in enumerate(_require_list(value, where))]


def _tags(value, where):
    """Instance tags: a JSON object of tag key to tag value, both strings (the vendors' tags are pairs of strings)."""
    return {_string(key, where + ' key'): _string(tag_value, '%s.%s' % (where, key))
            for key, tag_value in _require_mapping(value, where).items()}


def _credentials(value, where):
    result = {}
    for access_key, record in _require_mapping(value, where).items():
        record_where = '%s.%s' % (where, access_key)
        record = _require_mapping(record, record_where)
        _reject_unknown(record, ('secret', 'security_token', 'expired', 'account_id', 'expiration', 'role_arn'), record_where)
        token = record.get('security_token')
        result[access_key] = {
            'secret': _string(record.get('secret'), record_where + '.secret'),
            'security_token': None if token is None else _string(token, record_where + '.security_token'),
            'expired': bool(record.get('expired', False)),
        }
        # Keys issued by STS or the metadata service carry these; stored only when given, so the
        # seeded keys keep their shape.
        for optional in ('account_id', 'expiration', 'role_arn'):
            if record.get(optional) is not None:
                result[access_key][optional] = _string(record[optional], '%s.%s' % (record_where, optional))
        if 'expiration' in result[access_key] and _parse_expiration(result[access_key]['expiration']) is None:
            raise SeedError('%s.expiration must look like 2024-01-01T00:00:00Z' % record_where)
    return result


def _parse_expiration(text):
    try:
        return datetime.datetime.strptime(text, EXPIRATION_FORMAT)
    except ValueError:
        return None


def _optional_string(value, where):
    return None if value is None else _string(value, where)


def _optional_strings(value, where):
    return None if value is None else _strings(value, where)


def _ram_role(role_arn, record, where):
    record = _require_mapping(record, where)
    _reject_unknown(record, ('external_id', 'trusted_account_ids', 'max_session_duration', 'lifetime_seconds'), where)
    lifetime = record.get('lifetime_seconds')
    return {
        'external_id': _optional_string(record.get('external_id'), where + '.external_id'),
        'trusted_account_ids': _optional_strings(record.get('trusted_account_ids'), where + '.trusted_account_ids'),
        'max_session_duration': _count(record.get('max_session_duration', 3600), where + '.max_session_duration'),
        'lifetime_seconds': None if lifetime is None else _count(lifetime, where + '.lifetime_seconds'),
    }


def _alibaba_ecs_metadata(record, where):
    record = _require_mapping(record, where)
    _reject_unknown(record, ('role_name', 'account_id', 'tokens_required', 'lifetime_seconds', 'issued_key_id'), where)
    return {
        'role_name': _optional_string(record.get('role_name'), where + '.role_name'),
        'account_id': _optional_string(record.get('account_id'), where + '.account_id'),
        'tokens_required': bool(record.get('tokens_required', False)),
        'lifetime_seconds': _count(record.get('lifetime_seconds', 21600), where + '.lifetime_seconds'),
        'issued_key_id': _optional_string(record.get('issued_key_id'), where + '.issued_key_id'),
    }


def _redis_instance_in_account(instance_id, record, where):
    """A Redis instance, with the ``account_id`` it belongs to when the seed names one (stored only then)."""
    record = dict(_require_mapping(record, where))
    account_id = record.pop('account_id', None)
    instance = _redis_instance(instance_id, record, where)
    if account_id is not None:
        instance['account_id'] = _string(account_id, where + '.account_id')
    return instance


def _huawei_ecs_metadata(record, where):
    record = _require_mapping(record, where)
    _reject_unknown(record, ('agency', 'tokens_required', 'lifetime_seconds'), where)
    return {
        'agency': _optional_string(record.get('agency'), where + '.agency'),
        'tokens_required': bool(record.get('tokens_required', False)),
        'lifetime_seconds': _count(record.get('lifetime_seconds', 86400), where + '.lifetime_seconds'),
    }


def _redis_instance(instance_id, record, where):
    record = _require_mapping(record, where)
    _reject_unknown(record, (
        'region_id', 'zone_id', 'name', 'status', 'engine_version', 'vpc_id', 'changing_reads_after_write',
        'busy_reads', 'busy_status', 'security_ip_groups', 'security_group_ids', 'tags'), where)
    groups = []
    for index, group in enumerate(_require_list(record.get('security_ip_groups', [{'name': 'default', 'ips': ['127.0.0.1']}]),
                                                where + '.security_ip_groups')):
        group_where = '%s.security_ip_groups[%d]' % (where, index)
        group = _require_mapping(group, group_where)
        _reject_unknown(group, ('name', 'attribute', 'ips', 'system'), group_where)
        normalised = {
            'name': _string(group.get('name'), group_where + '.name'),
            'attribute': _string(group.get('attribute', ''), group_where + '.attribute'),
            'ips': _strings(group.get('ips'), group_where + '.ips'),
        }
        system = group.get('system')
        if system is not None:
            if not isinstance(system, bool):
                raise SeedError('%s.system must be true or false' % group_where)
            if not system and normalised['name'] in SYSTEM_GROUP_NAMES:
                raise SeedError('%s.system: %s is always a system group' % (group_where, normalised['name']))
            set_system(normalised, system)
        groups.append(normalised)
    region = _string(record.get('region_id', DEFAULT_ALIBABA_REGION), where + '.region_id')
    return {
        'region_id': region,
        'zone_id': _string(record.get('zone_id', region + '-h'), where + '.zone_id'),
        'name': _string(record.get('name', instance_id), where + '.name'),
        'status': _string(record.get('status', 'Normal'), where + '.status', REDIS_STATUSES),
        'engine_version': _string(record.get('engine_version', '5.0'), where + '.engine_version'),
        'vpc_id': _string(record.get('vpc_id', 'vpc-mock0000000000000001'), where + '.vpc_id'),
        'changing_reads_after_write': _count(record.get('changing_reads_after_write', 0), where + '.changing_reads_after_write'),
        'busy_reads': _count(record.get('busy_reads', 0), where + '.busy_reads'),
        'busy_status': _string(record.get('busy_status', 'Changing'), where + '.busy_status', REDIS_STATUSES),
        'security_ip_groups': groups,
        'security_group_ids': _strings(record.get('security_group_ids'), where + '.security_group_ids'),
        'tags': _tags(record.get('tags'), where + '.tags'),
    }


def _ip_control(dummy_id, record, where):
    record = _require_mapping(record, where)
    _reject_unknown(record, ('region_id', 'name', 'type', 'description', 'create_time', 'modified_time',
                             'policy_items', 'bound_apis'), where)
    now = utc_now_text()
    items = []
    for index, item in enumerate(_require_list(record.get('policy_items'), where + '.policy_items')):
        item_where = '%s.policy_items[%d]' % (where, index)
        item = _require_mapping(item, item_where)
        _reject_unknown(item, ('id', 'cidrs', 'app_id', 'create_time', 'modified_time'), item_where)
        items.append({
            'id': _string(item.get('id'), item_where + '.id'),
            'cidrs': _strings(item.get('cidrs'), item_where + '.cidrs'),
            'app_id': _string(item.get('app_id', ''), item_where + '.app_id'),
            'create_time': _string(item.get('create_time', now), item_where + '.create_time'),
            'modified_time': _string(item.get('modified_time', now), item_where + '.modified_time'),
        })
    bindings = []
    for index, binding in enumerate(_require_list(record.get('bound_apis'), where + '.bound_apis')):
        binding_where = '%s.bound_apis[%d]' % (where, index)
        binding = _require_mapping(binding, binding_where)
        _reject_unknown(binding, ('group_id', 'api_id', 'api_name', 'stage_name', 'bound_time'), binding_where)
        api_id = _string(binding.get('api_id'), binding_where + '.api_id')
        bindings.append({
            'group_id': _string(binding.get('group_id'), binding_where + '.group_id'),
            'api_id': api_id,
            'api_name': _string(binding.get('api_name', api_id), binding_where + '.api_name'),
            'stage_name': _string(binding.get('stage_name', 'RELEASE'), binding_where + '.stage_name', STAGE_NAMES),
            'bound_time': _string(binding.get('bound_time', now), binding_where + '.bound_time'),
        })
    return {
        'region_id': _string(record.get('region_id', DEFAULT_ALIBABA_REGION), where + '.region_id'),
        'name': _string(record.get('name'), where + '.name'),
        'type': _string(record.get('type', 'ALLOW'), where + '.type', IP_CONTROL_TYPES),
        'description': _string(record.get('description', ''), where + '.description'),
        'create_time': _string(record.get('create_time', now), where + '.create_time'),
        'modified_time': _string(record.get('modified_time', now), where + '.modified_time'),
        'policy_items': items,
        'bound_apis': bindings,
    }


def _dcs_instance(instance_id, record, where):
    record = _require_mapping(record, where)
    _reject_unknown(record, ('project_id', 'name', 'status', 'engine', 'engine_version', 'capacity', 'enable_whitelist',
                             'whitelist', 'whitelist_ip_limit_num', 'busy_reads', 'busy_status', 'tags'), where)
    groups = []
    for index, group in enumerate(_require_list(record.get('whitelist'), where + '.whitelist')):
        group_where = '%s.whitelist[%d]' % (where, index)
        group = _require_mapping(group, group_where)
        _reject_unknown(group, ('group_name', 'ip_list'), group_where)
        groups.append({
            'group_name': _string(group.get('group_name'), group_where + '.group_name'),
            'ip_list': _strings(group.get('ip_list'), group_where + '.ip_list'),
        })
    return {
        'project_id': _string(record.get('project_id', DEFAULT_HUAWEI_PROJECT_ID), where + '.project_id'),
        'name': _string(record.get('name', 'dcs-' + instance_id[:8]), where + '.name'),
        'status': _string(record.get('status', 'RUNNING'), where + '.status', DCS_STATUSES),
        'engine': _string(record.get('engine', 'Redis'), where + '.engine'),
        'engine_version': _string(record.get('engine_version', '5.0'), where + '.engine_version'),
        'capacity': _count(record.get('capacity', 1), where + '.capacity'),
        'enable_whitelist': bool(record.get('enable_whitelist', True)),
        'whitelist': groups,
        'whitelist_ip_limit_num': _count(record.get('whitelist_ip_limit_num', 20), where + '.whitelist_ip_limit_num'),
        'busy_reads': _count(record.get('busy_reads', 0), where + '.busy_reads'),
        'busy_status': _string(record.get('busy_status', 'RESTARTING'), where + '.busy_status', DCS_STATUSES),
        'tags': _tags(record.get('tags'), where + '.tags'),
    }


def _dcs_job(dummy_id, record, where):
    record = _require_mapping(record, where)
    _reject_unknown(record, ('project_id', 'instance_id', 'job_type', 'status', 'observations', 'will_fail',
                             'change', 'begin_time', 'end_time', 'fail_reason'), where)
    change = _require_mapping(record.get('change'), where + '.change')
    return {
        'project_id': _string(record.get('project_id', DEFAULT_HUAWEI_PROJECT_ID), where + '.project_id'),
        'instance_id': _string(record.get('instance_id'), where + '.instance_id'),
        'job_type': _string(record.get('job_type', 'modifyIpWhitelist'), where + '.job_type'),
        'status': _string(record.get('status', 'INIT'), where + '.status', JOB_STATUSES),
        'observations': _count(record.get('observations', 0), where + '.observations'),
        'will_fail': bool(record.get('will_fail', False)),
        'change': copy.deepcopy(change),
        'begin_time': _string(record.get('begin_time', epoch_millis_text()), where + '.begin_time'),
        'end_time': record.get('end_time'),
        'fail_reason': record.get('fail_reason'),
    }


def normalise_settings(value, current=None):
    """``current`` (default: the defaults) with the settings given in ``value`` checked and applied;
    returns a new dict. A seed's settings and a run-time change go through here alike."""
    value = _require_mapping(value, 'settings')
    _reject_unknown(value, DEFAULT_SETTINGS, 'settings')
    settings = copy.deepcopy(DEFAULT_SETTINGS if current is None else current)
    for name, choices in SETTING_CHOICES.items():
        if name in value:
            settings[name] = _string(value[name], 'settings.' + name, choices)
    if 'dcs_jobs_visible' in value:
        if not isinstance(value['dcs_jobs_visible'], bool):
            raise SeedError('settings.dcs_jobs_visible must be true or false')
        settings['dcs_jobs_visible'] = value['dcs_jobs_visible']
    if 'clock_skew_seconds' in value:
        settings['clock_skew_seconds'] = _count(value['clock_skew_seconds'], 'settings.clock_skew_seconds')
    if 'dcs_job_statuses' in value:
        statuses = [_string(status, 'settings.dcs_job_statuses[]', JOB_STATUSES - {'FAIL'}) for status in
                    _require_list(value['dcs_job_statuses'], 'settings.dcs_job_statuses')]
        if not statuses or statuses[-1] != 'SUCCESS':
            raise SeedError('settings.dcs_job_statuses must end with SUCCESS')
        settings['dcs_job_statuses'] = statuses
    return settings


def _records(section, key, where, build):
    """Every record of one id-keyed collection of a seed section, normalised by ``build``."""
    records = _require_mapping(section.get(key), '%s.%s' % (where, key))
    return {record_id: build(record_id, record, '%s.%s.%s' % (where, key, record_id)) for record_id, record in records.items()}


def normalise_seed(seed):
    """Validate a seed document and fill every default; returns a new state dict.

    ``seed`` may be None (an empty cloud with the default credentials), a dict, or the path of
    a JSON file. Faults are returned under the "faults" key unparsed; faults.py owns them.
    """
    if seed is None:
        seed = {}
    elif isinstance(seed, (str, os.PathLike)):
        with open(seed, encoding='utf-8') as handle:
            seed = json.load(handle)
    seed = _require_mapping(seed, 'seed')
    _reject_unknown(seed, ('credentials', 'settings', 'alibaba', 'huawei', 'faults'), 'seed')

    credentials = _require_mapping(seed.get('credentials'), 'credentials')
    _reject_unknown(credentials, ('alibaba', 'huawei'), 'credentials')
    alibaba = _require_mapping(seed.get('alibaba'), 'alibaba')
    _reject_unknown(alibaba, ('redis_instances', 'ip_controls', 'ram_roles', 'ecs_metadata'), 'alibaba')
    huawei = _require_mapping(seed.get('huawei'), 'huawei')
    _reject_unknown(huawei, ('dcs_instances', 'jobs', 'ecs_metadata'), 'huawei')

    return {
        'credentials': {
            cloud: _credentials(credentials[cloud] if cloud in credentials else DEFAULT_CREDENTIALS[cloud], 'credentials.' + cloud)
            for cloud in ('alibaba', 'huawei')
        },
        'settings': normalise_settings(seed.get('settings')),
        'alibaba': {
            'redis_instances': _records(alibaba, 'redis_instances', 'alibaba', _redis_instance_in_account),
            'ip_controls': _records(alibaba, 'ip_controls', 'alibaba', _ip_control),
            'ram_roles': _records(alibaba, 'ram_roles', 'alibaba', _ram_role),
            'ecs_metadata': _alibaba_ecs_metadata(alibaba.get('ecs_metadata'), 'alibaba.ecs_metadata'),
        },
        'huawei': {
            'dcs_instances': _records(huawei, 'dcs_instances', 'huawei', _dcs_instance),
            'jobs': _records(huawei, 'jobs', 'huawei', _dcs_job),
            'ecs_metadata': _huawei_ecs_metadata(huawei.get('ecs_metadata'), 'huawei.ecs_metadata'),
        },
        'faults': _require_mapping(seed.get('faults'), 'faults'),
    }


def write_json_atomically(path, document):
    """Replace ``path`` with ``document`` so a reader never sees a half-written file."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix='.mockcloud-', suffix='.json', dir=directory)
    with os.fdopen(handle, 'w', encoding='utf-8') as stream:
        json.dump(document, stream, indent=2, sort_keys=True)
        stream.write('\n')
    os.replace(temporary, path)
