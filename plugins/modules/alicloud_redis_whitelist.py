#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: alicloud_redis_whitelist
short_description: Manage one IP whitelist group of an Alibaba Cloud Redis (Tair) instance
version_added: 1.0.0
description:
  - Adds IPv4 addresses and CIDR blocks to, or removes them from, one whitelist group (security IP group) of an
    ApsaraDB for Redis / Tair instance, or removes the group.
  - Entries are compared as sets after normalising (V(10.0.0.1) equals V(10.0.0.1/32)); order and duplicates do not matter.
  - Additions use C(ModifySecurityIps) with C(ModifyMode=Append) and removals C(ModifyMode=Delete), which the service applies
    as set operations, so concurrent writers do not overwrite each other. C(ModifyMode=Cover) is only used with O(purge_ips=true).
    C(ModifyMode) and C(SecurityIpGroupName) are always sent, because the API would otherwise overwrite the C(default) group.
  - Nothing outside the named group is changed. System groups (V(ali_dms_group), V(hdm_security_ips) and groups marked
    C(hidden)) are refused.
  - Every option is validated before the first API call. A run that changes nothing makes exactly one C(DescribeSecurityIps) call.
author:
  - ipguard.cloud maintainers (@ipguard)
extends_documentation_fragment:
  - ipguard.cloud._alicloud
  - ipguard.cloud._alicloud_redis
  - ipguard.cloud._alicloud_redis.whitelist_group
  - ipguard.cloud._connection
  - ipguard.cloud._attributes
  - ipguard.cloud._attributes.alicloud_group
options:
  instance_id:
    description:
      - ID of the Redis instance, for example V(r-bp1zxszhcgatnx1234).
    type: str
    required: true
notes:
  - Entries are added with C(ModifyMode=Append) and removed with C(ModifyMode=Delete), set operations on the server, so
    concurrent runs that add or remove different entries all keep their changes. C(ModifyMode=Cover) is only used with
    O(purge_ips=true).
  - The documentation of C(ModifyMode=Delete) is ambiguous (remove the listed entries, or delete the group). The module is
    safe under both readings. After every write the managed group is read back once, and only what this task changed is
    checked. Entries this task added that are missing, or removed entries that are still there, fail the task. Entries
    the task kept that vanished are never added back, since that could restore access somebody revoked. If they vanished
    because another writer removed them, the task warns. If the whole group vanished (what a group-dropping
    C(ModifyMode=Delete) would do), the task fails and names them.
  - Other groups are never read back or judged; changes other writers make to them are not conflicts.
  - A write that is throttled or refused by a busy instance, or whose answer is lost (a timeout, a reset connection, a 5xx),
    is never simply sent again. The group is read again first and the change is planned anew from what it holds, so a
    write that landed is not repeated. When even that read fails, the task fails with C(changed=true), and the message
    says that the write may have been applied.
  - Whether C(ModifyMode=Append) and C(ModifyMode=Cover) keep C(SecurityIpGroupAttribute) when it is not sent is not
    documented, so with O(hidden=true) every write that keeps the group sends C(SecurityIpGroupAttribute=hidden). Hiding a
    group without adding entries re-sends the entries it holds with C(ModifyMode=Append), which changes nothing else.
  - Busy-instance errors (C(IncorrectDBInstanceState) and similar) and throttling are retried with backoff, see O(retries).
  - A user-created hidden group (O(hidden=true)) is written like any other group; groups that DMS, DAS or DTS create are
    refused by the API itself.
  - In check mode the returned RV(whitelist) and RV(groups) are the planned state.
seealso:
  - module: ipguard.cloud.alicloud_redis_whitelist_info
  - module: ipguard.cloud.alicloud_redis_security_groups
