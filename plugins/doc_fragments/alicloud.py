# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    """Shared options of the Alibaba Cloud modules."""

    DOCUMENTATION = r'''
options:
  access_key_id:
    description:
      - Alibaba Cloud AccessKey ID.
      - Credentials are taken together from the first of these sources that has a key ID, so a
        key from one place is never paired with a secret from another - module options
        (O(access_key_id), O(access_key_secret), O(security_token)); the aliyun CLI profile named by
        O(profile); the environment variables E(ALIBABA_CLOUD_ACCESS_KEY_ID),
        E(ALIBABA_CLOUD_ACCESS_KEY_SECRET) and E(ALIBABA_CLOUD_SECURITY_TOKEN) (or the
        E(ALICLOUD_ACCESS_KEY), E(ALICLOUD_SECRET_KEY) and E(ALICLOUD_SECURITY_TOKEN) names used by
        the alibaba.alicloud collection and Terraform).
    type: str
    aliases: [alicloud_access_key]
  access_key_secret:
    description:
      - Alibaba Cloud AccessKey secret, paired with O(access_key_id).
      - Never printed, logged or sent; it only keys the request signature.
    type: str
    aliases: [alicloud_secret_key]
  security_token:
    description:
      - STS security token, for temporary credentials.
    type: str
    aliases: [alicloud_security_token]
  region:
    description:
      - Region ID, for example V(cn-hangzhou). Sent as C(RegionId) and used to pick the regional endpoint.
      - At most 64 lowercase letters, digits and hyphens.
      - Falls back to the profile's C(region_id), then E(ALIBABA_CLOUD_REGION_ID), E(ALICLOUD_REGION) or E(ALICLOUD_REGION_ID).
      - Required unless O(endpoint) is set.
    type: str
    aliases: [alicloud_region, region_id]
  profile:
    description:
      - Name of a profile in the aliyun CLI configuration file C(~/.aliyun/config.json) (or the file
        named by E(ALICLOUD_SHARED_CREDENTIALS_FILE)) to take credentials and region from.
      - Only profiles in mode C(AK) or C(StsToken) are supported.
      - Falls back to E(ALIBABA_CLOUD_PROFILE) or E(ALICLOUD_PROFILE).
    type: str
  endpoint:
    description:
      - Full URL of the API endpoint, with scheme, for example V(https://r-kvstore-vpc.cn-shanghai.aliyuncs.com).
      - Overrides the regional endpoint derived from O(region); use it for VPC endpoints or a local test server
        (plain V(http://) is accepted for that; to a host other than loopback it draws a warning, since the
        requests then travel in clear text).
      - Only C(scheme://host[:port]); a path, query, user or password, or a port outside 1-65535 is refused.
    type: str
requirements:
  - requests
notes:
  - Requests are signed with ACS3-HMAC-SHA256.
'''
