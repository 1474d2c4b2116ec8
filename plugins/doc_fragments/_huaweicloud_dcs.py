# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    """The options of one DCS whitelist group, shared by huaweicloud_dcs_whitelist and its bulk twin."""

    WHITELIST_GROUP = r'''
options:
  group_name:
    description:
      - Name of the whitelist group to manage.
      - 5 to 64 characters of letters, digits, V(-) and V(_), starting with a letter.
    type: str
    required: true
  ips:
    description:
      - IPv4 addresses or CIDR blocks.
      - With O(state=present) they are added to the group (the group holds exactly these with O(purge_ips=true)); with
        O(state=absent) they are removed from it.
      - Omit it with O(state=present) to change only O(enable_whitelist); omit it with O(state=absent) to remove the whole group.
      - A DCS instance holds at most 20 entries across all its groups (or the limit the API reports as
        C(whitelist_ip_limit_num)), and an entry may belong to one group only. Entries whose address is V(0.0.0.0) (such as
        V(0.0.0.0/0)) are refused by the API, whatever O(allow_open) says.
    type: list
    elements: str
  state:
    description:
      - V(present) makes sure the entries are in the group; V(absent) removes the entries, or the group when O(ips) is omitted.
    type: str
    choices: [present, absent]
    default: present
  purge_ips:
    description:
      - With O(state=present), remove the entries of the group that are not in O(ips).
    type: bool
    default: false
  enable_whitelist:
    description:
      - Whether the instance's whitelist is enforced. Leave it unset to keep the current setting.
      - Disabling it opens the instance to every address that can reach its VPC, so V(false) needs O(allow_open=true).
    type: bool
  allow_open:
    description:
      - Confirms a change that opens the instance to every address that can reach its VPC - removing the last whitelist group
        while the whitelist is enabled, or disabling the whitelist. Without it the module fails before writing anything.
    type: bool
    default: false
  wait:
    description:
      - Wait for the instance to be C(RUNNING) before writing and for the whitelist job to succeed, then read the whitelist
        a little later (2 seconds, or four of the slowest round trips) to confirm the change is there. When the job API does
        not know the job, read the whitelist until it shows the change.
      - If the confirmation read does not show the change (another writer's C(PUT) undid it, or the service is slow to apply
        it), the change is planned again from that read and written again, at most O(retries) times.
      - With V(false) the change is sent and not verified.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to allow for each wait (instance status, job, read-back). V(0) looks once and does not wait.
    type: int
    default: 300
'''
