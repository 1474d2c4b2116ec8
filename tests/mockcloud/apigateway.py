# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alibaba Cloud API Gateway (CloudAPI 2016-07-14): IP controls (ACLs), their policy items and
their bindings to APIs."""

import random
import re
import secrets

from .errors import CloudError, invalid_parameter, missing_parameter
from .ipv4 import parse_entry
from .rpcparams import paginate, required
from .state import DEFAULT_ALIBABA_REGION, IP_CONTROL_TYPES, STAGE_NAMES, utc_now_text

PRODUCT = 'CloudAPI'
VERSION = '2016-07-14'
HOST_ID = 'apigateway.aliyuncs.com'

MAX_CIDRS_PER_ITEM = 10
MAX_ITEMS_PER_CONTROL = 100
MAX_API_IDS = 100
MAX_DESCRIPTION = 200
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
CONTROL_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_]{3,49}$')
CREATE_POLICY_PARAM = re.compile(r'^IpControlPolicys\.([0-9]+)\.(CidrIp|AppId)$')


def _cidrs(text):
    entries = [entry.strip() for entry in text.split(';')]
    if len(entries) > MAX_CIDRS_PER_ITEM:
        raise CloudError(400, 'InvalidCidrIp', 'A policy item holds at most %d IP addresses or CIDR blocks; got %d.' % (MAX_CIDRS_PER_ITEM, len(entries)))
    for entry in entries:
        if parse_entry(entry) is None:
            raise CloudError(400, 'InvalidCidrIp', 'Specified CidrIp entry "%s" is not a valid IPv4 address or CIDR block.' % entry)
    return entries


def _control_not_found(control_id):
    return CloudError(404, 'NotFoundIpControl', 'Specified IP control %s is not found.' % control_id)


class ApiGatewayService(object):
    """CloudAPI IP-control actions over ``state['alibaba']['ip_controls']``."""

    ACTIONS = {
        'CreateIpControl': ('create_ip_control', True, None),
        'ModifyIpControl': ('modify_ip_control', True, 'IpControlId'),
        'DescribeIpControls': ('describe_ip_controls', False, 'IpControlId'),
        'DescribeIpControlPolicyItems': ('describe_ip_control_policy_items', False, 'IpControlId'),
        'AddIpControlPolicyItem': ('add_ip_control_policy_item', True, 'IpControlId'),
        'ModifyIpControlPolicyItem': ('modify_ip_control_policy_item', True, 'IpControlId'),
        'RemoveIpControlPolicyItem': ('remove_ip_control_policy_item', True, 'IpControlId'),
        'DeleteIpControl': ('delete_ip_control', True, 'IpControlId'),
        'SetIpControlApis': ('set_ip_control_apis', True, 'IpControlId'),
        'RemoveIpControlApis': ('remove_ip_control_apis', True, 'IpControlId'),
        'DescribeApisByIpControl': ('describe_apis_by_ip_control', False, 'IpControlId'),
    }

    def __init__(self, state):
        self.controls = state['alibaba']['ip_controls']

    @staticmethod
    def _in_region(control, params):
        return params.get('RegionId') in (None, '', control['region_id'])

    def _control(self, params):
        control_id = required(params, 'IpControlId')
        control = self.controls.get(control_id)
        if control is None or not self._in_region(control, params):
            raise _control_not_found(control_id)
        return control_id, control

    @staticmethod
    def _validate_name(name):
        if not CONTROL_NAME.match(name):
            raise CloudError(400, 'InvalidIpControlName',
                             'IpControlName must be 4 to 50 letters, digits or underscores and must not start with an underscore.')

    @staticmethod
    def _validate_description(description):
        if len(description) > MAX_DESCRIPTION:
            raise CloudError(400, 'InvalidDescription', 'Description is at most %d characters.' % MAX_DESCRIPTION)

    @staticmethod
    def _new_item(control, cidr_text, app_id):
        now = utc_now_text()
        return {
            'id': 'P%015d' % random.SystemRandom().randrange(10 ** 15),
            'cidrs': _cidrs(cidr_text),
            # AppId only means something on a whitelist; a blacklist stores it empty.
            'app_id': (app_id or '') if control['type'] == 'ALLOW' else '',
            'create_time': now,
            'modified_time': now,
        }

    @staticmethod
    def _require_item_room(control, adding):
        if len(control['policy_items']) + adding > MAX_ITEMS_PER_CONTROL:
            raise CloudError(400, 'QuotaExceeded.IpControlPolicyItem',
                             'An IP control holds at most %d policy items.' % MAX_ITEMS_PER_CONTROL)

    def create_ip_control(self, params, call):
        name = required(params, 'IpControlName')
        control_type = required(params, 'IpControlType')
        self._validate_name(name)
        if control_type not in IP_CONTROL_TYPES:
            raise CloudError(400, 'InvalidIpControlType', 'IpControlType must be ALLOW or REFUSE.')
        description = params.get('Description') or ''
        self._validate_description(description)
        policies = {}
        for key, value in params.items():
            match = CREATE_POLICY_PARAM.match(key)
            if match:
                policies.setdefault(int(match.group(1)), {})[match.group(2)] = value
        if any(index < 1 or index > MAX_ITEMS_PER_CONTROL for index in policies):
            raise CloudError(400, 'QuotaExceeded.IpControlPolicyItem', 'An IP control holds at most %d policy items.' % MAX_ITEMS_PER_CONTROL)
        now = utc_now_text()
        control = {
            'region_id': params.get('RegionId') or DEFAULT_ALIBABA_REGION,
            'name': name,
            'type': control_type,
            'description': description,
            'create_time': now,
            'modified_time': now,
            'policy_items': [],
            'bound_apis': [],
        }
        for index in sorted(policies):
            if not policies[index].get('CidrIp'):
                raise missing_parameter('IpControlPolicys.%d.CidrIp' % index)
            control['policy_items'].append(self._new_item(control, policies[index]['CidrIp'], policies[index].get('AppId')))
        control_id = secrets.token_hex(16)
        self.controls[control_id] = control
        call.resource_id = control_id
        return {'IpControlId': control_id}

    def modify_ip_control(self, params, call):
        dummy, control = self._control(params)
        if params.get('IpControlName'):
            self._validate_name(params['IpControlName'])
            control['name'] = params['IpControlName']
        if params.get('Description') is not None:
            self._validate_description(params['Description'])
            control['description'] = params['Description']
        control['modified_time'] = utc_now_text()
        return {}

    def describe_ip_controls(self, params, call):
        selected = [
            {
                'IpControlId': control_id, 'IpControlName': control['name'], 'IpControlType': control['type'],
                'Description': control['description'], 'RegionId': control['region_id'],
                'CreateTime': control['create_time'], 'ModifiedTime': control['modified_time'],
            }
            for control_id, control in self.controls.items()
            if self._in_region(control, params)
            and params.get('IpControlId') in (None, '', control_id)
            and params.get('IpControlName') in (None, '', control['name'])
            and params.get('IpControlType') in (None, '', control['type'])
        ]
        page, paging = paginate(params, selected, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        return dict(paging, IpControlInfos={'IpControlInfo': page})

    def describe_ip_control_policy_items(self, params, call):
        dummy, control = self._control(params)
        selected = [
            {'PolicyItemId': item['id'], 'AppId': item['app_id'], 'CidrIp': ';'.join(item['cidrs']),
             'CreateTime': item['create_time'], 'ModifiedTime': item['modified_time']}
            for item in control['policy_items'] if params.get('PolicyItemId') in (None, '', item['id'])
        ]
        page, paging = paginate(params, selected, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        return dict(paging, IpControlPolicyItems={'IpControlPolicyItem': page})

    def add_ip_control_policy_item(self, params, call):
        dummy, control = self._control(params)
        item = self._new_item(control, required(params, 'CidrIp'), params.get('AppId'))
        self._require_item_room(control, 1)
        control['policy_items'].append(item)
        control['modified_time'] = item['modified_time']
        return {'PolicyItemId': item['id']}

    def modify_ip_control_policy_item(self, params, call):
        dummy, control = self._control(params)
        item_id = required(params, 'PolicyItemId')
        cidrs = _cidrs(required(params, 'CidrIp'))
        item = next((candidate for candidate in control['policy_items'] if candidate['id'] == item_id), None)
        if item is None:
            raise CloudError(404, 'NotFoundPolicyItem', 'Specified policy item %s is not found.' % item_id)
        # A full replacement: an omitted AppId clears the item's AppId.
        item['cidrs'] = cidrs
        item['app_id'] = (params.get('AppId') or '') if control['type'] == 'ALLOW' else ''
        item['modified_time'] = control['modified_time'] = utc_now_text()
        return {}

    def remove_ip_control_policy_item(self, params, call):
        dummy, control = self._control(params)
        item_ids = set(part.strip() for part in required(params, 'PolicyItemIds').split(';'))
        if len(item_ids) > MAX_ITEMS_PER_CONTROL:
            raise invalid_parameter('PolicyItemIds', 'at most %d ids' % MAX_ITEMS_PER_CONTROL)
        control['policy_items'] = [item for item in control['policy_items'] if item['id'] not in item_ids]
        control['modified_time'] = utc_now_text()
        return {}

    def delete_ip_control(self, params, call):
        control_id = required(params, 'IpControlId')
        control = self.controls.get(control_id)
        if control is None or not self._in_region(control, params):
            # Deleting an IP control that does not exist succeeds.
            return {}
        if control['bound_apis']:
            raise CloudError(400, 'DependencyViolation.IpControlBound',
                             'The IP control is bound to %d API(s); unbind it before deleting it.' % len(control['bound_apis']))
        del self.controls[control_id]
        return {}

    @staticmethod
    def _stage(params, allowed):
        stage = required(params, 'StageName')
        if stage not in allowed:
            raise CloudError(400, 'InvalidStageName', 'StageName must be one of %s.' % ', '.join(sorted(allowed)))
        return stage

    def set_ip_control_apis(self, params, call):
        control_id, control = self._control(params)
        group_id = required(params, 'GroupId')
        stage = self._stage(params, STAGE_NAMES)
        api_ids = [part.strip() for part in required(params, 'ApiIds').split(',') if part.strip()]
        if len(api_ids) > MAX_API_IDS:
            raise invalid_parameter('ApiIds', 'at most %d API ids' % MAX_API_IDS)
        now = utc_now_text()
        for api_id in api_ids:
            # An API has one IP control per stage: binding another one replaces it.
            for other in self.controls.values():
                other['bound_apis'] = [binding for binding in other['bound_apis']
                                       if (binding['group_id'], binding['api_id'], binding['stage_name']) != (group_id, api_id, stage)]
            control['bound_apis'].append({'group_id': group_id, 'api_id': api_id, 'api_name': api_id, 'stage_name': stage, 'bound_time': now})
        call.resource_id = control_id
        return {}

    def remove_ip_control_apis(self, params, call):
        dummy, control = self._control(params)
        group_id = required(params, 'GroupId')
        stage = self._stage(params, STAGE_NAMES)
        api_ids = set(part.strip() for part in (params.get('ApiIds') or '').split(',') if part.strip())
        # Without ApiIds the control is unbound from every API of the group in that stage.
        control['bound_apis'] = [
            binding for binding in control['bound_apis']
            if not (binding['group_id'] == group_id and binding['stage_name'] == stage and (not api_ids or binding['api_id'] in api_ids))
        ]
        return {}

    def describe_apis_by_ip_control(self, params, call):
        dummy, control = self._control(params)
        selected = [
            {'ApiId': binding['api_id'], 'ApiName': binding['api_name'], 'GroupId': binding['group_id'], 'GroupName': binding['group_id'],
             'StageName': binding['stage_name'], 'BoundTime': binding['bound_time'], 'RegionId': control['region_id'],
             'Description': '', 'Visibility': 'PRIVATE'}
            for binding in control['bound_apis']
        ]
        page, paging = paginate(params, selected, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        return dict(paging, ApiInfos={'ApiInfo': page})
