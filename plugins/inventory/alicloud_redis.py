# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
name: alicloud_redis
short_description: Alibaba Cloud ApsaraDB for Redis (Tair) instances as inventory hosts
version_added: 1.0.0
description:
  - Lists the ApsaraDB for Redis (Tair) instances of one or several regions with R-kvstore C(DescribeInstances), every page
    to the end, and makes one host per instance, named by its instance ID.
  - Host variables C(instance_id), C(region), C(instance_name), C(status), C(tags) (tag key to value),
    C(ipguard_target=alicloud_redis), and C(role_arn) when the source lists with a RAM role (O(assume_role)). Plays over
    these hosts run the role P(ipguard.cloud.office_whitelist#role) on exactly their instances, also when AWX / Automation
    Controller runs them as job slices.
  - The source file's name must end with C(alicloud_redis.yml) or C(alicloud_redis.yaml).
  - Credentials are found exactly as the modules find them, from the same options and environment variables, so the
    AWX credential type C(ipguard.cloud Alibaba Cloud) of this collection serves an inventory source unchanged.
author:
  - ipguard.cloud maintainers (@ipguard)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - ipguard.cloud._inventory
requirements:
  - requests
options:
  plugin:
    description: Marks the file as a source of this plugin.
    type: str
    required: true
    choices: [ipguard.cloud.alicloud_redis]
  access_key_id:
    description:
      - Alibaba Cloud AccessKey ID.
      - Credentials are taken together from the first of these sources that has a key ID, so a key from one place is never
        paired with a secret from another - the source file (O(access_key_id), O(access_key_secret), O(security_token)); the
        aliyun CLI profile named by O(profile); the environment variables E(ALIBABA_CLOUD_ACCESS_KEY_ID),
        E(ALIBABA_CLOUD_ACCESS_KEY_SECRET) and E(ALIBABA_CLOUD_SECURITY_TOKEN) (or the E(ALICLOUD_ACCESS_KEY),
        E(ALICLOUD_SECRET_KEY) and E(ALICLOUD_SECURITY_TOKEN) names), in that order, as for the modules.
      - Prefer the environment (an AWX credential injects it) to writing keys into the source file.
    type: str
    env:
      - name: ALIBABA_CLOUD_ACCESS_KEY_ID
      - name: ALICLOUD_ACCESS_KEY
      - name: ALICLOUD_ACCESS_KEY_ID
  access_key_secret:
    description:
      - Alibaba Cloud AccessKey secret, paired with O(access_key_id). Never printed, logged or cached.
    type: str
    env:
      - name: ALIBABA_CLOUD_ACCESS_KEY_SECRET
      - name: ALICLOUD_SECRET_KEY
      - name: ALICLOUD_SECRET_ACCESS_KEY
  security_token:
    description:
      - STS security token, for temporary credentials. Never printed, logged or cached.
    type: str
    env:
      - name: ALIBABA_CLOUD_SECURITY_TOKEN
      - name: ALICLOUD_SECURITY_TOKEN
  profile:
    description:
      - Name of a profile in the aliyun CLI configuration file C(~/.aliyun/config.json) (or the file named by
        E(ALICLOUD_SHARED_CREDENTIALS_FILE)) to take credentials and the default region from, as for the modules.
    type: str
    env:
      - name: ALIBABA_CLOUD_PROFILE
      - name: ALICLOUD_PROFILE
  region:
    description:
      - The region to list when O(regions) is not set, for example V(cn-hangzhou).
      - Falls back to the profile's region, then E(ALIBABA_CLOUD_REGION_ID), E(ALICLOUD_REGION) or E(ALICLOUD_REGION_ID).
    type: str
    env:
      - name: ALIBABA_CLOUD_REGION_ID
      - name: ALICLOUD_REGION
      - name: ALICLOUD_REGION_ID
  regions:
    description:
      - The regions to list, one after the other, for example V([cn-hangzhou, cn-shanghai, ap-southeast-1]).
      - Each region is listed through its own regional endpoint (or O(endpoint)), with C(RegionId) set to it; the host variable
        C(region) is the region the API reports for the instance.
      - When not set, the one region of O(region).
    type: list
    elements: str
    default: []
  page_size:
    description:
      - Instances per C(DescribeInstances) page, from 1 to 50 (the API's maximum). Every page is read, to the end.
    type: int
    default: 50
  assume_role:
    description:
      - List the instances with the temporary credentials of this RAM role, assumed with STS C(AssumeRole) (for example the
        role of another account of a resource directory, one source per account). Every host of the source then gets the
        host variable C(role_arn), which the bulk module's C(instances) elements take, so a job over several sources manages
        each instance with its own account's role.
      - When not set, E(ALIBABA_CLOUD_ROLE_ARN) names the role, as for the modules.
      - The same sub-options as the modules' O(ipguard.cloud.alicloud_redis_whitelist#module:assume_role).
    type: dict
    suboptions:
      role_arn:
        description: ARN of the role, C(acs:ram::<account id>:role/<role name>).
        type: str
        required: true
      session_name:
        description: Role session name (2 to 64 letters, digits and C(. @ - _)); default V(ipguard-cloud).
        type: str
      duration_seconds:
        description: Validity of the temporary credentials, 900 to 43200 seconds; default 3600.
        type: int
      policy:
        description: A session policy (a dict, or its JSON text) that narrows the role's permissions.
        type: raw
      external_id:
        description: The external ID the role's trust policy asks for.
        type: str
  sts_endpoint:
    description:
      - Full URL of the STS endpoint for O(assume_role); by default as for the modules
        (O(ipguard.cloud.alicloud_redis_whitelist#module:sts_endpoint)).
    type: str
  ecs_ram_role:
    description:
      - Name of the RAM role of the ECS instance the inventory runs on, whose temporary credentials are read from the
        instance metadata service; also E(ALIBABA_CLOUD_ECS_METADATA), as for the modules.
    type: str
  metadata_endpoint:
    description:
      - Base URL of the instance metadata service, V(http://100.100.100.200) when not set. For tests only.
    type: str
notes:
  - The first five O(filters.tags) pairs (in key order) and a single O(filters.status) are sent with C(DescribeInstances)
    (C(Tag.N.Key)/C(Tag.N.Value), C(InstanceStatus)); every filter is checked again on the answer.
seealso:
  - module: ipguard.cloud.alicloud_redis_whitelist_bulk
  - plugin: ipguard.cloud.huaweicloud_dcs
    plugin_type: inventory
'''

EXAMPLES = r'''
---
# prod.alicloud_redis.yml: every production cache of three regions, grouped by tag and region.
# Credentials come from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID, ...), as an AWX credential injects them.
plugin: ipguard.cloud.alicloud_redis
regions: [cn-hangzhou, cn-shanghai, ap-southeast-1]
filters:
  tags:
    env: prod
  status: [Normal]
keyed_groups:
  - key: tags
    prefix: tag
  - key: region
    prefix: region
groups:
  sessions: instance_name is match('sessions-')

# A second source file, cache.alicloud_redis.yml: one region, the listing cached for an hour
# in JSON files (one YAML document per EXAMPLES, so its lines are shown as comments).
# plugin: ipguard.cloud.alicloud_redis
# regions: [cn-hangzhou]
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/ipguard-inventory
# cache_timeout: 3600
'''

from ansible_collections.ipguard.cloud.plugins.module_utils._alicloud import REDIS, alicloud_client_from_options, check_region
from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ValidationError
from ansible_collections.ipguard.cloud.plugins.module_utils._instance_listing import (
    REDIS_MAX_PAGE_SIZE, check_page_size, list_redis_instances)
from ansible_collections.ipguard.cloud.plugins.plugin_utils._inventory import IpguardInventory, RegionSource

# Options handed to the client layer as the modules' shared options. The credential ones only when the
# source file sets them (IpguardInventory.option_set_by_user): the environment is the client layer's to read.
CREDENTIAL_OPTIONS = ('access_key_id', 'access_key_secret', 'security_token', 'profile', 'region', 'assume_role', 'ecs_ram_role')
CONNECTION_OPTIONS = ('endpoint', 'validate_certs', 'ca_bundle', 'timeout', 'retries', 'sts_endpoint', 'metadata_endpoint')


class InventoryModule(IpguardInventory):

    NAME = 'ipguard.cloud.alicloud_redis'
    TARGET = 'alicloud_redis'
    LABEL = 'Alibaba Cloud Redis'
    CONFIG_SUFFIXES = ('alicloud_redis.yml', 'alicloud_redis.yaml')

    def region_sources(self):
        regions = self.get_option('regions') or []
        if not isinstance(regions, list) or not all(isinstance(region, str) for region in regions):
            raise ValidationError('regions must be a list of region ids, for example [cn-hangzhou, cn-shanghai]')
        for region in regions:
            check_region(region)
        self.page_size = check_page_size(self.get_option('page_size'), REDIS_MAX_PAGE_SIZE)
        options = dict((name, self.option_set_by_user(name)) for name in CREDENTIAL_OPTIONS)
        options.update((name, self.get_option(name)) for name in CONNECTION_OPTIONS)
        # The first listed region stands in for a default region, as for a bulk module run.
        base = alicloud_client_from_options(options, REDIS, warn=self.display.warning, region=regions[0] if regions else None)
        if not regions:
            return [RegionSource(base.credentials.region, base)]
        return [RegionSource(region, base.for_instance(region)) for region in dict.fromkeys(regions)]

    def identity(self, sources):
        # The key id (not secret) tells two accounts' caches apart when one source file serves both; so does the role.
        return {'regions': [source.region for source in sources], 'access_key_id': getattr(sources[0].client.credentials, 'access_key_id', None),
                'role_arn': self.role_arn(sources[0])}

    @staticmethod
    def role_arn(source):
        """The role the source lists with (assume_role, or ALIBABA_CLOUD_ROLE_ARN), else None."""
        role = getattr(source.client.credentials, 'assume_role', None)
        # A plain str: the value read from the source file carries Ansible's data tags, which must not reach the cache.
        return str(role.role_arn) if role is not None else None

    def list_region(self, source, statuses, tags):
        records = list_redis_instances(source.client, statuses, tags, self.page_size)
        role_arn = self.role_arn(source)
        if role_arn:
            # The host variable role_arn: a bulk run manages the instance with the role it was listed with.
            for record in records:
                record['role_arn'] = role_arn
        return records
