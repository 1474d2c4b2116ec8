#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: alicloud_redis_whitelist_info
short_description: List the IP whitelist groups of an Alibaba Cloud Redis (Tair) instance
version_added: 1.0.0
description:
  - Reads every whitelist group (security IP group) of an ApsaraDB for Redis / Tair instance with one C(DescribeSecurityIps) call,
    system groups included and marked.
author:
  - ipguard.cloud maintainers (@ipguard)
extends_documentation_fragment:
  - ipguard.cloud._alicloud
  - ipguard.cloud._connection
  - ipguard.cloud._attributes.info_module
  - ipguard.cloud._attributes.alicloud_group
options:
  instance_id:
    description:
      - ID of the Redis instance, for example V(r-bp1zxszhcgatnx1234).
    type: str
    required: true
  group_name:
    description:
      - Only return the group of this name (an empty list when it does not exist).
    type: str
seealso:
  - module: ipguard.cloud.alicloud_redis_whitelist
'''

EXAMPLES = r'''
- name: Show who may reach the orders cache
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.alicloud:
      region: cn-hangzhou
  tasks:
    - name: Read the whitelist groups
      ipguard.cloud.alicloud_redis_whitelist_info:
        instance_id: r-bp1zxszhcgatnx1234
      register: orders_cache

    - name: Print the groups we manage
      ansible.builtin.debug:
        msg: "{{ orders_cache.groups | rejectattr('system') | list }}"

    - name: Read only the office group
      ipguard.cloud.alicloud_redis_whitelist_info:
        instance_id: r-bp1zxszhcgatnx1234
        group_name: office
      register: office
'''

RETURN = r'''
groups:
  description: The whitelist groups of the instance (only O(group_name) when given), sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    group_name:
      description: Name of the group.
      type: str
      sample: default
    ips:
      description: Entries of the group, sorted.
      type: list
      elements: str
      sample: [127.0.0.1]
    attribute:
      description: The group's C(SecurityIpGroupAttribute), V(hidden) or empty.
      type: str
      sample: ''
    system:
      description: Whether this is a system group (V(ali_dms_group), V(hdm_security_ips) or hidden).
      type: bool
      sample: false
  sample:
    - {group_name: ali_dms_group, ips: [100.104.0.0/16], attribute: hidden, system: true}
    - {group_name: default, ips: [127.0.0.1], attribute: '', system: false}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud import REDIS, alicloud_argument_spec, alicloud_client
from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud_redis import check_instance_id, read_whitelist
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import IpguardError, fail_kwargs


def main():
    argument_spec = alicloud_argument_spec()
    argument_spec.update(
        instance_id=dict(type='str', required=True),
        group_name=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        check_instance_id(module.params['instance_id'])
        client = alicloud_client(module, REDIS)
        groups = read_whitelist(client, module.params['instance_id'])
        wanted = module.params['group_name']
        module.exit_json(changed=False, groups=[group.as_listed() for group in groups if wanted is None or group.name == wanted])
    except IpguardError as error:
        module.fail_json(**fail_kwargs(error))


if __name__ == '__main__':
    main()
