# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alibaba Cloud API Gateway IP controls: reading them (paged), validating what the user asks
for, and the pure planners for policy items and API bindings.

Shared by ``alicloud_apigateway_ip_control`` and ``alicloud_apigateway_ip_control_info``.
An item is keyed by its ``app_id``; items without an ``app_id`` are keyed by their set of
entries. Entries are canonical (see ``ipsets``) and each item's entries are kept sorted.
"""

import re
from collections import namedtuple

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import NotFoundError, ValidationError
from ansible_collections.ipguard.cloud.plugins.module_utils._ipsets import (
    APIGATEWAY_CONTROL_NAME, APIGATEWAY_CONTROL_NAME_RULE, APIGATEWAY_MAX_CIDRS_PER_ITEM, APIGATEWAY_MAX_ITEMS,
    normalize_ips, split_vendor_list, world_open_entries)

CONTROL_TYPES = ('ALLOW', 'REFUSE')
STAGE_NAMES = ('RELEASE', 'PRE', 'TEST')
MAX_DESCRIPTION = 200
# Describe* calls return at most 100 records per page.
PAGE_SIZE = 100
# SetIpControlApis / RemoveIpControlApis take at most 100 ApiIds, and RemoveIpControlPolicyItem
# at most 100 PolicyItemIds, per call.
MAX_IDS_PER_CALL = 100
# Ids the user gives (IP control, app, API group and API ids): the API's own are 32 hex digits
# (apps: decimal numbers); anything outside this set would change the meaning of the query or of
# the ',' and ';' joined lists they are sent in.
ID_PATTERN = re.compile(r'\A[A-Za-z0-9_-]{1,64}\Z')
ID_RULE = '1 to 64 letters, digits, "-" and "_"'

Control = namedtuple('Control', ['ip_control_id', 'name', 'type', 'description'])
PolicyItem = namedtuple('PolicyItem', ['policy_item_id', 'app_id', 'cidrs'])
Binding = namedtuple('Binding', ['group_id', 'api_id', 'stage_name'])


def item_sort_key(item):
    return (item.app_id or '', item.cidrs, item.policy_item_id or '')


def sorted_items(items):
    """Items in a stable order: by app_id, then entries, then id."""
    return sorted(items, key=item_sort_key)


def item_content(item):
    """What identifies an item's effect: its app_id and its set of entries."""
    return (item.app_id, frozenset(item.cidrs))


def item_result(item):
    return {'policy_item_id': item.policy_item_id, 'app_id': item.app_id, 'cidrs': list(item.cidrs)}


def item_diff(item):
    return {'app_id': item.app_id, 'cidrs': list(item.cidrs)}


def binding_result(binding):
    return {'group_id': binding.group_id, 'api_id': binding.api_id, 'stage_name': binding.stage_name}


def control_result(control, items, bindings=None):
    """The module result for one control: its attributes, items (and bindings when read)."""
    result = {
        'ip_control_id': control.ip_control_id,
        'name': control.name,
        'type': control.type,
        'description': control.description,
        'policy_items': [item_result(item) for item in sorted_items(items)],
    }
    if bindings is not None:
        result['apis'] = [binding_result(binding) for binding in sorted(bindings)]
    return result


def control_diff(control, items, bindings=None):
    """One side of the diff: like ``control_result`` but items without their (volatile) ids."""
    if control is None:
        return {}
    result = control_result(control, items, bindings)
    result['policy_items'] = [item_diff(item) for item in sorted_items(items)]
    return result


# --- validation ------------------------------------------------------------------------------

def check_control_name(name):
    if not (isinstance(name, str) and APIGATEWAY_CONTROL_NAME.fullmatch(name)):
        raise ValidationError('name %r is not a valid IP control name: use %s' % (name, APIGATEWAY_CONTROL_NAME_RULE))


