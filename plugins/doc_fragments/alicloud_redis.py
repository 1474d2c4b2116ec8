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
      - Seconds to wait each time for the instance to become C(Normal).
    type: int
    default: 300
'''
