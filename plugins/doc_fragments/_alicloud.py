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
      - The base credentials are taken together from the first of these sources, so a key from one place is never paired
        with a secret from another - module options (O(access_key_id), O(access_key_secret), O(security_token)); the ECS
        instance RAM role of O(ecs_ram_role); the aliyun CLI profile named by O(profile); the environment variables
        E(ALIBABA_CLOUD_ACCESS_KEY_ID), E(ALIBABA_CLOUD_ACCESS_KEY_SECRET) and E(ALIBABA_CLOUD_SECURITY_TOKEN) (or the
        E(ALICLOUD_ACCESS_KEY), E(ALICLOUD_SECRET_KEY) and E(ALICLOUD_SECURITY_TOKEN) names used by the alibaba.alicloud
        collection and Terraform); the ECS instance RAM role named by E(ALIBABA_CLOUD_ECS_METADATA) (or
        E(ALICLOUD_ECS_ROLE_NAME)).
      - With O(assume_role) (or E(ALIBABA_CLOUD_ROLE_ARN)) the base credentials only sign the STS C(AssumeRole) call, and
        the role's temporary credentials sign everything else.
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
      - STS security token, for temporary credentials you obtained yourself. Temporary credentials expire; prefer
        O(assume_role) or O(ecs_ram_role), which fetch fresh ones for every run.
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
      - Profiles in mode C(AK), C(StsToken), C(RamRoleArn) (the profile's keys assume its C(ram_role_arn), with its
        C(ram_session_name), C(expired_seconds), C(policy), C(external_id) and C(sts_region)) and C(EcsRamRole) (the ECS
        instance role C(ram_role_name), read from the instance metadata service; when the name is empty, the role attached
        to the instance) are supported; other modes are refused.
      - Falls back to E(ALIBABA_CLOUD_PROFILE) or E(ALICLOUD_PROFILE).
    type: str
  assume_role:
    description:
      - Assume this RAM role with STS C(AssumeRole) and use its temporary credentials for every call of the run. The base
        credentials (see O(access_key_id)) only sign the C(AssumeRole) call. A role of another account is how one job
        manages several accounts (see also C(role_arn) in the O(ipguard.cloud.alicloud_redis_whitelist_bulk#module:instances)
        of the bulk module).
      - When not set, E(ALIBABA_CLOUD_ROLE_ARN) (or E(ALICLOUD_ASSUME_ROLE_ARN)) names the role, with
        E(ALIBABA_CLOUD_ROLE_SESSION_NAME), E(ALIBABA_CLOUD_ROLE_SESSION_EXPIRATION) and E(ALIBABA_CLOUD_EXTERNAL_ID).
      - The role is assumed once per module run (a bulk run - once per role); the temporary credentials are never printed,
        and they are fetched again only if they expire during the run.
    type: dict
    suboptions:
      role_arn:
        description:
          - ARN of the role, C(acs:ram::<account id>:role/<role name>).
        type: str
        required: true
      session_name:
        description:
          - Role session name, shown in ActionTrail as who acted; 2 to 64 letters, digits and C(. @ - _).
          - Defaults to E(ALIBABA_CLOUD_ROLE_SESSION_NAME), else V(ipguard-cloud).
        type: str
      duration_seconds:
        description:
          - How long the temporary credentials stay valid, from 900 to 43200 seconds and at most the role's maximum
            session duration.
          - Defaults to E(ALIBABA_CLOUD_ROLE_SESSION_EXPIRATION), else 3600.
        type: int
      policy:
        description:
          - A session policy (a dict, or its JSON text) that narrows what the temporary credentials may do.
        type: raw
      external_id:
        description:
          - The external ID the role's trust policy asks for. Treated as a secret.
        type: str
  sts_endpoint:
    description:
      - Full URL of the STS endpoint for O(assume_role), for example V(https://sts-vpc.cn-hangzhou.aliyuncs.com).
      - When not set - E(ALIBABA_CLOUD_STS_ENDPOINT) (a host or URL); a C(RamRoleArn) profile's C(sts_region); the
        regional host of E(ALIBABA_CLOUD_STS_REGION) (C(sts-vpc) with E(ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED=true));
        else V(https://sts.aliyuncs.com), as the official credentials library does.
    type: str
  ecs_ram_role:
    description:
      - Name of the RAM role attached to the ECS instance this module runs on (the Ansible controller or AWX execution
        node); its temporary credentials are read from the instance metadata service, so no key is stored anywhere.
      - The metadata service is asked for a session token first (IMDSv2, as Alibaba recommends) and read without one only
        if it gives none, unless E(ALIBABA_CLOUD_IMDSV1_DISABLED=true).
      - Falls back to E(ALIBABA_CLOUD_ECS_METADATA) or E(ALICLOUD_ECS_ROLE_NAME) when no key is configured. Cannot be
        combined with O(access_key_id) or O(profile).
    type: str
  metadata_endpoint:
    description:
      - Base URL of the instance metadata service, V(http://100.100.100.200) when not set.
      - For tests against a local fake metadata service only.
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