def check_id(option, value, what='id'):
    """Return ``value``; raise ValidationError naming ``option`` unless it is a plausible API Gateway id."""
    if not (isinstance(value, str) and ID_PATTERN.fullmatch(value)):
        raise ValidationError('%s %r is not a valid %s: use %s' % (option, value, what, ID_RULE))
    return value


def check_description(description):
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ValidationError('description is %d characters long; API Gateway allows at most %d' % (len(description), MAX_DESCRIPTION))


def _chunks(values, size):
    return [tuple(values[start:start + size]) for start in range(0, len(values), size)]


def desired_items(policies, control_type, allow_open=False):
    """Validate the ``policies`` option and turn it into the items the control must hold.

    ``control_type`` may be None when it is not known yet (an existing control whose type the
    user did not repeat); call again with the type once it is read. Items without app_id that
    hold more than 10 entries are split into consecutive chunks of the sorted entries; an item
    with an app_id must fit in one item. Items without app_id listing the same entries are one
    item. Returns a sorted list of ``PolicyItem`` without ids.
    """
    items = []
    seen_contents = set()
    app_ids = {}
    for index, policy in enumerate(policies):
        option = 'policies[%d].cidrs' % index
        cidrs = normalize_ips(policy.get('cidrs') or [], option)
        if not cidrs:
            raise ValidationError('%s is empty: every policy item needs at least one address or CIDR' % option)
        app_id = policy.get('app_id') or None
        if app_id is not None:
            check_id('policies[%d].app_id' % index, app_id, 'app id')
        if app_id is None:
            chunks = _chunks(cidrs, APIGATEWAY_MAX_CIDRS_PER_ITEM)
        else:
            if control_type == 'REFUSE':
                raise ValidationError(
                    'policies[%d] sets app_id %r on a REFUSE control; API Gateway silently ignores app_id there, '
                    'so the item would refuse these addresses for every caller. Remove app_id.' % (index, app_id))
            if app_id in app_ids:
                raise ValidationError('app_id %r appears in policies[%d] and policies[%d]; an app_id keys exactly one item'
                                      % (app_id, app_ids[app_id], index))
            app_ids[app_id] = index
            if len(cidrs) > APIGATEWAY_MAX_CIDRS_PER_ITEM:
                raise ValidationError(
                    'policies[%d] (app_id %r) holds %d entries; an item holds at most %d, and an item with an app_id '
                    'cannot be split' % (index, app_id, len(cidrs), APIGATEWAY_MAX_CIDRS_PER_ITEM))
            chunks = [tuple(cidrs)]
        for chunk in chunks:
            item = PolicyItem(None, app_id, chunk)
            if item_content(item) not in seen_contents:
                seen_contents.add(item_content(item))
                items.append(item)
    if len(items) > APIGATEWAY_MAX_ITEMS:
        raise ValidationError('policies make %d items (after splitting items without app_id into chunks of %d); '
                              'an IP control holds at most %d' % (len(items), APIGATEWAY_MAX_CIDRS_PER_ITEM, APIGATEWAY_MAX_ITEMS))
    if control_type == 'ALLOW' and not allow_open:
        offenders = world_open_entries(sorted(set(entry for item in items for entry in item.cidrs)))
        if offenders:
            raise ValidationError('policies would open the APIs of this ALLOW control to any address (%s); '
                                  'set allow_open=true if that is intended' % ', '.join(offenders))
    return sorted_items(items)


def desired_bindings(apis):
    """The ``apis`` option as a set of ``Binding``; raise ValidationError naming a bad id or stage."""
    bindings = set()
    for index, api in enumerate(apis):
        for key in ('group_id', 'api_id'):
            check_id('apis[%d].%s' % (index, key), api.get(key))
        stage_name = api.get('stage_name') or 'RELEASE'
        if stage_name not in STAGE_NAMES:
            raise ValidationError('apis[%d].stage_name %r is not a stage: use one of %s' % (index, stage_name, ', '.join(STAGE_NAMES)))
        bindings.add(Binding(api['group_id'], api['api_id'], stage_name))
    return frozenset(bindings)


