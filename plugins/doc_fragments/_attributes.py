# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    """Attributes shared by the collection's modules."""

    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: full
'''

    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return changed status prediction without modifying target.
    support: full
    details:
      - This module only reads; it never changes anything.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode), when in diff mode.
    support: N/A
    details:
      - This module only reads, so there is never a difference to show.
'''

    ALICLOUD_GROUP = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/ipguard.cloud.alicloud) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - ipguard.cloud.alicloud
'''

    HUAWEICLOUD_GROUP = r'''
options: {}
attributes:
  action_group:
    description: Use C(group/ipguard.cloud.huaweicloud) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - ipguard.cloud.huaweicloud
'''