'''

EXAMPLES = r'''
- name: Keep the office and the app servers in the whitelist of the orders cache
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.alicloud:
      region: cn-hangzhou
  tasks:
    - name: Allow the office and the app subnet
      ipguard.cloud.alicloud_redis_whitelist:
        instance_id: r-bp1zxszhcgatnx1234
        group_name: office
        ips:
          - 203.0.113.0/24
          - 10.20.0.0/16

    - name: The app group holds exactly these entries
      ipguard.cloud.alicloud_redis_whitelist:
        instance_id: r-bp1zxszhcgatnx1234
        group_name: app_servers
        ips: "{{ app_server_ips }}"
        purge_ips: true

    - name: Remove one leaver's address
      ipguard.cloud.alicloud_redis_whitelist:
        instance_id: r-bp1zxszhcgatnx1234
        group_name: office
        ips: [198.51.100.7]
        state: absent

    - name: Remove the temporary group
      ipguard.cloud.alicloud_redis_whitelist:
        instance_id: r-bp1zxszhcgatnx1234
        group_name: migration
        state: absent
'''

RETURN = r'''
whitelist:
  description: The managed group after the change (the planned state in check mode); empty when the group does not exist.
  returned: always
  type: dict
  contains:
    group_name:
      description: Name of the group.
      type: str
      sample: office
    ips:
      description: Entries of the group, sorted.
      type: list
      elements: str
      sample: [10.20.0.0/16, 203.0.113.0/24]
    attribute:
      description: The group's C(SecurityIpGroupAttribute), V(hidden) or empty.
      type: str
      sample: ''
  sample: {group_name: office, ips: [10.20.0.0/16, 203.0.113.0/24], attribute: ''}
groups:
  description: Every whitelist group of the instance after the change, sorted by name.
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
      description: Whether this is a system group (V(ali_dms_group), V(hdm_security_ips) or hidden), which the module never changes.
      type: bool
      sample: false
  sample:
    - {group_name: ali_dms_group, ips: [100.104.0.0/16], attribute: hidden, system: true}
    - {group_name: default, ips: [127.0.0.1], attribute: '', system: false}
    - {group_name: office, ips: [10.20.0.0/16, 203.0.113.0/24], attribute: '', system: false}
request_ids:
  description: RequestId of each write call (C(ModifySecurityIps)), in order; empty when nothing was written.
  returned: always
  type: list
  elements: str
  sample: [AAAF99B1-69ED-4E80-8CD5-272C09E4A1B2]
diff:
  description: Before and after of the managed group (with its attribute when O(hidden) is set); only with C(--diff).
  returned: when diff mode is on
  type: dict
  sample: {before: {group_name: office, ips: [203.0.113.0/24]}, after: {group_name: office, ips: [10.20.0.0/16, 203.0.113.0/24]}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud import REDIS, alicloud_argument_spec, alicloud_client
from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud_redis import (
    apply_whitelist, find_group, plan_whitelist, read_whitelist, validate_whitelist_request, whitelist_group_spec)
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import IpguardError, fail_kwargs


def main():
    argument_spec = alicloud_argument_spec()
    argument_spec.update(instance_id=dict(type='str', required=True), **whitelist_group_spec())
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    client = None
    try:
        request = validate_whitelist_request(module.params)
        client = alicloud_client(module, REDIS)
        groups = read_whitelist(client, request.instance_id)
        plan = plan_whitelist(request, groups)
        changed = plan.changed
        if plan.changed and not module.check_mode:
            applied = apply_whitelist(client, request, plan, module.params['wait'], module.params['wait_timeout'])
            # Another writer may have made the change while this run waited: then nothing was written.
            changed = client.wrote
            groups = applied.groups
            for warning in applied.warnings:
                module.warn(warning)
        else:
            groups = plan.planned_groups(groups)
        managed = find_group(groups, request.group_name)
        result = dict(
            changed=changed,
            whitelist=managed.as_whitelist() if managed else {},
            groups=[group.as_listed() for group in groups],
            request_ids=list(client.write_request_ids),
        )
        if module._diff:
            result['diff'] = plan.diff()
        module.exit_json(**result)
    except IpguardError as error:
        module.fail_json(**fail_kwargs(error, client))


if __name__ == '__main__':
    main()
