# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    """Shared options of the Huawei Cloud modules."""

    DOCUMENTATION = r'''
options:
  access_key:
    description:
      - Huawei Cloud access key (AK).
      - If not set, E(HUAWEICLOUD_SDK_AK) is used.
    type: str
  secret_key:
    description:
      - Huawei Cloud secret key (SK), paired with O(access_key).
      - Never printed, logged or sent; it only keys the request signature.
      - If not set, E(HUAWEICLOUD_SDK_SK) is used.
    type: str
  security_token:
    description:
      - Security token, for temporary credentials.
      - If not set, E(HUAWEICLOUD_SDK_SECURITY_TOKEN) is used.
    type: str
  project_id:
    description:
      - ID of the project the instance belongs to (required; it is part of every DCS API path).
      - 1 to 64 letters, digits, C(-) and C(_).
      - If not set, E(HUAWEICLOUD_SDK_PROJECT_ID) is used.
    type: str
  region:
    description:
      - Region ID, for example V(cn-north-4). Used to pick the regional endpoint.
      - At most 64 lowercase letters, digits and hyphens.
      - If not set, E(HUAWEICLOUD_SDK_REGION) is used. Required unless O(endpoint) is set.
    type: str
  endpoint:
    description:
      - Full URL of the API endpoint, with scheme, for example V(https://dcs.cn-north-4.myhuaweicloud.com).
      - Overrides the regional endpoint derived from O(region); use it for a local test server
        (plain V(http://) is accepted for that; to a host other than loopback it draws a warning, since the
        requests then travel in clear text).
      - Only C(scheme://host[:port]); a path, query, user or password, or a port outside 1-65535 is refused.
    type: str
requirements:
  - requests
notes:
  - Requests are signed with SDK-HMAC-SHA256 (AK/SK).
'''
