#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: alicloud_redis_security_groups
short_description: Manage the ECS security groups bound to an Alibaba Cloud Redis (Tair) instance
version_added: 1.0.0
description:
  - Binds ECS security groups to an ApsaraDB for Redis / Tair instance, or unbinds them. An address allowed by a bound
    security group can reach the instance in addition to the whitelist groups.
  - C(ModifySecurityGroupConfiguration) replaces the whole bound set, so the module reads the current set, merges the change,
    writes the result and reads it back. The task fails when the set read back is not the planned one (somebody else changed
    it meanwhile).
  - Every option is validated before the first API call. A run that changes nothing makes exactly one
    C(DescribeSecurityGroupConfiguration) call.
author:
  - ipguard.cloud maintainers (@ipguard)
extends_documentation_fragment:
  - ipguard.cloud._alicloud
  - ipguard.cloud._alicloud_redis
  - ipguard.cloud._connection
  - ipguard.cloud._attributes
  - ipguard.cloud._attributes.alicloud_group
options:
  instance_id:
    description:
      - ID of the Redis instance, for example V(r-bp1zxszhcgatnx1234).
    type: str
    required: true
  security_group_ids:
    description:
      - ECS security group IDs (V(sg-) followed by letters and digits), in the instance's region.
      - With O(state=present) they are bound; with O(state=absent) they are unbound.
      - At most 10 security groups can be bound to an instance, counting those already bound.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) binds O(security_group_ids) (and with O(purge_security_groups=true) unbinds every other group).
      - V(absent) unbinds O(security_group_ids).
    type: str
    choices: [present, absent]
    default: present
  purge_security_groups:
    description:
      - With O(state=present), bind exactly O(security_group_ids), unbinding every other group.
      - Setting it with O(state=absent) is an error, since it would mean nothing.
    type: bool
    default: false
notes:
  - Unbinding every security group would need an empty C(SecurityGroupId), which the API marks as required; whether it is
    accepted is not documented, so such a change is refused. Keep at least one group bound.
  - Busy-instance errors and throttling are retried with backoff, see O(retries).
  - C(ModifySecurityGroupConfiguration) replaces the whole bound set, so each write sends a set planned from a read made right
    before it. After a refusal, a lost answer, or a read-back showing that another writer's overwrite undid this change,
    the set is read again and planned anew, never replayed. Groups this task kept that another writer unbound meanwhile
    are warned about, never bound again.
  - In check mode the returned RV(security_group_ids) are the planned ones.
seealso:
  - module: ipguard.cloud.alicloud_redis_security_groups_info
  - module: ipguard.cloud.alicloud_redis_whitelist
'''

EXAMPLES = r'''
- name: Let the app servers' security group reach the orders cache
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.alicloud:
      region: cn-hangzhou
  tasks:
    - name: Bind the app servers' security group
      ipguard.cloud.alicloud_redis_security_groups:
        instance_id: r-bp1zxszhcgatnx1234
        security_group_ids:
          - sg-bp1d5u6xq7j5s4ab1234

    - name: Bind exactly these two groups
      ipguard.cloud.alicloud_redis_security_groups:
        instance_id: r-bp1zxszhcgatnx1234
        security_group_ids:
          - sg-bp1d5u6xq7j5s4ab1234
          - sg-bp1fg655nh68xyz91234
        purge_security_groups: true

    - name: Unbind the retired batch servers
      ipguard.cloud.alicloud_redis_security_groups:
        instance_id: r-bp1zxszhcgatnx1234
        security_group_ids: [sg-bp1fg655nh68xyz91234]
        state: absent
'''

RETURN = r'''
security_group_ids:
  description: IDs of the security groups bound after the change (the planned ones in check mode), sorted.
  returned: always
  type: list
  elements: str
  sample: [sg-bp1d5u6xq7j5s4ab1234, sg-bp1fg655nh68xyz91234]
request_ids:
  description: RequestId of each write call (C(ModifySecurityGroupConfiguration)); empty when nothing was written.
  returned: always
  type: list
  elements: str
  sample: [C9E5A2B1-0F3D-4C1E-9A77-5D1C2B3A4F56]
diff:
  description: Bound security group IDs before and after; only with C(--diff).
  returned: when diff mode is on
  type: dict
  sample: {before: {security_group_ids: [sg-bp1d5u6xq7j5s4ab1234]}, after: {security_group_ids: [sg-bp1d5u6xq7j5s4ab1234, sg-bp1fg655nh68xyz91234]}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud import REDIS, alicloud_argument_spec, alicloud_client
from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud_redis import (
    apply_security_groups, describe_security_groups, plan_security_groups, security_groups_diff, validate_security_groups_request)
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import IpguardError, fail_kwargs


def main():
    argument_spec = alicloud_argument_spec()
    argument_spec.update(
        instance_id=dict(type='str', required=True),
        security_group_ids=dict(type='list', elements='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        purge_security_groups=dict(type='bool', default=False),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=300),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    client = None
    try:
        request = validate_security_groups_request(module.params)
        client = alicloud_client(module, REDIS)
        bound = [relation['security_group_id'] for relation in describe_security_groups(client, request.instance_id)]
        plan = plan_security_groups(request, bound)
        if plan.changed and not module.check_mode:
            applied = apply_security_groups(client, request, plan, module.params['wait'], module.params['wait_timeout'])
            bound = [relation['security_group_id'] for relation in applied.relations]
            for warning in applied.warnings:
                module.warn(warning)
        else:
            bound = list(plan.after or ())
        result = dict(changed=plan.changed and (module.check_mode or client.wrote), security_group_ids=bound, request_ids=list(client.write_request_ids))
        if module._diff:
            result['diff'] = security_groups_diff(plan)
        module.exit_json(**result)
    except IpguardError as error:
        module.fail_json(**fail_kwargs(error, client))


if __name__ == '__main__':
    main()
