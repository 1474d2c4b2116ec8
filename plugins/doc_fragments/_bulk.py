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
notes:
  - "One run, three steps: every instance is read, concurrently, and its change planned; nothing is written anywhere
    unless every instance was read and planned without error (a bad entry, a missing instance or a full whitelist on one
    instance stops the run before any write); then the changed instances are written, concurrently, each verified like
    the single-instance module does it. A failure while writing one instance does not stop the others; the module fails
    at the end, naming every failed instance."
  - In check mode the module only reads. A run that changes nothing makes exactly one read per instance.
'''
