#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: alicloud_redis_security_groups_info
short_description: List the ECS security groups bound to an Alibaba Cloud Redis (Tair) instance
version_added: 1.0.0
description:
  - Reads the ECS security groups bound to an ApsaraDB for Redis / Tair instance with one C(DescribeSecurityGroupConfiguration) call.
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
seealso:
  - module: ipguard.cloud.alicloud_redis_security_groups
'''

EXAMPLES = r'''
- name: Show which security groups guard the orders cache
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.alicloud:
      region: cn-hangzhou
  tasks:
    - name: Read the bound security groups
      ipguard.cloud.alicloud_redis_security_groups_info:
        instance_id: r-bp1zxszhcgatnx1234
      register: orders_cache

    - name: Print their IDs
      ansible.builtin.debug:
        msg: "{{ orders_cache.security_groups | map(attribute='security_group_id') | list }}"
'''

RETURN = r'''
security_groups:
  description: The ECS security groups bound to the instance, sorted by ID.
  returned: always
  type: list
  elements: dict
  contains:
    security_group_id:
      description: ID of the security group.
      type: str
      sample: sg-bp1d5u6xq7j5s4ab1234
    region_id:
      description: Region of the security group.
      type: str
      sample: cn-hangzhou
    net_type:
      description: Network type of the binding as the API reports it.
      type: str
      sample: vpc
  sample:
    - {security_group_id: sg-bp1d5u6xq7j5s4ab1234, region_id: cn-hangzhou, net_type: vpc}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud import REDIS, alicloud_argument_spec, alicloud_client
from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud_redis import check_instance_id, describe_security_groups
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import IpguardError, fail_kwargs


def main():
    argument_spec = alicloud_argument_spec()
    argument_spec.update(
        instance_id=dict(type='str', required=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        check_instance_id(module.params['instance_id'])
        client = alicloud_client(module, REDIS)
        module.exit_json(changed=False, security_groups=describe_security_groups(client, module.params['instance_id']))
    except IpguardError as error:
        module.fail_json(**fail_kwargs(error))


if __name__ == '__main__':
    main()
