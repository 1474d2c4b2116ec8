#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: alicloud_apigateway_ip_control
short_description: Manage an Alibaba Cloud API Gateway IP control, its policy items and its API bindings
version_added: 1.0.0
author: ipguard.cloud maintainers (@ipguard)
description:
  - Creates, updates or deletes an IP control (access control list) of Alibaba Cloud API Gateway, reconciles
    its policy items with the fewest API calls, and optionally binds it to APIs.
  - The control is found by O(ip_control_id), or else by its exact O(name). When several controls carry the
    name, the module fails and lists their ids instead of guessing.
  - A policy item is identified by its O(policies[].app_id); items without an app_id are identified by their
    set of addresses. An item with an app_id whose addresses differ is changed in place with one
    C(ModifyIpControlPolicyItem) call.
  - Without O(purge_policies), items that are not listed are kept. With it, they are removed, all in one
    C(RemoveIpControlPolicyItem) call, or changed into a listed item when that saves a call.
extends_documentation_fragment:
  - ipguard.cloud._alicloud
  - ipguard.cloud._connection
  - ipguard.cloud._attributes
  - ipguard.cloud._attributes.alicloud_group
options:
  ip_control_id:
    description:
      - ID of the IP control, 1 to 64 letters, digits, C(-) and C(_) (the API's ids are 32 hexadecimal digits).
      - When both O(ip_control_id) and O(name) are given, the id finds the control and a different O(name)
        renames it.
      - A control is only created when it is looked up by O(name); an O(ip_control_id) that does not exist
        is an error with O(state=present).
    type: str
  name:
    description:
      - Name of the IP control, 4 to 50 letters, digits and underscores, not starting with an underscore.
      - Compared exactly (the API's own name filter is not relied upon).
      - One of O(ip_control_id) and O(name) is required.
    type: str
  ip_control_type:
    description:
      - V(ALLOW) (a whitelist) or V(REFUSE) (a blacklist).
      - Required to create a control. The type of an existing control cannot be changed; the module refuses
        instead (delete the control and create it again if that is really meant).
      - When not given for an existing control, the control's own type is used; checks that depend on the
        type then run after the control is read, still before any change.
    type: str
    choices: [ALLOW, REFUSE]
  description:
    description:
      - Description of the control, at most 200 characters. Left as it is when not given.
    type: str
  policies:
    description:
      - The policy items the control must hold.
      - Not given, the items are left as they are.
      - An item holds at most 10 addresses or CIDRs. An item without O(policies[].app_id) that lists more is
        split into items of at most 10, taking the sorted entries in order, so the split is the same on
        every run. An item with an app_id that lists more is refused, since an app_id names exactly one item.
      - A control holds at most 100 items; more, after splitting, is refused before any change.
    type: list
    elements: dict
    suboptions:
      cidrs:
        description:
          - IPv4 addresses or CIDR blocks. V(10.0.0.1) and V(10.0.0.1/32) are the same entry; order and
            duplicates do not matter.
        type: list
        elements: str
        required: true
      app_id:
        description:
          - Restrict the item to callers of this API Gateway app. Only valid on V(ALLOW) controls.
          - On a V(REFUSE) control the API silently ignores an app_id, so the module refuses it rather than
            let a playbook suggest that the item only refuses one app.
          - Each app_id may appear in one item only.
          - 1 to 64 letters, digits, C(-) and C(_) (API Gateway app ids are numbers).
        type: str
  purge_policies:
    description:
      - Remove the items not listed in O(policies) (within O(purge_scope)).
    type: bool
    default: false
  purge_scope:
    description:
      - Which unlisted items O(purge_policies) removes.
      - V(all) removes every item not listed in O(policies).
      - V(without_app_id) removes only unlisted items that have no app_id, and never turns an app's item into
        another one, so items that restrict single apps stay whoever manages them. The
        P(ipguard.cloud.office_whitelist#role) role manages the app-less items of a control this way.
    type: str
    choices: [all, without_app_id]
    default: all
  allow_open:
    description:
      - Allow an V(ALLOW) control to admit any address, that is items holding V(0.0.0.0/0) (or entries that
        together cover every address), or to lose its last item (an IP control without items does not
        restrict anything).
      - V(REFUSE) items with V(0.0.0.0/0) refuse everyone, which is safe, and need no opt-in.
    type: bool
    default: false
  apis:
    description:
      - APIs the control must be bound to (C(SetIpControlApis)). Binding an API that another IP control
        protects in that stage moves it to this control.
      - Not given, bindings are left as they are.
    type: list
    elements: dict
    suboptions:
      group_id:
        description:
          - ID of the API group, 1 to 64 letters, digits, C(-) and C(_).
        type: str
        required: true
      api_id:
        description:
          - ID of the API, 1 to 64 letters, digits, C(-) and C(_).
        type: str
        required: true
      stage_name:
        description:
          - Environment of the binding.
        type: str
        choices: [RELEASE, PRE, TEST]
        default: RELEASE
  purge_apis:
    description:
      - Unbind the control from the APIs not listed in O(apis).
      - Unbinding always names the APIs explicitly; the module never uses the form of C(RemoveIpControlApis)
        that unbinds every API of a group.
      - An unbound API has no IP control at all.
    type: bool
    default: false
  state:
    description:
      - V(present) creates or updates the control; V(absent) deletes it.
      - V(absent) refuses to delete a control that is still bound to APIs and names them; unbind them first
        (O(apis=[]) with O(purge_apis=true), or in the console). O(policies) and O(apis) cannot be combined
        with V(absent).
    type: str
    choices: [present, absent]
    default: present
notes:
  - A run that changes nothing only reads - the control lookup, its items, and its bindings when O(apis) is
    given.
  - C(DeleteIpControl) succeeds for an id that does not exist, so the module looks the control up first and
    reports V(changed=false) when it is missing.
  - Whether the API's name filter matches exactly is not documented; names are compared exactly here and
    every page of results is read.
  - C(ModifyIpControl) is always sent with both the name and the description, whichever of them changes, in
    case the API clears an omitted one.
  - The API documentation says an IP control without policy items is ineffective; the module takes the safe
    reading that an emptied V(ALLOW) control admits everyone, hence O(allow_open) to remove its last item.
  - A write whose answer is lost (a timeout, a reset connection, a 5xx) is never simply sent again. The control,
    its items and its bindings are read again and the change is planned anew, so an item or control that did land
    is not created twice. C(CreateIpControl) and C(AddIpControlPolicyItem) are never sent again after a timeout,
    since the first may still land. When the state cannot be read either, the task fails with V(changed=true), and
    the message says that the write may have been applied.
seealso:
  - module: ipguard.cloud.alicloud_apigateway_ip_control_info
'''

EXAMPLES = r'''
- name: Keep the partner IP control right
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.alicloud:
      region: cn-hangzhou
  tasks:
    - name: Allow the office and one partner app
      ipguard.cloud.alicloud_apigateway_ip_control:
        name: partner_allow
        ip_control_type: ALLOW
        description: Office egress and the partner's app
        policies:
          - cidrs: [203.0.113.0/24, 198.51.100.7]
          - cidrs: [192.0.2.0/28]
            app_id: "110843374"
        purge_policies: true
        apis:
          - group_id: 523e8dc7bbe04613b5b1d726c2a7889d
            api_id: 2c3b7a0e1bd64a0d8c1c1a8d6a5bb2cf
            stage_name: RELEASE

    - name: Refuse a range on the public APIs
      ipguard.cloud.alicloud_apigateway_ip_control:
        name: block_scanners
        ip_control_type: REFUSE
        policies:
          - cidrs: [192.0.2.128/25]

    - name: Unbind a retired control from every API it protects
      ipguard.cloud.alicloud_apigateway_ip_control:
        name: old_allow
        apis: []
        purge_apis: true

    - name: Delete it
      ipguard.cloud.alicloud_apigateway_ip_control:
        name: old_allow
        state: absent
'''

RETURN = r'''
ip_control:
  description:
    - The control after the run (predicted in check mode), or an empty dict after O(state=absent).
  returned: always
  type: dict
  contains:
    ip_control_id:
      description: ID of the control; null in check mode when it would be created.
      type: str
      sample: 7ea91319a34d48a09b5c9c871d9768b1
    name:
      description: Name of the control.
      type: str
      sample: partner_allow
    type:
      description: V(ALLOW) or V(REFUSE).
      type: str
      sample: ALLOW
    description:
      description: Description of the control.
      type: str
      sample: Office egress and the partner's app
    policy_items:
      description:
        - The policy items, sorted by app_id, then entries.
        - Each item has C(policy_item_id), C(app_id) (null for items without one) and C(cidrs) (canonical and sorted).
        - C(policy_item_id) is null in check mode for items that would be added.
      type: list
      elements: dict
      sample:
        - policy_item_id: P151617000829241
          app_id: null
          cidrs: [198.51.100.7, 203.0.113.0/24]
        - policy_item_id: P173130463916215
          app_id: "110843374"
          cidrs: [192.0.2.0/28]
    apis:
      description: The APIs the control is bound to (C(group_id), C(api_id), C(stage_name)), sorted.
      returned: when O(apis) is given
      type: list
      elements: dict
      sample:
        - group_id: 523e8dc7bbe04613b5b1d726c2a7889d
          api_id: 2c3b7a0e1bd64a0d8c1c1a8d6a5bb2cf
          stage_name: RELEASE
request_ids:
  description: Request IDs of the write calls made, in order.
  returned: always
  type: list
  elements: str
  sample: [CEF72CEB-54B6-4AE8-B225-F876FF7BZ004]
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud import APIGATEWAY, alicloud_argument_spec, alicloud_client
from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud_apigateway import (
    CONTROL_TYPES, PURGE_ALL, PURGE_SCOPES, STAGE_NAMES, Control, apply_bindings, apply_items, apply_items_plan, check_control_name,
    check_description, check_id, control_diff, control_result, create_control, delete_control, desired_bindings, desired_items,
    find_control, list_bindings, list_items, modify_control, plan_bindings, plan_items)
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import (
    IpguardError, NotFoundError, ValidationError, fail_kwargs)
from ansible_collections.ipguard.cloud.plugins.module_utils._ipsets import APIGATEWAY_MAX_ITEMS


def argument_spec():
    spec = alicloud_argument_spec()
    spec.update(
        ip_control_id=dict(type='str'),
        name=dict(type='str'),
        ip_control_type=dict(type='str', choices=list(CONTROL_TYPES)),
        description=dict(type='str'),
        policies=dict(type='list', elements='dict', options=dict(
            cidrs=dict(type='list', elements='str', required=True),
            app_id=dict(type='str'),
        )),
        purge_policies=dict(type='bool', default=False),
        purge_scope=dict(type='str', choices=list(PURGE_SCOPES), default=PURGE_ALL),
        allow_open=dict(type='bool', default=False),
        apis=dict(type='list', elements='dict', options=dict(
            group_id=dict(type='str', required=True),
            api_id=dict(type='str', required=True),
            stage_name=dict(type='str', choices=list(STAGE_NAMES), default='RELEASE'),
        )),
        purge_apis=dict(type='bool', default=False),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    )
    return spec


def validate(params):
    """Every check that needs no API call; returns the desired items (or None) and bindings (or None)."""
    if params['ip_control_id'] is not None:
        check_id('ip_control_id', params['ip_control_id'], 'IP control id')
    if params['name'] is not None:
        check_control_name(params['name'])
    check_description(params['description'])
    if params['state'] == 'absent':
        given = [option for option in ('policies', 'apis') if params[option] is not None]
        if given:
            raise ValidationError('%s cannot be combined with state=absent, which deletes the whole control' % ' and '.join(given))
    items = None
    if params['policies'] is not None:
        items = desired_items(params['policies'], params['ip_control_type'], params['allow_open'])
    bindings = None
    if params['apis'] is not None:
        bindings = desired_bindings(params['apis'])
    return items, bindings


def delete(module, client, control):
    if control is None:
        return {'changed': False, 'ip_control': {}, 'diff': {'before': {}, 'after': {}}}
    bindings = list_bindings(client, control.ip_control_id)
    if bindings:
        raise IpguardError('IP control %s (%s) is still bound to %d API(s): %s; unbind them first (apis: [] with purge_apis: true, '
                           'or in the console)' % (control.ip_control_id, control.name, len(bindings), ', '.join(
                               'group %s api %s stage %s' % binding for binding in sorted(bindings))))
    items = list_items(client, control.ip_control_id)
    if not module.check_mode:
        delete_control(client, control.ip_control_id)
    return {'changed': True, 'ip_control': {}, 'diff': {'before': control_diff(control, items), 'after': {}}}


def check_items_plan(control, plan, allow_open):
    if len(plan.after) > APIGATEWAY_MAX_ITEMS:
        raise ValidationError('IP control %r would hold %d items, counting the unlisted items kept without purge_policies; '
                              'it holds at most %d' % (control.name, len(plan.after), APIGATEWAY_MAX_ITEMS))
    if control.type == 'ALLOW' and plan.before and not plan.after and not allow_open:
        raise ValidationError('removing every item of ALLOW control %r leaves it restricting nothing; set allow_open=true if that is intended'
                              % control.name)


def create(module, client, desired, bindings):
    params = module.params
    if params['ip_control_id'] is not None:
        raise NotFoundError('IP control %s does not exist; to create a control, give its name without ip_control_id' % params['ip_control_id'])
    if params['ip_control_type'] is None:
        raise ValidationError('ip_control_type is required to create IP control %r' % params['name'])
    control = Control(None, params['name'], params['ip_control_type'], params['description'] or '')
    items_plan = plan_items([], desired or [])
    bindings_plan = plan_bindings([], bindings or [])
    items_after = items_plan.after
    if not module.check_mode:
        control = control._replace(ip_control_id=create_control(client, control.name, control.type, params['description'], items_plan.after))
        if items_plan.after:
            # CreateIpControl answers with the control id only; the new items' ids need a read.
            items_after = list_items(client, control.ip_control_id)
        apply_bindings(client, control.ip_control_id, bindings_plan)
    bindings_after = bindings_plan.after if bindings is not None else None
    return {'changed': True, 'ip_control': control_result(control, items_after, bindings_after),
            'diff': {'before': {}, 'after': control_diff(control, items_after, bindings_after)}}


def update(module, client, control, desired, bindings):
    params = module.params
    if params['ip_control_type'] not in (None, control.type):
        raise ValidationError('IP control %s (%s) is a %s control; its type cannot be changed to %s. Delete it and create it again '
                              'if that is really meant' % (control.ip_control_id, control.name, control.type, params['ip_control_type']))
    if desired is not None and params['ip_control_type'] is None:
        desired = desired_items(params['policies'], control.type, params['allow_open'])
    current_items = list_items(client, control.ip_control_id)
    if desired is None:
        items_plan = plan_items(current_items, current_items)
    else:
        items_plan = plan_items(current_items, desired, params['purge_policies'], params['purge_scope'])
        check_items_plan(control, items_plan, params['allow_open'])
    current_bindings = bindings_plan = None
    if bindings is not None:
        current_bindings = list_bindings(client, control.ip_control_id)
        bindings_plan = plan_bindings(current_bindings, bindings, params['purge_apis'])
    after = control._replace(
        name=params['name'] if params['name'] is not None else control.name,
        description=params['description'] if params['description'] is not None else control.description)
    bindings_changed = bindings_plan is not None and bool(bindings_plan.to_bind or bindings_plan.to_unbind)
    changed = after != control or items_plan.changed or bindings_changed
    items_after = items_plan.after
    if not module.check_mode:
        if after != control:
            modify_control(client, control.ip_control_id, after.name, after.description)
        new_ids = apply_items(client, control.ip_control_id, items_plan)
        items_after = apply_items_plan(current_items, items_plan, new_ids)
        if bindings_plan is not None:
            apply_bindings(client, control.ip_control_id, bindings_plan)
    bindings_after = bindings_plan.after if bindings_plan is not None else None
    return {'changed': changed, 'ip_control': control_result(after, items_after, bindings_after),
            'diff': {'before': control_diff(control, current_items, current_bindings),
                     'after': control_diff(after, items_after, bindings_after)}}


def run(module, client, desired, bindings):
    params = module.params
    control = find_control(client, params['ip_control_id'], params['name'])
    if params['state'] == 'absent':
        result = delete(module, client, control)
    elif control is None:
        result = create(module, client, desired, bindings)
    else:
        result = update(module, client, control, desired, bindings)
    if not module._diff:
        del result['diff']
    result['request_ids'] = list(client.write_request_ids)
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_one_of=[('ip_control_id', 'name')],
        supports_check_mode=True,
    )
    client = None
    try:
        desired, bindings = validate(module.params)
        client = alicloud_client(module, APIGATEWAY)
        # A refused write, or one whose answer was lost, is not replayed: the whole control is read
        # and planned again, so what did land is not sent twice.
        result = client.retry_policy.converge(lambda retry: run(module, client, desired, bindings), client)
        result['changed'] = client.wrote if not module.check_mode else result['changed']
    except IpguardError as error:
        module.fail_json(**fail_kwargs(error, client))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
