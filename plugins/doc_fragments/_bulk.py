# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    """The fleet options and behaviour shared by the bulk whitelist modules."""

    DOCUMENTATION = r'''
options:
  instances:
    description:
      - The instances whose group is managed. An element is an instance id, or a dict with C(instance_id) and optional
        C(region) (which overrides O(region) for that instance), so one run can span regions. The Huawei Cloud module also
        takes C(project_id) in the dict; the Alibaba Cloud module also takes C(role_arn), the RAM role to assume for that
        instance (an instance of another account), so one run can span accounts. The role is assumed with the run's base
        credentials and the other settings of O(ipguard.cloud.alicloud_redis_whitelist_bulk#module:assume_role) (session
        name, duration, policy, external id), in place of that option's role; each role once per run.
      - An instance listed twice is refused. An empty list does nothing.
    type: list
    elements: raw
    required: true
  concurrency:
    description:
      - How many API requests may be in flight at once, across all instances (1 to 64).
      - A worker that waits (for an instance to accept changes, or for a change to settle) holds no request slot.
      - Throttling pauses every worker, so a storm slows the whole run down instead of multiplying retries.
    type: int
    default: 10
  write_gate:
    description:
      - Bulk runs started at the same time (for example one of them with C(async) and C(poll=0), as the
        P(ipguard.cloud.office_whitelist#role) role does for its two clouds) that write only when every one of them
        planned all its instances.
      - Each run posts whether it could plan every instance, as a file in a private directory of the temporary directory
        of the machine the modules run on, named after O(write_gate.id). A run with something to write waits for every
        other run's verdict first; when one of them could not plan, or did not tell within O(write_gate.timeout), it
        writes nothing and fails with RV(refused=true) (and RV(refused_by) naming that run).
      - A run with nothing to write (and any run in check mode) does not wait. The last run done removes the directory.
      - A run that fails before it planned (options refused by Ansible or by the module, no credentials) or stops on an
        unexpected error tells the other runs at once. Each run also leaves its process id in the directory when it
        starts, so a run killed before its verdict stops the others at once too. Only a run whose task fails before
        the module starts says nothing; the others then write nothing after O(write_gate.timeout).
    type: dict
    suboptions:
      id:
        description:
          - The gate's name, shared by its runs and unique to the job (for example a random string of 20 characters).
            A gate directory that already holds this run's verdict means the id was used before, and the run writes nothing.
        type: str
        required: true
      name:
        description: This run's name in O(write_gate.runs).
        type: str
        required: true
      runs:
        description: The names of every run of the gate (1-64 letters, digits, C(-) and C(_) each), this one included.
        type: list
        elements: str
        required: true
      timeout:
        description: How many seconds a run with something to write waits for the other runs' verdicts.
        type: int
        default: 600
notes:
  - "One run, three steps: every instance is read, concurrently, and its change planned; nothing is written anywhere
    unless every instance was read and planned without error (a bad entry, a missing instance or a full whitelist on one
    instance stops the run before any write); then the changed instances are written, concurrently, each verified like
    the single-instance module does it. A failure while writing one instance does not stop the others; the module fails
    at the end, naming every failed instance."
  - In check mode the module only reads. A run that changes nothing makes exactly one read per instance.
  - Status reads are shared where the API allows it. Before the writes, one batched read finds the instances that are
    ready (Alibaba Cloud C(DescribeInstances) by 30 instances of one region and account, Huawei Cloud C(ListInstances) per
    project). In the Alibaba Cloud module the waits around the writes (O(ipguard.cloud.alicloud_redis_whitelist_bulk#module:wait))
    also read the status with C(DescribeInstances), for every instance that asks within a tenth of a second of another in
    one call. An instance the batched answer does not list reads its own status, as the single-instance module does.
'''
