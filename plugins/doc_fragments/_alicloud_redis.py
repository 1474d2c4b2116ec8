# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    """Options shared by the Alibaba Cloud Redis modules that write."""

    DOCUMENTATION = r'''
options:
  wait:
    description:
      - Before writing, wait until the instance is C(Normal) (C(DescribeInstanceAttribute)), and wait for it again after the
        change. Nothing is waited for in check mode or when nothing changes.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait each time for the instance to become C(Normal). V(0) looks once and does not wait.
    type: int
    default: 300
'''

    # The options of one whitelist group, shared by alicloud_redis_whitelist and its bulk twin.
    WHITELIST_GROUP = r'''
options:
  group_name:
    description:
      - Name of the whitelist group, 2-32 characters of lowercase letters, digits and underscores, starting with a letter
        and ending with a letter or digit.
      - V(ali_dms_group) and V(hdm_security_ips) are system groups and are refused.
    type: str
    default: default
  ips:
    description:
      - IPv4 addresses or CIDR blocks (host bits must be zero).
      - With O(state=present), required; they are added to the group (created if missing).
      - With O(state=absent), these entries are removed; without O(ips) the whole group is removed.
      - At most 1000 entries per group. IPv6 is refused.
    type: list
    elements: str
  state:
    description:
      - V(present) adds O(ips) (and with O(purge_ips=true) removes everything else).
      - V(absent) removes O(ips), or the whole group when O(ips) is not given. A group left without entries no longer exists.
    type: str
    choices: [present, absent]
    default: present
  purge_ips:
    description:
      - With O(state=present), make the group hold exactly O(ips), removing every other entry (C(ModifyMode=Cover)).
      - Setting it with O(state=absent) is an error, since it would mean nothing.
    type: bool
    default: false
  hidden:
    description:
      - Whether the group carries C(SecurityIpGroupAttribute=hidden), which hides it in the console.
      - When not set, the attribute is left as it is.
      - Groups marked hidden are normally created by DMS, DAS or DTS and are refused. Set O(hidden=true) to manage a hidden
        group that you created yourself.
      - The attribute is only changed with O(state=present). O(hidden=false) never un-hides a group, since a hidden group is
        refused unless O(hidden=true).
    type: bool
  allow_open:
    description:
      - Allow a result that opens the instance to any address, such as V(0.0.0.0/0), V(0.0.0.0) or entries that together
        cover the whole IPv4 space. Without it such a change is refused.
    type: bool
    default: false
'''
