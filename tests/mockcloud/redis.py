# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alibaba Cloud ApsaraDB for Redis (R-kvstore 2015-01-01): whitelist groups, bound ECS security
groups and instance status."""

import re

from .errors import CloudError, invalid_parameter, missing_parameter
from .ipv4 import merge_entries, parse_entry, remove_entries
from .rpcparams import paginate, required
from .state import DEFAULT_ALIBABA_ACCOUNT, SYSTEM_GROUP_NAMES, is_system_group, read_status, set_system

PRODUCT = 'R-kvstore'
VERSION = '2015-01-01'
HOST_ID = 'r-kvstore.aliyuncs.com'

MAX_IPS_PER_GROUP = 1000
MAX_SECURITY_GROUPS = 10
MAX_INSTANCE_IDS_FILTER = 30
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 50
MAX_TAG_FILTERS = 5
GROUP_NAME = re.compile(r'^[a-z][a-z0-9_]{0,30}[a-z0-9]$')
SECURITY_GROUP_ID = re.compile(r'^sg-[A-Za-z0-9]+$')
MODIFY_MODES = ('Cover', 'Append', 'Delete')


def _instance_not_found():
    return CloudError(404, 'InvalidInstanceId.NotFound', 'The InstanceId provided does not exist in our records.')


def _incorrect_state():
    return CloudError(403, 'IncorrectDBInstanceState', 'Current DB instance state does not support this operation.')


def _supports_security_groups(instance):
    """Binding ECS security groups needs Redis 4.0 or later."""
    major = instance['engine_version'].split('.')[0]
    return not major.isdigit() or int(major) >= 4


def _tag_filter(params):
    """The (key, value or None) pairs of DescribeInstances' ``Tag.N.Key`` / ``Tag.N.Value`` (N from 1, as the
    SDK flattens its ``Tag`` list). An instance must carry every pair; a key sent without a value matches any
    value (our reading: the docs only say a key and a value form a pair). The SDK docs allow up to 5 pairs
    and make RegionId required with them."""
    numbers = sorted({int(name.split('.')[1]) for name in params if re.fullmatch(r'Tag\.[0-9]+\.(Key|Value)', name)})
    pairs = []
    for number in numbers:
        key = params.get('Tag.%d.Key' % number)
        if not key:
            raise invalid_parameter('Tag.%d.Key' % number, 'a tag needs a key')
        pairs.append((key, params.get('Tag.%d.Value' % number)))
    if len(pairs) > MAX_TAG_FILTERS:
        raise invalid_parameter('Tag', 'at most %d tag pairs' % MAX_TAG_FILTERS)
    if pairs and not params.get('RegionId'):
        raise missing_parameter('RegionId')
    return pairs


class RedisService(object):
    """R-kvstore actions over ``state['alibaba']['redis_instances']``."""

    # action -> (handler name, whether it writes, the parameter naming the instance)
    ACTIONS = {
        'DescribeSecurityIps': ('describe_security_ips', False, 'InstanceId'),
        'ModifySecurityIps': ('modify_security_ips', True, 'InstanceId'),
        'DescribeSecurityGroupConfiguration': ('describe_security_group_configuration', False, 'InstanceId'),
        'ModifySecurityGroupConfiguration': ('modify_security_group_configuration', True, 'DBInstanceId'),
        'DescribeInstanceAttribute': ('describe_instance_attribute', False, 'InstanceId'),
        'DescribeInstances': ('describe_instances', False, None),
    }

    def __init__(self, state):
        self.instances = state['alibaba']['redis_instances']
        self.settings = state['settings']
        # The account of the key that signed the request being served (set by the front end).
        self.caller_account = DEFAULT_ALIBABA_ACCOUNT

    def _visible(self, instance):
        """Whether the caller's account holds ``instance``: another account's instance does not exist for it."""
        return instance.get('account_id', DEFAULT_ALIBABA_ACCOUNT) == self.caller_account

    def _instance(self, params, name='InstanceId'):
        instance_id = required(params, name)
        instance = self.instances.get(instance_id)
        # A RegionId that is not the instance's region finds nothing, as on the regional endpoints.
        if instance is None or params.get('RegionId') not in (None, '', instance['region_id']) or not self._visible(instance):
            raise _instance_not_found()
        return instance_id, instance

    @staticmethod
    def _require_writable(instance):
        if instance['status'] != 'Normal' or instance['busy_reads'] > 0:
            raise _incorrect_state()

    @staticmethod
    def _after_write(instance):
        if instance['changing_reads_after_write']:
            instance['busy_reads'] = instance['changing_reads_after_write']
            instance['busy_status'] = 'Changing'

    def describe_security_ips(self, params, call):
        dummy, instance = self._instance(params)
        return {'SecurityIpGroups': {'SecurityIpGroup': [
            {'SecurityIpGroupName': group['name'], 'SecurityIpGroupAttribute': group['attribute'], 'SecurityIpList': ','.join(group['ips'])}
            for group in instance['security_ip_groups']
        ]}}

    def modify_security_ips(self, params, call):
        required(params, 'InstanceId')
        security_ips = required(params, 'SecurityIps')
        group_name = params.get('SecurityIpGroupName') or 'default'
        mode = params.get('ModifyMode') or 'Cover'
        attribute = params.get('SecurityIpGroupAttribute')
        if mode not in MODIFY_MODES:
            raise invalid_parameter('ModifyMode', 'must be one of %s' % ', '.join(MODIFY_MODES))
        if attribute not in (None, '', 'hidden'):
            raise invalid_parameter('SecurityIpGroupAttribute', 'must be empty or "hidden"')
        if not GROUP_NAME.match(group_name):
            raise CloudError(400, 'InvalidGroupName.Format', 'Sepecified group name is not valid.')
        entries = security_ips.split(',')
        for entry in entries:
            if parse_entry(entry) is None:
                raise CloudError(400, 'InvalidSecurityIPs.Format', 'Specified security IP "%s" is not a valid IPv4 address or CIDR block.' % entry)
        dummy, instance = self._instance(params)
        groups = instance['security_ip_groups']
        group = next((candidate for candidate in groups if candidate['name'] == group_name), None)
        # Hidden groups the user created are the user's; only the ones DMS/DAS made (or a seed marks) are refused.
        if group_name in SYSTEM_GROUP_NAMES or (group is not None and is_system_group(group)):
            raise CloudError(403, 'OperationDenied.SystemGroup', 'The whitelist group %s is a system group and cannot be modified.' % group_name)
        self._require_writable(instance)

        current = group['ips'] if group is not None else []
        if mode == 'Cover':
            result = merge_entries([], entries)
        elif mode == 'Append':
            result = merge_entries(current, entries)
        elif self.settings['redis_delete_mode'] == 'group':
            # The other reading of "Delete": the named group goes, whatever entries were listed.
            result = []
        else:
            result = remove_entries(current, entries)
        if len(result) > MAX_IPS_PER_GROUP:
            raise CloudError(400, 'InvalidSecurityIPs.Count', 'A whitelist group holds at most %d entries; the result would hold %d.'
                             % (MAX_IPS_PER_GROUP, len(result)))

        if not result:
            # Default reading of an UNCONFIRMED fact: a Delete that empties a group removes the group.
            if group is not None:
                groups.remove(group)
        else:
            if group is None:
                group = {'name': group_name, 'attribute': attribute or '', 'ips': result}
                groups.append(group)
            else:
                group['ips'] = result
                if attribute is not None:
                    group['attribute'] = attribute
            # Whatever the API writes is a user group, hidden or not.
            set_system(group, False)
        self._after_write(instance)
        return {}

    def describe_security_group_configuration(self, params, call):
        dummy, instance = self._instance(params)
        return {'Items': {'EcsSecurityGroupRelation': [
            {'SecurityGroupId': group_id, 'RegionId': instance['region_id'], 'NetType': 'vpc'}
            for group_id in instance['security_group_ids']
        ]}}

    def modify_security_group_configuration(self, params, call):
        # The codes of this action's own error table, checked from the most basic mistake on:
        # parameters left out, then an empty instance id, then the security group ids, then the instance.
        for name in ('DBInstanceId', 'SecurityGroupId'):
            if name not in params:
                raise CloudError(404, 'MissingParameter', 'The input parameter "%s" that is mandatory for processing this request is not supplied.'
                                 % name)
        if params['DBInstanceId'] == '':
            raise CloudError(400, 'MissingInstanceId', 'The instance ID is mandatory for this action.')
        group_ids = []
        for group_id in required(params, 'SecurityGroupId').split(','):
            group_id = group_id.strip()
            if not SECURITY_GROUP_ID.match(group_id):
                raise CloudError(400, 'InvalidParam', 'The specified security group ID "%s" is not valid.' % group_id)
            if group_id not in group_ids:
                group_ids.append(group_id)
        if len(group_ids) > MAX_SECURITY_GROUPS:
            raise CloudError(403, 'AssociatedEcsSecurityGroupId.QuotaExceed', 'At most %d ECS security groups can be associated with an instance.'
                             % MAX_SECURITY_GROUPS)
        dummy, instance = self._instance(params, 'DBInstanceId')
        if not _supports_security_groups(instance):
            raise CloudError(400, 'EngineNotSupported', 'The engine version %s of this instance does not support ECS security groups.'
                             % instance['engine_version'])
        self._require_writable(instance)
        instance['security_group_ids'] = group_ids
        self._after_write(instance)
        return {}

    def _attribute(self, instance_id, instance):
        return {
            'InstanceId': instance_id,
            'InstanceName': instance['name'],
            'InstanceStatus': read_status(instance),
            'RegionId': instance['region_id'],
            'ZoneId': instance['zone_id'],
            'EngineVersion': instance['engine_version'],
            'InstanceType': 'Redis',
            'ArchitectureType': 'standard',
            'NetworkType': 'VPC',
            'VpcId': instance['vpc_id'],
            'Port': 6379,
            'ConnectionDomain': '%s.redis.rds.aliyuncs.com' % instance_id,
            # The SDK models of both DescribeInstanceAttribute and DescribeInstances carry Tags.Tag[].
            'Tags': {'Tag': [{'Key': key, 'Value': value} for key, value in instance['tags'].items()]},
        }

    def describe_instance_attribute(self, params, call):
        instance_id, instance = self._instance(params)
        attribute = self._attribute(instance_id, instance)
        attribute['SecurityIPList'] = ','.join(merge_entries([], [ip for group in instance['security_ip_groups'] for ip in group['ips']]))
        return {'Instances': {'DBInstanceAttribute': [attribute]}}

    def describe_instances(self, params, call):
        wanted_ids = [part.strip() for part in (params.get('InstanceIds') or '').split(',') if part.strip()]
        if len(wanted_ids) > MAX_INSTANCE_IDS_FILTER:
            raise invalid_parameter('InstanceIds', 'at most %d instance IDs' % MAX_INSTANCE_IDS_FILTER)
        wanted_tags = _tag_filter(params)
        selected = [
            (instance_id, instance) for instance_id, instance in self.instances.items()
            if (not wanted_ids or instance_id in wanted_ids) and self._visible(instance)
            and params.get('RegionId') in (None, '', instance['region_id'])
            and params.get('InstanceStatus') in (None, '', instance['status'])
            and all(key in instance['tags'] and value in (None, instance['tags'][key]) for key, value in wanted_tags)
        ]
        page, paging = paginate(params, selected, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        return dict(paging, Instances={'KVStoreInstance': [self._attribute(instance_id, instance) for instance_id, instance in page]})
