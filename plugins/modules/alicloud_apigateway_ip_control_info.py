#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: alicloud_apigateway_ip_control_info
short_description: List Alibaba Cloud API Gateway IP controls with their policy items
version_added: 1.0.0
author: ipguard.cloud maintainers (@ipguard)
description:
  - Returns the IP controls of API Gateway in a region, one by O(ip_control_id), those with an exact O(name),
    or all of them, each with its policy items.
  - Every page of results is read.
extends_documentation_fragment:
  - ipguard.cloud._alicloud
  - ipguard.cloud._connection
  - ipguard.cloud._attributes.info_module
  - ipguard.cloud._attributes.alicloud_group
options:
  ip_control_id:
    description:
      - Only the control with this ID (1 to 64 letters, digits, C(-) and C(_)).
    type: str
  name:
    description:
      - Only the controls with exactly this name (several controls may share a name).
    type: str
  include_apis:
    description:
      - Also return the APIs each control is bound to (one more paged read per control).
    type: bool
    default: false
seealso:
  - module: ipguard.cloud.alicloud_apigateway_ip_control
'''

EXAMPLES = r'''
- name: Audit the IP controls
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.alicloud:
      region: cn-hangzhou
  tasks:
    - name: Read every IP control with its items and bindings
      ipguard.cloud.alicloud_apigateway_ip_control_info:
        include_apis: true
      register: controls

    - name: Read one control by name
      ipguard.cloud.alicloud_apigateway_ip_control_info:
        name: partner_allow
      register: partner

    - name: Show its entries
      ansible.builtin.debug:
        msg: "{{ partner.ip_controls | map(attribute='policy_items') | flatten | map(attribute='cidrs') | flatten }}"
'''

RETURN = r'''
ip_controls:
  description: The matching controls, sorted by name then id; empty when none matches.
  returned: always
  type: list
  elements: dict
  contains:
    ip_control_id:
      description: ID of the control.
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
        - The policy items (C(policy_item_id), C(app_id), C(cidrs)), sorted by app_id, then entries.
        - C(app_id) is null for items without one; C(cidrs) are canonical and sorted.
      type: list
      elements: dict
      sample:
        - policy_item_id: P151617000829241
          app_id: null
          cidrs: [198.51.100.7, 203.0.113.0/24]
    apis:
      description: The APIs the control is bound to (C(group_id), C(api_id), C(stage_name)), sorted.
      returned: when O(include_apis=true)
      type: list
      elements: dict
      sample:
        - group_id: 523e8dc7bbe04613b5b1d726c2a7889d
          api_id: 2c3b7a0e1bd64a0d8c1c1a8d6a5bb2cf
          stage_name: RELEASE
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud import APIGATEWAY, alicloud_argument_spec, alicloud_client
from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud_apigateway import (
    check_control_name, check_id, control_result, list_bindings, list_controls, list_items)
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import IpguardError, fail_kwargs


def argument_spec():
    spec = alicloud_argument_spec()
    spec.update(
        ip_control_id=dict(type='str'),
        name=dict(type='str'),
        include_apis=dict(type='bool', default=False),
    )
    return spec


def run(module):
    params = module.params
    if params['ip_control_id'] is not None:
        check_id('ip_control_id', params['ip_control_id'], 'IP control id')
    if params['name'] is not None:
        check_control_name(params['name'])
    client = alicloud_client(module, APIGATEWAY)
    controls = []
    for control in list_controls(client, params['ip_control_id'], params['name']):
        items = list_items(client, control.ip_control_id)
        bindings = list_bindings(client, control.ip_control_id) if params['include_apis'] else None
        controls.append(control_result(control, items, bindings))
    return {'changed': False, 'ip_controls': controls}


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run(module)
    except IpguardError as error:
        module.fail_json(**fail_kwargs(error))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
