#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: alicloud_redis_whitelist_bulk
short_description: Manage one IP whitelist group on many Alibaba Cloud Redis (Tair) instances in one run
version_added: 1.0.0
description:
  - The fleet form of M(ipguard.cloud.alicloud_redis_whitelist). The same group (O(group_name)) gets the same change on every
    instance of O(instances), with the same semantics, guards and verification. Instances are read and written concurrently
    (O(concurrency)).
  - Use it for the office job over hundreds or thousands of instances. The role P(ipguard.cloud.office_whitelist#role) does.
  - One run can cover instances of several Alibaba Cloud accounts - an element of O(instances) that names a C(role_arn) is
    managed with the temporary credentials of that RAM role, assumed with the run's credentials (see O(assume_role)). Each
    role is assumed once per run, however many instances name it.
author:
  - ipguard.cloud maintainers (@ipguard)
extends_documentation_fragment:
  - ipguard.cloud._alicloud
  - ipguard.cloud._alicloud_redis
  - ipguard.cloud._alicloud_redis.whitelist_group
  - ipguard.cloud._bulk
  - ipguard.cloud._connection
  - ipguard.cloud._attributes
  - ipguard.cloud._attributes.alicloud_group
seealso:
  - module: ipguard.cloud.alicloud_redis_whitelist
'''

EXAMPLES = r'''
- name: The office CIDRs, exactly, in the office group of every cache
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.alicloud:
      region: cn-hangzhou
  tasks:
    - name: Office group everywhere
      ipguard.cloud.alicloud_redis_whitelist_bulk:
        instances:
          - r-bp1zxszhcgatnx1234
          - r-bp1zxszhcgatnx5678
          - instance_id: r-gs5abcdefgh9012
            region: ap-southeast-1
          # An instance of another account, managed with that account's role.
          - instance_id: r-uf6abcdefgh3456
            region: cn-shanghai
            role_arn: acs:ram::1234567890123456:role/ipguard-whitelist
        group_name: office
        ips: [203.0.113.0/24, 198.51.100.17]
        purge_ips: true
        concurrency: 20
      register: office

    - name: Show what changed
      ansible.builtin.debug:
        var: office.summary
'''

RETURN = r'''
results:
  description:
    - One entry per instance, in the order of O(instances).
  returned: always
  type: list
  elements: dict
  contains:
    instance_id:
      description: The instance.
      type: str
      sample: r-bp1zxszhcgatnx1234
    region:
      description: The region the instance was addressed in.
      type: str
      sample: cn-hangzhou
    role_arn:
      description: The RAM role the instance was managed with; only for instances that name one.
      type: str
      returned: when the element of O(instances) names a C(role_arn)
      sample: acs:ram::1234567890123456:role/ipguard
    changed:
      description: Whether this instance was changed (would be, in check mode).
      type: bool
      sample: true
    failed:
      description: Whether reading, planning or writing this instance failed.
      type: bool
      sample: false
    msg:
      description: Why it failed; empty when it did not.
      type: str
      sample: ''
    whitelist:
      description: The managed group after the change (the planned one in check mode), C({}) when it does not exist.
      type: dict
      sample: {group_name: office, ips: [198.51.100.17, 203.0.113.0/24], attribute: ''}
    request_ids:
      description: RequestId of this instance's C(ModifySecurityIps) calls.
      type: list
      elements: str
      sample: [AAAF99B1-69ED-4E80-8CD5-272C09E4A1B2]
    diff:
      description: Before and after of the managed group; only with C(--diff).
      type: dict
      sample: {before: {}, after: {group_name: office, ips: [198.51.100.17, 203.0.113.0/24]}}
diff:
  description: The diff of every changed instance (headers name the instance); only with C(--diff).
  returned: when diff mode is on
  type: list
  elements: dict
refused:
  description:
    - Whether the run stopped before writing anything, because an option was invalid or an instance could not be read or
      planned (here, or in another run of O(write_gate)). A failed run that is not refused wrote the instances that did
      not fail.
  returned: always
  type: bool
  sample: false
refused_by:
  description:
    - The run of O(write_gate) that could not plan all its instances, or whose process ended without reporting its plans,
      when that (and nothing of this run) stopped this run before any write.
  returned: when another run of the write gate could not plan, or ended without reporting
  type: str
  sample: huaweicloud_dcs
summary:
  description: Instance ids by outcome.
  returned: always
  type: dict
  contains:
    changed:
      description: Instances changed (or that would be, in check mode).
      type: list
      elements: str
      sample: [r-bp1zxszhcgatnx1234]
    unchanged:
      description: Instances already as asked.
      type: list
      elements: str
      sample: [r-bp1zxszhcgatnx5678]
    failed:
      description: Instances that failed.
      type: list
      elements: str
      sample: []
'''

from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud import (
    REDIS, alicloud_argument_spec, alicloud_client, check_region, check_role_arn, resolve_credentials)
from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud_redis import (
    DESCRIBE_INSTANCES_MAX_IDS, apply_whitelist, check_instance_id, find_group, instance_status, instance_statuses, normal_instance_ids,
    plan_whitelist, read_whitelist, validate_group_request, whitelist_group_spec)
from ansible_collections.ipguard.cloud.plugins.module_utils._bulk import (
    BulkModule, BulkWhitelist, CoalescedStatusReads, bulk_argument_spec, check_concurrency, first_region, parse_targets,
    ready_instance_ids, share_for_bulk)
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import IpguardError


class RedisWhitelists:
    """The per-instance steps of alicloud_redis_whitelist, for BulkWhitelist."""

    def __init__(self, base_client, request, params):
        self.base_client = base_client
        self.request = request
        self.wait = params['wait']
        self.wait_timeout = params['wait_timeout']
        self.warnings = []
        # The waits around the writes read the status with DescribeInstances, many instances a call.
        self.status_reads = CoalescedStatusReads(instance_statuses, instance_status, DESCRIBE_INSTANCES_MAX_IDS)

    def client_for(self, target):
        return self.base_client.for_instance(target.region, role_arn=target.role_arn)

    def request_for(self, target):
        return self.request._replace(instance_id=target.instance_id)

    def read(self, client, target):
        return read_whitelist(client, target.instance_id)

    def plan(self, groups, target):
        return plan_whitelist(self.request_for(target), groups)

    @staticmethod
    def changed(plan):
        return plan.changed

    def ready_to_write(self, runs, workers):
        if not self.wait:
            return frozenset()
        return ready_instance_ids(runs, lambda run: (run.client.credentials.region, run.target.role_arn), normal_instance_ids,
                                  DESCRIBE_INSTANCES_MAX_IDS, workers)

    def apply(self, client, target, plan, ready):
        batch_key = (client.credentials.region, target.role_arn)

        def read_status(status_client, instance_id):
            return self.status_reads.read(status_client, instance_id, batch_key)

        applied = apply_whitelist(client, self.request_for(target), plan, self.wait, self.wait_timeout, seen_normal=ready,
                                  read_status=read_status)
        self.warnings.extend('%s: %s' % (target.instance_id, warning) for warning in applied.warnings)
        return applied

    def result(self, run, diff):
        if run.applied is not None:
            groups = run.applied.groups
        elif run.plan is not None:
            groups = run.plan.planned_groups(run.state)
        else:
            groups = run.state or []
        managed = find_group(groups, self.request.group_name)
        entry = {'region': run.client.credentials.region or '', 'whitelist': managed.as_whitelist() if managed else {}}
        if run.target.role_arn:
            entry['role_arn'] = run.target.role_arn
        if diff and run.plan is not None:
            entry['diff'] = run.plan.diff()
        return entry


def main():
    argument_spec = alicloud_argument_spec()
    argument_spec.update(whitelist_group_spec())
    argument_spec.update(bulk_argument_spec())
    module = BulkModule(argument_spec=argument_spec, supports_check_mode=True)
    with module.telling_the_gate_when_stopped():
        run(module)


def run(module):
    try:
        module.open_write_gate()
        request = validate_group_request(module.params)
        concurrency = check_concurrency(module.params['concurrency'])
        # Every instance is checked before the client exists, so a bad element fails before any call.
        targets = parse_targets(module.params['instances'], check_instance_id, check_region,
                                default_region=resolve_credentials(module.params).region, endpoint_set=bool(module.params['endpoint']),
                                check_role_arn=check_role_arn)
        base_client = share_for_bulk(alicloud_client(module, REDIS, region=first_region(module.params['instances'])), concurrency)
    except IpguardError as error:
        module.refuse(error)
    family = RedisWhitelists(base_client, request, module.params)
    bulk_run = BulkWhitelist(family, targets, concurrency, module.check_mode, module._diff, gate=module.write_gate)
    module.run_bulk(bulk_run)


if __name__ == '__main__':
    main()