# --- planning --------------------------------------------------------------------------------

class ItemsPlan(namedtuple('ItemsPlan', ['before', 'after', 'to_add', 'to_modify', 'to_remove'])):
    """The policy-item changes of one control.

    ``to_modify`` holds ``(current, replacement)`` pairs (the replacement keeps the current id);
    ``to_add`` items have no id yet. ``before`` and ``after`` are sorted lists of items.
    """

    __slots__ = ()

    @property
    def changed(self):
        return bool(self.to_add or self.to_modify or self.to_remove)


PURGE_ALL = 'all'
PURGE_WITHOUT_APP_ID = 'without_app_id'
PURGE_SCOPES = (PURGE_ALL, PURGE_WITHOUT_APP_ID)


def plan_items(current, desired, purge=False, purge_scope=PURGE_ALL):
    """Plan the fewest calls that make ``current`` items hold every ``desired`` item.

    - a desired item with an app_id: an existing item with that app_id and the same entries is
      kept; otherwise one existing item with that app_id is modified (ModifyIpControlPolicyItem
      replaces the item whole); otherwise it is added;
    - a desired item without app_id is kept when an existing item without app_id has the same
      entries, else added;
    - with ``purge``, existing items matched by nothing are removed; before that, each one is
      modified into an item that would otherwise be added (one call instead of an add plus a
      share of the remove call). Without ``purge`` nothing is removed. With ``purge_scope``
      ``without_app_id`` only unmatched items without an app_id are purged; items that restrict
      one app are left alone, whoever manages them.

    Candidates are taken in id order, so the plan is deterministic.
    """
    current = sorted(current, key=lambda item: (item.policy_item_id or '', item_sort_key(item)))
    unmatched = list(current)
    kept, to_modify, to_add = [], [], []

    def take(predicate):
        for candidate in unmatched:
            if predicate(candidate):
                unmatched.remove(candidate)
                return candidate
        return None

    pending = []
    for item in desired:
        same = take(lambda candidate, wanted=item: item_content(candidate) == item_content(wanted))
        if same is not None:
            kept.append(same)
        elif item.app_id is not None:
            pending.append((item, take(lambda candidate, wanted=item: candidate.app_id == wanted.app_id)))
        else:
            pending.append((item, None))
    purgeable = [item for item in unmatched if purge and (purge_scope == PURGE_ALL or item.app_id is None)]
    for item, same_app in pending:
        target = same_app
        if target is None and purgeable:
            target = purgeable.pop(0)
            unmatched.remove(target)
        if target is None:
            to_add.append(item)
        else:
            to_modify.append((target, item._replace(policy_item_id=target.policy_item_id)))
    to_remove = purgeable
    left = [item for item in unmatched if item not in purgeable]
    after = kept + left + [new for dummy, new in to_modify] + to_add
    return ItemsPlan(
        before=sorted_items(current),
        after=sorted_items(after),
        to_add=tuple(sorted_items(to_add)),
        to_modify=tuple(sorted(to_modify, key=lambda pair: item_sort_key(pair[1]))),
        to_remove=tuple(sorted(to_remove, key=lambda item: item.policy_item_id)),
    )


def apply_items_plan(current, plan, new_ids=None):
    """The items after applying ``plan`` to ``current``, modelling each vendor call.

    ``new_ids`` supplies ids for added items in ``plan.to_add`` order (None ids otherwise).
    Tests use it to check that plans converge; modules use it to report the result.
    """
    replacements = dict((old.policy_item_id, new) for old, new in plan.to_modify)
    removed = set(item.policy_item_id for item in plan.to_remove)
    result = [replacements.get(item.policy_item_id, item) for item in current if item.policy_item_id not in removed]
    ids = list(new_ids or [None] * len(plan.to_add))
    result.extend(item._replace(policy_item_id=item_id) for item, item_id in zip(plan.to_add, ids))
    return sorted_items(result)


BindingsPlan = namedtuple('BindingsPlan', ['before', 'after', 'to_bind', 'to_unbind'])


