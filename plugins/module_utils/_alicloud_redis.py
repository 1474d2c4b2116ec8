# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alibaba Cloud Redis (R-kvstore): whitelist groups and bound ECS security groups.

API wrappers, input validation and the pure planning and read-back checks shared by
``alicloud_redis_whitelist``, ``alicloud_redis_security_groups`` and their ``_info`` twins.
"""

import re
from collections import namedtuple

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ChangeUndoneError, ConflictError, NotFoundError, ValidationError
from ansible_collections.ipguard.cloud.plugins.module_utils._ipsets import (
    ALICLOUD_REDIS, check_group_name, check_group_size, normalize_ips, sorted_entries, split_vendor_list, world_open_entries)
from ansible_collections.ipguard.cloud.plugins.module_utils._planner import plan_group
from ansible_collections.ipguard.cloud.plugins.module_utils._retries import check_purge_with_state, check_wait_timeout, wait_until

HIDDEN = 'hidden'
NORMAL = 'Normal'
SECURITY_GROUP_ID = re.compile(r'sg-[A-Za-z0-9]{1,61}')
# Instance ids go into a query parameter: letters, digits, '-' and '_' only, so that nothing
# (a comma, a newline) can smuggle in a second value.
INSTANCE_ID = re.compile(r'[A-Za-z0-9][A-Za-z0-9_-]{1,63}')
MAX_SECURITY_GROUPS = 10
# DescribeInstances: "InstanceIds: separate multiple IDs with commas (,); up to 30".
DESCRIBE_INSTANCES_MAX_IDS = 30


# --- instance status ---------------------------------------------------------------------------

def instance_status(client, instance_id):
    """The InstanceStatus DescribeInstanceAttribute reports for ``instance_id``."""
    data = client.call('DescribeInstanceAttribute', {'InstanceId': instance_id})
    attributes = (data.get('Instances') or {}).get('DBInstanceAttribute') or []
    if not attributes:
        raise NotFoundError('Redis instance %s was not found by DescribeInstanceAttribute' % instance_id,
                            request_id=data.get('RequestId'))
    return attributes[0].get('InstanceStatus')


def instance_statuses(client, instance_ids):
    """The InstanceStatus of each of ``instance_ids`` (at most DESCRIBE_INSTANCES_MAX_IDS, one
    region) that DescribeInstances lists: one status read for many instances of a bulk run.
    An instance the answer does not list is left out."""
    data = client.call('DescribeInstances', {'InstanceIds': ','.join(instance_ids), 'PageSize': str(DESCRIBE_INSTANCES_MAX_IDS)})
    listed = (data.get('Instances') or {}).get('KVStoreInstance') or []
    wanted = set(instance_ids)
    return dict((item['InstanceId'], item.get('InstanceStatus')) for item in listed
                if isinstance(item, dict) and item.get('InstanceId') in wanted)


def normal_instance_ids(client, instance_ids):
    """The instances among ``instance_ids`` (see ``instance_statuses``) that DescribeInstances reports Normal."""
    return frozenset(instance_id for instance_id, status in instance_statuses(client, instance_ids).items() if status == NORMAL)


def wait_until_normal(client, instance_id, timeout, read_status=None):
    """Poll until the instance is Normal, the only status in which R-kvstore accepts changes.

    ``read_status(client, instance_id)`` reads the status (default: ``instance_status``; a bulk
    run shares batched reads between its workers).
    """
    read_status = read_status or instance_status
    wait_until(lambda: read_status(client, instance_id), lambda status: status == NORMAL, timeout,
               'Redis instance %s to be %s' % (instance_id, NORMAL))


# --- whitelist groups ---------------------------------------------------------------------------

class WhitelistGroup(namedtuple('WhitelistGroup', ['name', 'ips', 'attribute'])):
    """One whitelist group as read: ``ips`` is a sorted tuple of canonical entries."""

    __slots__ = ()

    @property
    def system(self):
        """Groups DMS/DAS/DTS create (by name, or marked hidden); never ours to change."""
        return self.name in ALICLOUD_REDIS.reserved_groups or self.attribute == HIDDEN

    def as_whitelist(self):
        return {'group_name': self.name, 'ips': list(self.ips), 'attribute': self.attribute}

    def as_listed(self):
        return dict(self.as_whitelist(), system=self.system)


def parse_security_ip_groups(data):
    """Groups of a DescribeSecurityIps answer (``SecurityIpGroups.SecurityIpGroup[]``), sorted by name."""
    items = (data.get('SecurityIpGroups') or {}).get('SecurityIpGroup') or []
    groups = [WhitelistGroup(item.get('SecurityIpGroupName'),
                             tuple(split_vendor_list(item.get('SecurityIpList'), ',')),
                             item.get('SecurityIpGroupAttribute') or '')
              for item in items]
    return sorted(groups, key=lambda group: group.name)


def read_whitelist(client, instance_id):
    """Every whitelist group of the instance (DescribeSecurityIps), sorted by name."""
    return parse_security_ip_groups(client.call('DescribeSecurityIps', {'InstanceId': instance_id}))


def find_group(groups, name):
    return next((group for group in groups if group.name == name), None)


WhitelistRequest = namedtuple('WhitelistRequest', ['instance_id', 'group_name', 'desired', 'state', 'purge', 'hidden', 'allow_open'])


def check_instance_id(instance_id):
    if not isinstance(instance_id, str) or not INSTANCE_ID.fullmatch(instance_id):
        raise ValidationError('instance_id %r is not a Redis instance ID (for example r-bp1zxszhcgatnx1234)' % (instance_id,))


def whitelist_group_spec():
    """The options of one whitelist group (documented in the alicloud_redis.whitelist_group fragment)."""
    return dict(
        group_name=dict(type='str', default='default'),
        ips=dict(type='list', elements='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        purge_ips=dict(type='bool', default=False),
        hidden=dict(type='bool'),
        allow_open=dict(type='bool', default=False),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=300),
    )


def validate_whitelist_request(params):
    """Check every option of alicloud_redis_whitelist before any API call; return a WhitelistRequest."""
    check_instance_id(params['instance_id'])
    return validate_group_request(params, params['instance_id'])


def validate_group_request(params, instance_id=None):
    """Check the group options (all but the instance) before any API call; return a WhitelistRequest.

    A bulk run checks them once and makes a request per instance with ``_replace(instance_id=...)``.
    """
    check_wait_timeout(params['wait_timeout'])
    group_name = params['group_name']
    check_group_name(ALICLOUD_REDIS, group_name)
    state = params['state']
    check_purge_with_state(state, params['purge_ips'], 'purge_ips', 'group %r' % group_name)
    if state == 'present' and not params['ips']:
        raise ValidationError('ips must hold at least one entry with state=present; use state=absent to remove group %r' % group_name)
    desired = normalize_ips(params['ips'], 'ips')
    if desired is not None:
        check_group_size(ALICLOUD_REDIS, group_name, desired)
    if state == 'present' and not params['allow_open']:
        check_not_world_open(group_name, world_open_entries(desired))
    return WhitelistRequest(instance_id, group_name, desired, state, params['purge_ips'], params['hidden'], params['allow_open'])


def check_not_world_open(group_name, offenders):
    if offenders:
        raise ValidationError('group %r would allow any address because of %s; set allow_open: true if that is really wanted'
                              % (group_name, '; '.join(offenders)))


# One ModifySecurityIps call: ``attribute`` is the SecurityIpGroupAttribute to send, or None.
Write = namedtuple('Write', ['mode', 'entries', 'attribute'])


class WhitelistPlan(namedtuple('WhitelistPlan', ['instance_id', 'group', 'attribute_before', 'attribute_after', 'writes', 'hidden_managed'])):
    """A GroupPlan for the managed group plus its attribute and the ModifySecurityIps calls to make."""

    __slots__ = ()

    @property
    def changed(self):
        return bool(self.writes)

    def diff(self):
        """Ansible ``diff`` of the managed group, with its attribute when the task manages it (``hidden`` set)."""
        if not self.hidden_managed:
            return self.group.diff()
        return self.group.diff(extra_before={'attribute': self.attribute_before} if self.group.before is not None else None,
                               extra_after={'attribute': self.attribute_after} if self.group.after is not None else None)

    def planned_groups(self, groups):
        """All groups as they will be once the plan is applied (what check mode reports)."""
        others = [group for group in groups if group.name != self.group.name]
        if self.group.after is not None:
            others.append(WhitelistGroup(self.group.name, self.group.after, self.attribute_after))
        return sorted(others, key=lambda group: group.name)


def plan_whitelist(request, groups):
    """Plan the change of the managed group from the groups just read; raise ValidationError when refused."""
    current = find_group(groups, request.group_name)
    if current is not None and current.attribute == HIDDEN and request.hidden is not True:
        raise ValidationError('group %r of %s is hidden, which marks the groups DMS/DAS/DTS create; it is left alone. '
                              'If you created it yourself, set hidden: true to manage it' % (request.group_name, request.instance_id))
    group = plan_group(request.group_name, current.ips if current else None, request.desired, request.state, request.purge)
    attribute_before = current.attribute if current else None
    if group.after is None:
        attribute_after = None
    elif request.state == 'present' and request.hidden is not None:
        attribute_after = HIDDEN if request.hidden else ''
    else:
        attribute_after = attribute_before or ''
    if group.after is not None:
        check_group_size(ALICLOUD_REDIS, request.group_name, group.after)
    # Whether Append/Cover keep the attribute when SecurityIpGroupAttribute is omitted is not
    # documented, so a group the user wants hidden gets it on every write that keeps the group.
    attribute = HIDDEN if attribute_after == HIDDEN else None
    if group.purge and group.changed:
        writes = [Write('Cover', group.after, attribute)]
    elif group.to_add:
        writes = [Write('Append', group.to_add, attribute)]
    elif group.to_remove:
        writes = [Write('Delete', group.to_remove, None)]
    elif attribute_after != attribute_before:
        # Only the attribute changes. Append is a server-side union, so re-sending the entries the
        # group holds changes nothing else; Cover would drop entries another writer added meanwhile.
        writes = [Write('Append', group.after, attribute)]
    else:
        writes = []
    if writes and request.state == 'present' and not request.allow_open:
        check_not_world_open(request.group_name, world_open_entries(group.after))
    return WhitelistPlan(request.instance_id, group, attribute_before, attribute_after, writes,
                         request.hidden is not None and request.state == 'present')


def modify_security_ips(client, instance_id, group_name, write):
    # ModifySecurityIps defaults to ModifyMode=Cover on group "default": both are always sent.
    client.call('ModifySecurityIps', {
        'InstanceId': instance_id,
        'SecurityIpGroupName': group_name,
        'ModifyMode': write.mode,
        'SecurityIps': ','.join(write.entries),
        'SecurityIpGroupAttribute': write.attribute,
    }, write=True)


def check_readback(plan, after_groups):
    """Compare the managed group read after the write with what this run changed.

    Returns ``(problems, warnings)``. Problems: what we added is missing, what we removed is
    still there, the attribute is not as sent, or the group vanished although the plan kept
    entries in it (the UNCONFIRMED reading of ModifyMode=Delete as "drop the group" looks like
    this). Warnings: entries the plan kept that another writer removed meanwhile. Nothing is
    ever put back: re-adding an entry that vanished could restore access somebody revoked.
    Other groups are not looked at: Append, Delete and Cover change only the named group.
    """
    name = plan.group.name
    write = plan.writes[-1]
    found = find_group(after_groups, name)
    held = set(found.ips) if found else set()
    problems = []
    warnings = []
    missing = set(plan.group.to_add) - held
    if missing:
        problems.append('entries %s are missing from group %r after ModifySecurityIps %s (another writer removed them meanwhile?); '
                        'they were not added again' % (', '.join(sorted_entries(missing)), name, write.mode))
    still_there = set(plan.group.to_remove) & held
    if still_there:
        problems.append('entries %s are still in group %r after ModifySecurityIps %s, so they still have access'
                        % (', '.join(sorted_entries(still_there)), name, write.mode))
    kept_but_gone = sorted_entries(set(plan.group.before or ()) & set(plan.group.after or ()) - held)
    if kept_but_gone and found is None:
        problems.append('group %r is gone after ModifySecurityIps %s, and with it %s, which this task did not remove (either '
                        'ModifyMode=Delete drops the whole group, or another writer removed the group meanwhile). They were NOT '
                        'added back, since that could restore access somebody revoked; add them with state=present if they '
                        'should stay' % (name, write.mode, ', '.join(kept_but_gone)))
    elif kept_but_gone:
        warnings.append('Entries %s of group %r of %s were removed by another writer while this task changed the group; '
                        'they were left out, not added back' % (', '.join(kept_but_gone), name, plan.instance_id))
    if write.attribute and found is not None and found.attribute != write.attribute:
        problems.append('group %r has attribute %r instead of %r' % (name, found.attribute, write.attribute))
    return problems, warnings


AppliedWhitelist = namedtuple('AppliedWhitelist', ['plan', 'groups', 'warnings'])


def apply_whitelist(client, request, plan, wait, wait_timeout, seen_normal=False, read_status=None):
    """Make the planned ModifySecurityIps calls and verify them by a read-back; return an AppliedWhitelist.

    Append and Delete are set operations on the server, and Cover (only for purge_ips) sends
    exactly the user's entries; still, after a refusal or a lost answer nothing is replayed:
    the group is read again and the change planned anew (RetryPolicy.converge).
    ``seen_normal``: a status read made just before (a bulk run's DescribeInstances) found the
    instance Normal, so the first attempt does not read it again; an instance that turned busy
    since refuses the write (IncorrectDBInstanceState), and the next attempt waits for it.
    ``read_status``: how to read the instance status (see ``wait_until_normal``).
    """
    def attempt(retry):
        current = plan
        if retry:
            groups = read_whitelist(client, request.instance_id)
            current = plan_whitelist(request, groups)
            if not current.changed:
                return AppliedWhitelist(current, groups, [])
        if wait and (retry or not seen_normal):
            wait_until_normal(client, request.instance_id, wait_timeout, read_status)
        for write in current.writes:
            modify_security_ips(client, request.instance_id, request.group_name, write)
        if wait:
            wait_until_normal(client, request.instance_id, wait_timeout, read_status)
        groups = read_whitelist(client, request.instance_id)
        problems, warnings = check_readback(current, groups)
        if problems:
            raise ConflictError('Group %r of %s is not as planned after the change: %s'
                                % (request.group_name, request.instance_id, '; '.join(problems)))
        return AppliedWhitelist(current, groups, warnings)

    return client.retry_policy.converge(attempt, client)


# --- ECS security groups ------------------------------------------------------------------------

def normalize_security_group_ids(values, option='security_group_ids'):
    """Validate security group IDs (every bad one named); return them de-duplicated and sorted."""
    bad = [value for value in values if not isinstance(value, str) or not SECURITY_GROUP_ID.fullmatch(value)]
    if bad:
        raise ValidationError('Invalid entries in %s: %s (an ECS security group ID is "sg-" followed by letters and digits)'
                              % (option, ', '.join(repr(value) for value in bad)))
    ids = sorted(set(values))
    if not ids:
        raise ValidationError('%s must hold at least one security group ID' % option)
    check_security_group_count(ids)
    return ids


def check_security_group_count(ids):
    if len(ids) > MAX_SECURITY_GROUPS:
        raise ValidationError('%d security groups would be bound; a Redis instance takes at most %d (%s)'
                              % (len(ids), MAX_SECURITY_GROUPS, ', '.join(ids)))


def describe_security_groups(client, instance_id):
    """Bound security groups from DescribeSecurityGroupConfiguration, sorted by ID."""
    data = client.call('DescribeSecurityGroupConfiguration', {'InstanceId': instance_id})
    items = (data.get('Items') or {}).get('EcsSecurityGroupRelation') or []
    relations = [{'security_group_id': item.get('SecurityGroupId'), 'region_id': item.get('RegionId'), 'net_type': item.get('NetType')}
                 for item in items]
    return sorted(relations, key=lambda relation: relation['security_group_id'])


SecurityGroupsRequest = namedtuple('SecurityGroupsRequest', ['instance_id', 'desired', 'state', 'purge'])


def validate_security_groups_request(params):
    """Check every option of alicloud_redis_security_groups before any API call; return a SecurityGroupsRequest."""
    check_instance_id(params['instance_id'])
    check_wait_timeout(params['wait_timeout'])
    check_purge_with_state(params['state'], params['purge_security_groups'], 'purge_security_groups', 'nothing (unbinding every group is refused)')
    desired = normalize_security_group_ids(params['security_group_ids'])
    return SecurityGroupsRequest(params['instance_id'], desired, params['state'], params['purge_security_groups'])


def plan_security_groups(request, bound_ids):
    """Plan the bound set; raise ValidationError for a result the API cannot take."""
    plan = plan_group(request.instance_id, bound_ids or None, request.desired, request.state, request.purge)
    if plan.removes_group:
        raise ValidationError('This would unbind every security group of %s (%s); ModifySecurityGroupConfiguration needs at least '
                              'one SecurityGroupId, so keep one bound' % (request.instance_id, ', '.join(plan.before)))
    if plan.after is not None:
        check_security_group_count(list(plan.after))
    return plan


def security_groups_diff(plan):
    return {'before': {'security_group_ids': list(plan.before or ())}, 'after': {'security_group_ids': list(plan.after or ())}}


def check_security_groups_readback(plan, bound):
    """``(undone, warnings)`` of the bound set read after ModifySecurityGroupConfiguration.

    ``undone`` is true when what this run bound is missing or what it unbound is back: another
    writer's overwrite landed after ours. Groups this run kept that are gone are only warned
    about: putting them back could restore access somebody revoked.
    """
    undone = bool(set(plan.to_add) - bound or set(plan.to_remove) & bound)
    kept_but_gone = sorted(set(plan.before or ()) & set(plan.after or ()) - bound)
    warnings = []
    if kept_but_gone:
        warnings.append('Security groups %s of %s were unbound by another writer while this task changed the bound set; '
                        'they were left out, not bound again' % (', '.join(kept_but_gone), plan.name))
    return undone, warnings


AppliedSecurityGroups = namedtuple('AppliedSecurityGroups', ['plan', 'relations', 'warnings'])


def apply_security_groups(client, request, plan, wait, wait_timeout):
    """Replace the bound set (the API has no add/remove) and verify it; return an AppliedSecurityGroups.

    ModifySecurityGroupConfiguration overwrites every binding, so each attempt sends a set
    planned from a read made right before it (after waiting for the instance), never a copy
    planned earlier; when another writer's overwrite undoes ours, the loop plans and writes
    again (RetryPolicy.converge), a bounded number of times.
    """
    def attempt(retry):
        if wait:
            wait_until_normal(client, request.instance_id, wait_timeout)
        current = plan
        if retry or wait:
            relations = describe_security_groups(client, request.instance_id)
            current = plan_security_groups(request, [relation['security_group_id'] for relation in relations])
            if not current.changed:
                return AppliedSecurityGroups(current, relations, [])
        # ModifySecurityGroupConfiguration names the instance DBInstanceId and replaces the whole set.
        client.call('ModifySecurityGroupConfiguration', {'DBInstanceId': request.instance_id, 'SecurityGroupId': ','.join(current.after)},
                    write=True, overwrite=True)
        if wait:
            wait_until_normal(client, request.instance_id, wait_timeout)
        relations = describe_security_groups(client, request.instance_id)
        bound = set(relation['security_group_id'] for relation in relations)
        undone, warnings = check_security_groups_readback(current, bound)
        if undone:
            error = ChangeUndoneError(
                'Security groups of %s are not as planned after ModifySecurityGroupConfiguration: another writer replaced the set. '
                'Missing: %s; still bound: %s' % (request.instance_id, ', '.join(sorted(set(current.to_add) - bound)) or 'none',
                                                  ', '.join(sorted(set(current.to_remove) & bound)) or 'none'))
            error.write_action = 'ModifySecurityGroupConfiguration'
            raise error
        return AppliedSecurityGroups(current, relations, warnings)

    return client.retry_policy.converge(attempt, client)
