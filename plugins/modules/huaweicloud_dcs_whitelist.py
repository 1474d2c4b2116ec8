#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: huaweicloud_dcs_whitelist
short_description: Manage one IP whitelist group of a Huawei Cloud DCS instance
version_added: 1.0.0
description:
  - Adds or removes IPv4 addresses and CIDR blocks in one whitelist group of a Huawei Cloud Distributed Cache Service (DCS)
    Redis instance, creates or removes that group, and enables or disables the instance's whitelist.
  - The DCS API only writes the whole whitelist at once, so the module reads every group, changes only the named one, sends
    all of them back unchanged, and reads the result back. It fails, without repairing anything, when another group changed
    while it wrote.
  - Adding entries to a group uses the additive C(POST .../whitelist-async) call and waits for its job. Every other change
    (removing entries, purging, removing the group, enabling or disabling) writes the whole whitelist with C(PUT .../whitelist).
  - Entries are compared as sets after normalising, so V(10.0.0.1) and V(10.0.0.1/32) are the same entry.
author: ipguard.cloud maintainers (@ipguard)
extends_documentation_fragment:
  - ipguard.cloud._huaweicloud
  - ipguard.cloud._huaweicloud_dcs.whitelist_group
  - ipguard.cloud._connection
  - ipguard.cloud._attributes
  - ipguard.cloud._attributes.huaweicloud_group
options:
  instance_id:
    description:
      - ID of the DCS instance.
    type: str
    required: true
notes:
  - The DCS whitelist exists for Redis 4.0 and later; Redis 3.0 and Memcached instances use security groups, and the module
    fails on them with a message saying so.
  - C(PUT .../whitelist) sends every group back, and the DCS API has no conditional write, so two writers that overlap can undo
    each other's change without an error. The module reads and plans again right before every C(PUT) (after waiting for the
    instance to be C(RUNNING)), so the copy it sends is at most one round trip old. With O(wait=true) it then checks that
    the whitelist shows its change, and checks once more 2 seconds later (or four times the slowest round trip, if longer).
    If another writer undid the change, it reads, plans and writes again, at most O(retries) times, and then fails loudly
    with V(changed=true). Two runs that change the same instance at once both end with their change in place, or one fails
    within seconds.
  - Whether C(POST .../whitelist-async) merges entries into an existing group or replaces its list is not documented, so the
    module uses it only to create a new group and changes existing groups with C(PUT). Where the call does not exist
    (HTTP 404), the group is created with C(PUT) too, planned from a fresh read.
  - Whether whitelist job ids can be polled with C(GET /v2/{project_id}/jobs/{job_id}) is UNCONFIRMED. When the job API
    does not know the job, the module watches the whitelist until the change shows.
  - A write that is refused (throttling, busy instance), or whose answer is lost (a timeout, a reset connection, a 5xx), is
    never sent again as it was. The whitelist is read again and the change planned anew. After a lost C(POST) answer, the
    change is made with C(PUT), so the C(POST) is never repeated blindly. When even the read fails, the task fails with
    V(changed=true), and the message says that the write may have been applied.
  - Enabling a whitelist that holds no group is allowed, with a warning; Huawei documents an instance without groups as open to
    its whole VPC. Whether the API accepts it is UNCONFIRMED.
  - The total number of entries across all groups is checked against the limit the API reports for the instance
    (C(whitelist_ip_limit_num)), or 20 when it reports none, before anything is written.
seealso:
  - module: ipguard.cloud.huaweicloud_dcs_whitelist_info
