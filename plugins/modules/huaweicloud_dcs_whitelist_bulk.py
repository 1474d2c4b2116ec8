#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: huaweicloud_dcs_whitelist_bulk
short_description: Manage one IP whitelist group on many Huawei Cloud DCS instances in one run
version_added: 1.0.0
description:
  - The fleet form of M(ipguard.cloud.huaweicloud_dcs_whitelist). The same group (O(group_name)) gets the same change on every
    instance of O(instances), with the same semantics, guards and verification. Instances are read and written concurrently
    (O(concurrency)), in one or several regions and projects.
  - Use it for the office job over hundreds or thousands of instances. The role P(ipguard.cloud.office_whitelist#role) does.
author:
  - ipguard.cloud maintainers (@ipguard)
extends_documentation_fragment:
  - ipguard.cloud._huaweicloud
  - ipguard.cloud._huaweicloud_dcs.whitelist_group
  - ipguard.cloud._bulk
  - ipguard.cloud._connection
  - ipguard.cloud._attributes
  - ipguard.cloud._attributes.huaweicloud_group
seealso:
  - module: ipguard.cloud.huaweicloud_dcs_whitelist
'''

EXAMPLES = r'''
- name: The office CIDRs in the office group of every DCS instance
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.huaweicloud:
      region: cn-north-4
  tasks:
    - name: Office group everywhere
      ipguard.cloud.huaweicloud_dcs_whitelist_bulk:
        instances:
          - 5560df16-cebf-4473-95c4-d1b573c16e79
          - instance_id: 8d1c2e3f-0000-4473-95c4-d1b573c16e80
            region: ap-southeast-1
            project_id: 0123456789abcdef0123456789abcdef
        group_name: office
        ips: [203.0.113.0/24, 198.51.100.17]
      register: office
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
      sample: 5560df16-cebf-4473-95c4-d1b573c16e79
    region:
      description: The region the instance was addressed in (empty when only O(endpoint) and no region is set).
      type: str
      sample: cn-north-4
    project_id:
      description: The project the instance was addressed in.
      type: str
      sample: 0123456789abcdef0123456789abcdef
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
      sample: {group_name: office, ips: [198.51.100.17, 203.0.113.0/24]}
    request_ids:
      description: The C(X-Request-Id) of this instance's write calls.
      type: list
      elements: str
      sample: [5d3c9e7b0a6f4d2e8c1b2a3f4e5d6c7b]
    job_ids:
      description: IDs of the DCS jobs this instance's change started (C(POST .../whitelist-async)).
      type: list
      elements: str
      sample: [ff8080817fe01bb2017fe3cf68860481]
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
      sample: [5560df16-cebf-4473-95c4-d1b573c16e79]
    unchanged:
      description: Instances already as asked.
      type: list
      elements: str
      sample: [8d1c2e3f-0000-4473-95c4-d1b573c16e80]
    failed:
      description: Instances that failed.
      type: list
      elements: str
      sample: []
'''

from ansible_collections.ipguard.cloud.plugins.module_utils._bulk import (
    BulkModule, BulkWhitelist, bulk_argument_spec, check_concurrency, first_region, parse_targets, ready_instance_ids, share_for_bulk)
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import IpguardError
from ansible_collections.ipguard.cloud.plugins.module_utils._huaweicloud import (
    DCS, check_project_id, check_region, huaweicloud_argument_spec, huaweicloud_client)
from ansible_collections.ipguard.cloud.plugins.module_utils._huaweicloud_dcs import (
    apply_whitelist, check_instance_id, group_result, plan_whitelist, read_whitelist, running_instance_ids, validate_group_request,
    whitelist_group_spec)


class DcsWhitelists:
    """The per-instance steps of huaweicloud_dcs_whitelist, for BulkWhitelist."""

    def __init__(self, base_client, request, params):
        self.base_client = base_client
        self.request = request
        self.wait = params['wait']
        self.wait_timeout = params['wait_timeout']
        self.default_region = params.get('region') or ''
        self.warnings = []

    def client_for(self, target):
        return self.base_client.for_instance(target.region, target.project_id)

    def request_for(self, target):
        return self.request._replace(instance_id=target.instance_id)

    def read(self, client, target):
        return read_whitelist(client, target.instance_id)

    def plan(self, whitelist, target):
        plan = plan_whitelist(self.request_for(target), whitelist)
        self.warnings.extend('%s: %s' % (target.instance_id, warning) for warning in plan.warnings)
        return plan

    @staticmethod
    def changed(plan):
        return plan.changed

    def ready_to_write(self, runs, workers):
        if not self.wait:
            return frozenset()
        return ready_instance_ids(runs, lambda run: (run.client.endpoint, run.client.project_id), running_instance_ids, None, workers)

    def apply(self, client, target, plan, ready):
        return apply_whitelist(client, self.request_for(target), plan, self.wait, self.wait_timeout, seen_running=ready)

    def result(self, run, diff):
        if run.applied is not None:
            whitelist, job_ids = run.applied.whitelist, run.applied.job_ids
        else:
            whitelist, job_ids = (run.plan.after if run.plan is not None else run.state), []
        group = whitelist.group(self.request.group_name) if whitelist is not None else None
        entry = {'region': run.target.region or self.default_region, 'project_id': run.client.project_id,
                 'whitelist': group_result(group), 'job_ids': list(job_ids)}
        if diff and run.plan is not None:
            entry['diff'] = run.plan.diff()
        return entry


def main():
    argument_spec = huaweicloud_argument_spec()
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
        params = module.params
        targets = parse_targets(params['instances'], check_instance_id, check_region, check_project_id=check_project_id,
                                default_region=params['region'], default_project_id=params['project_id'], endpoint_set=bool(params['endpoint']))
        first_project = next((target.project_id for target in targets if target.project_id), None)
        base_client = share_for_bulk(
            huaweicloud_client(module, DCS, project_id=first_project, region=first_region(params['instances'])), concurrency)
    except IpguardError as error:
        module.refuse(error)
    family = DcsWhitelists(base_client, request, module.params)
    bulk_run = BulkWhitelist(family, targets, concurrency, module.check_mode, module._diff, gate=module.write_gate)
    module.run_bulk(bulk_run)


if __name__ == '__main__':
    main()
