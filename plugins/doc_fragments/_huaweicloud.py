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
      - Temporary keys (an AK/SK pair with a security token, as IAM issues them for an agency or a federated user) work the
        same way, with O(security_token) or E(HUAWEICLOUD_SDK_SECURITY_TOKEN). On an ECS instance, prefer
        O(use_metadata_credentials), which fetches them for every run.
    type: str
  secret_key:
    description:
      - Huawei Cloud secret key (SK), paired with O(access_key).
      - Never printed, logged or sent; it only keys the request signature.
      - If not set, E(HUAWEICLOUD_SDK_SK) is used.
    type: str
  security_token:
    description:
      - Security token, for temporary credentials; sent as C(X-Security-Token) and signed, as the official SDK does.
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
  use_metadata_credentials:
    description:
      - Use the temporary keys (access, secret and security token) of the agency of the ECS instance this module runs on
        (the Ansible controller or AWX execution node), read from the instance metadata service, so that no key is stored
        anywhere. They are read once per module run and never printed.
      - The metadata service is asked for a session token first and read without one if it has no token API, as the
        official SDK does.
      - Cannot be combined with O(access_key), O(secret_key) or O(security_token) (nor with their environment variables).
        O(project_id) is still needed.
      - If not set, E(IPGUARD_HUAWEICLOUD_USE_METADATA_CREDENTIALS) is used (what the AWX credential type injects; empty
        means false), else false.
    type: bool
  metadata_endpoint:
    description:
      - Base URL of the instance metadata service for O(use_metadata_credentials), V(http://169.254.169.254) when not set.
      - For tests against a local fake metadata service only.
    type: str
requirements:
  - requests
notes:
  - Requests are signed with SDK-HMAC-SHA256 (AK/SK).
'''