'''

EXAMPLES = r'''
- name: Keep the office in the app cache's whitelist
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.huaweicloud:
      region: cn-north-4
      project_id: "{{ huawei_project_id }}"
  tasks:
    - name: Add the office ranges to the office group
      ipguard.cloud.huaweicloud_dcs_whitelist:
        instance_id: 5560df16-cebf-4473-95c4-d1b573c16e79
        group_name: office
        ips:
          - 203.0.113.0/24
          - 198.51.100.7

    - name: Make the app-servers group hold exactly the app subnet
      ipguard.cloud.huaweicloud_dcs_whitelist:
        instance_id: 5560df16-cebf-4473-95c4-d1b573c16e79
        group_name: app-servers
        ips: [10.0.0.0/24]
        purge_ips: true

    - name: Remove one address from the office group
      ipguard.cloud.huaweicloud_dcs_whitelist:
        instance_id: 5560df16-cebf-4473-95c4-d1b573c16e79
        group_name: office
        ips: [198.51.100.7]
        state: absent

    - name: Remove the office group
      ipguard.cloud.huaweicloud_dcs_whitelist:
        instance_id: 5560df16-cebf-4473-95c4-d1b573c16e79
        group_name: office
        state: absent

    - name: Turn the whitelist on, leaving the groups as they are
      ipguard.cloud.huaweicloud_dcs_whitelist:
        instance_id: 5560df16-cebf-4473-95c4-d1b573c16e79
        group_name: app-servers
        enable_whitelist: true
'''

RETURN = r'''
whitelist:
  description:
    - The managed group after the change (or as it would be, in check mode); empty when the group does not exist.
  returned: always
  type: dict
  contains:
    group_name:
      description: Name of the group.
      type: str
      sample: office
    ips:
      description: Entries of the group, normalised and sorted.
      type: list
      elements: str
      sample: [198.51.100.7, 203.0.113.0/24]
  sample: {group_name: office, ips: [198.51.100.7, 203.0.113.0/24]}
groups:
  description:
    - Every whitelist group of the instance after the change, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    group_name:
      description: Name of the group.
      type: str
      sample: app-servers
    ips:
      description: Entries of the group, normalised and sorted.
      type: list
      elements: str
      sample: [10.0.0.0/24]
  sample: [{group_name: app-servers, ips: [10.0.0.0/24]}, {group_name: office, ips: [198.51.100.7, 203.0.113.0/24]}]
enable_whitelist:
  description: Whether the instance's whitelist is enforced after the change.
  returned: always
  type: bool
  sample: true
job_ids:
  description: IDs of the DCS jobs started by the change (the additive C(POST .../whitelist-async) call).
  returned: always
  type: list
  elements: str
  sample: [ff8080817fe01bb2017fe3cf68860481]
request_ids:
  description: The C(X-Request-Id) of every write call.
  returned: always
  type: list
  elements: str
  sample: [5d3c9e7b0a6f4d2e8c1b2a3f4e5d6c7b]
diff:
  description: The managed group and the enabled flag before and after, when diff mode is on.
  returned: when diff mode is on
  type: dict
  sample:
    before: {enable_whitelist: true}
    after: {enable_whitelist: true, group_name: office, ips: [203.0.113.0/24]}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import IpguardError, fail_kwargs
from ansible_collections.ipguard.cloud.plugins.module_utils._huaweicloud import DCS, huaweicloud_argument_spec, huaweicloud_client
from ansible_collections.ipguard.cloud.plugins.module_utils._huaweicloud_dcs import (
    AppliedChange, apply_whitelist, group_result, plan_whitelist, read_whitelist, validate_request, whitelist_group_spec)


def argument_spec():
    spec = huaweicloud_argument_spec()
    spec.update(instance_id=dict(type='str', required=True), **whitelist_group_spec())
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    client = None
    try:
        request = validate_request(params)
        client = huaweicloud_client(module, DCS)
        plan = plan_whitelist(request, read_whitelist(client, request.instance_id))
        applied = AppliedChange(plan, plan.after, [])
        if plan.changed and not module.check_mode:
            applied = apply_whitelist(client, request, plan, params['wait'], params['wait_timeout'])
    except IpguardError as error:
        module.fail_json(**fail_kwargs(error, client))

    for warning in applied.plan.warnings:
        module.warn(warning)
    result = dict(
        # Another writer may have made the change while this run waited: then nothing was written.
        changed=plan.changed and (module.check_mode or client.wrote),
        whitelist=group_result(applied.whitelist.group(request.group_name)),
        groups=applied.whitelist.as_result(),
        enable_whitelist=applied.whitelist.enabled,
        job_ids=applied.job_ids,
        request_ids=list(client.write_request_ids),
    )
    if module._diff:
        result['diff'] = plan.diff()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