def plan_bindings(current, desired, purge=False):
    """Bindings to add (every desired one missing) and, with ``purge``, to remove."""
    current = frozenset(current)
    desired = frozenset(desired)
    to_bind = desired - current
    to_unbind = current - desired if purge else frozenset()
    return BindingsPlan(
        before=sorted(current),
        after=sorted((current | desired) - to_unbind),
        to_bind=sorted(to_bind),
        to_unbind=sorted(to_unbind),
    )


def binding_batches(bindings):
    """Group bindings into calls: ``(group_id, stage_name, 'id1,id2,...')``, at most 100 ids each."""
    groups = {}
    for binding in bindings:
        groups.setdefault((binding.group_id, binding.stage_name), []).append(binding.api_id)
    batches = []
    for (group_id, stage_name), api_ids in sorted(groups.items()):
        for chunk in _chunks(sorted(set(api_ids)), MAX_IDS_PER_CALL):
            batches.append((group_id, stage_name, ','.join(chunk)))
    return batches


# --- reading ---------------------------------------------------------------------------------

def _records(data, outer, inner):
    container = data.get(outer) or {}
    records = container.get(inner) if isinstance(container, dict) else None
    return records or []


def read_pages(client, action, params, outer, inner):
    """Every record of a paged Describe call (PageSize 100, PageNumber from 1)."""
    records = []
    page_number = 1
    while True:
        query = dict(params, PageNumber=page_number, PageSize=PAGE_SIZE)
        data = client.call(action, query)
        page = _records(data, outer, inner)
        records.extend(page)
        total = data.get('TotalCount')
        if not page or len(page) < PAGE_SIZE or (total is not None and len(records) >= int(total)):
            return records
        page_number += 1


def _control_from_record(record):
    return Control(
        ip_control_id=record.get('IpControlId'),
        name=record.get('IpControlName'),
        type=record.get('IpControlType'),
        description=record.get('Description') or '',
    )


def list_controls(client, ip_control_id=None, name=None):
    """Controls matching the id and/or the exact name (every page read; None filters nothing).

    The name filter of DescribeIpControls may match loosely (UNCONFIRMED), so names are
    compared exactly here. An unknown id gives an empty list, whether the API answers with an
    empty page or with a not-found error.
    """
    params = {'IpControlId': ip_control_id, 'IpControlName': name}
    try:
        records = read_pages(client, 'DescribeIpControls', params, 'IpControlInfos', 'IpControlInfo')
    except NotFoundError:
        if ip_control_id is None:
            raise
        return []
    controls = [_control_from_record(record) for record in records]
    return sorted((control for control in controls
                   if ip_control_id in (None, control.ip_control_id) and name in (None, control.name)),
                  key=lambda control: (control.name or '', control.ip_control_id or ''))


def find_control(client, ip_control_id=None, name=None):
    """The one control with this id (preferred) or this exact name, or None when there is none.

    Several controls with the name is an error: the module never guesses which one is meant.
    """
    if ip_control_id is not None:
        controls = list_controls(client, ip_control_id=ip_control_id)
    else:
        controls = list_controls(client, name=name)
    if len(controls) > 1:
        raise ValidationError('%d IP controls are named %r (ids: %s); set ip_control_id to say which one is meant'
                              % (len(controls), name, ', '.join(control.ip_control_id for control in controls)))
    return controls[0] if controls else None


def list_items(client, ip_control_id):
    """The policy items of a control, with canonical sorted entries (app_id None when empty)."""
    records = read_pages(client, 'DescribeIpControlPolicyItems', {'IpControlId': ip_control_id},
                         'IpControlPolicyItems', 'IpControlPolicyItem')
    return sorted_items(
        PolicyItem(record.get('PolicyItemId'), record.get('AppId') or None, tuple(split_vendor_list(record.get('CidrIp'), ';')))
        for record in records)


def list_bindings(client, ip_control_id):
    """The APIs the control is bound to, as a set of ``Binding``."""
    records = read_pages(client, 'DescribeApisByIpControl', {'IpControlId': ip_control_id}, 'ApiInfos', 'ApiInfo')
    return frozenset(Binding(record.get('GroupId'), record.get('ApiId'), record.get('StageName')) for record in records)


# --- writing ---------------------------------------------------------------------------------

def create_control(client, name, control_type, description, items):
    """CreateIpControl with its items in the same call; returns the new control id.

    Not repeated after a timeout: a second CreateIpControl would make a second control of the
    same name, which every later lookup by name would refuse as ambiguous.
    """
    params = {'IpControlName': name, 'IpControlType': control_type, 'Description': description}
    for number, item in enumerate(items, start=1):
        params['IpControlPolicys.%d.CidrIp' % number] = ';'.join(item.cidrs)
        params['IpControlPolicys.%d.AppId' % number] = item.app_id
    return client.call('CreateIpControl', params, write=True, idempotent=False).get('IpControlId')


def modify_control(client, ip_control_id, name, description):
    """ModifyIpControl: set the control's name and description (its type cannot change)."""
    client.call('ModifyIpControl', {'IpControlId': ip_control_id, 'IpControlName': name, 'Description': description}, write=True)


def delete_control(client, ip_control_id):
    """DeleteIpControl. The API refuses to delete a control still bound to APIs; the module checks that first."""
    client.call('DeleteIpControl', {'IpControlId': ip_control_id}, write=True)


def add_item(client, ip_control_id, item):
    """AddIpControlPolicyItem; returns the new item's id.

    Adding is not idempotent: a failed attempt is never repeated here. The module plans again
    from a fresh read of the items (RetryPolicy.converge), where an item that did land is found;
    after a timeout the add is not sent again in this run at all, since it may still land.
    """
    return client.call('AddIpControlPolicyItem', {
        'IpControlId': ip_control_id, 'CidrIp': ';'.join(item.cidrs), 'AppId': item.app_id},
        write=True, idempotent=False).get('PolicyItemId')


def apply_items(client, ip_control_id, plan):
    """Make the calls of an items plan; return the ids of the added items, in ``to_add`` order.

    ModifyIpControlPolicyItem replaces the whole item and clears an omitted AppId, so the
    replacement's AppId is always sent. Removals go last, in as few calls as the API allows,
    so that a control never loses protection before its new items exist. Items are added with
    ``add_item``, which never sends an add twice.
    """
    for dummy, new in plan.to_modify:
        client.call('ModifyIpControlPolicyItem', {
            'IpControlId': ip_control_id, 'PolicyItemId': new.policy_item_id,
            'CidrIp': ';'.join(new.cidrs), 'AppId': new.app_id}, write=True, overwrite=True)
    new_ids = [add_item(client, ip_control_id, item) for item in plan.to_add]
    removed_ids = [item.policy_item_id for item in plan.to_remove]
    for chunk in _chunks(removed_ids, MAX_IDS_PER_CALL):
        client.call('RemoveIpControlPolicyItem', {'IpControlId': ip_control_id, 'PolicyItemIds': ';'.join(chunk)}, write=True)
    return new_ids


def apply_bindings(client, ip_control_id, plan):
    """SetIpControlApis for new bindings, then RemoveIpControlApis for purged ones.

    RemoveIpControlApis without ApiIds unbinds the control from every API of the group and
    stage, so it is only ever called with the explicit ids of a batch.
    """
    for group_id, stage_name, api_ids in binding_batches(plan.to_bind):
        client.call('SetIpControlApis', {'IpControlId': ip_control_id, 'GroupId': group_id,
                                         'StageName': stage_name, 'ApiIds': api_ids}, write=True)
    for group_id, stage_name, api_ids in binding_batches(plan.to_unbind):
        client.call('RemoveIpControlApis', {'IpControlId': ip_control_id, 'GroupId': group_id,
                                            'StageName': stage_name, 'ApiIds': api_ids}, write=True)
