# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
name: huaweicloud_dcs
short_description: Huawei Cloud DCS (Distributed Cache Service) instances as inventory hosts
version_added: 1.0.0
description:
  - Lists the DCS instances of one or several regions with C(GET /v2/{project_id}/instances) (ListInstances), every page to
    the end, and makes one host per instance, named by its instance ID.
  - Host variables C(instance_id), C(region), C(project_id), C(instance_name), C(status), C(tags) (tag key to value) and
    C(ipguard_target=huaweicloud_dcs). Plays over these hosts run the role P(ipguard.cloud.office_whitelist#role) on exactly
    their instances, also when AWX / Automation Controller runs them as job slices.
  - The source file's name must end with C(huaweicloud_dcs.yml) or C(huaweicloud_dcs.yaml).
  - Credentials come from the same options and environment variables as for the modules, so the AWX credential type
    C(ipguard.cloud Huawei Cloud) of this collection serves an inventory source unchanged.
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
    choices: [ipguard.cloud.huaweicloud_dcs]
  access_key:
    description:
      - Huawei Cloud access key (AK). Prefer the environment (an AWX credential injects it) to writing keys into the source file.
    type: str
    env:
      - name: HUAWEICLOUD_SDK_AK
  secret_key:
    description:
      - Huawei Cloud secret key (SK), paired with O(access_key). Never printed, logged or cached.
    type: str
    env:
      - name: HUAWEICLOUD_SDK_SK
  security_token:
    description:
      - Security token, for temporary credentials. Never printed, logged or cached.
    type: str
    env:
      - name: HUAWEICLOUD_SDK_SECURITY_TOKEN
  project_id:
    description:
      - The project of O(region), and of every entry of O(regions) that names no project of its own.
      - Huawei Cloud project IDs are per region, so an entry of O(regions) in another region than O(region) must name its
        own C(project_id) (unless O(endpoint) is set).
    type: str
    env:
      - name: HUAWEICLOUD_SDK_PROJECT_ID
  region:
    description:
      - The region to list when O(regions) is not set, for example V(cn-north-4); the region of O(project_id).
    type: str
    env:
      - name: HUAWEICLOUD_SDK_REGION
  regions:
    description:
      - The regions to list, one after the other. An entry is a region ID, or a dict with C(region) and C(project_id) (the
        project of that region).
      - When not set, the one region of O(region) with O(project_id).
    type: list
    elements: raw
    default: []
  page_size:
    description:
      - Instances per ListInstances page (C(limit)), from 1 to 1000 (the API's maximum). Every page is read, to the end.
    type: int
    default: 1000
notes:
  - The O(filters.tags) pairs (as C(tags={key}={value},...)) and a single O(filters.status) are sent with ListInstances;
    every filter is checked again on the answer.
seealso:
  - module: ipguard.cloud.huaweicloud_dcs_whitelist_bulk
  - plugin: ipguard.cloud.alicloud_redis
    plugin_type: inventory
'''

EXAMPLES = r'''
---
# prod.huaweicloud_dcs.yml: the production instances of two regions, grouped by tag.
# AK/SK, project and region come from the environment (HUAWEICLOUD_SDK_AK, ...), as an AWX credential injects them;
# the second region names its own project.
plugin: ipguard.cloud.huaweicloud_dcs
regions:
  - cn-north-4
  - region: ap-southeast-1
    project_id: 0123456789abcdef0123456789abcde2
filters:
  tags:
    env: prod
keyed_groups:
  - key: tags
    prefix: tag
  - key: status
    prefix: status
'''

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ValidationError
from ansible_collections.ipguard.cloud.plugins.module_utils._huaweicloud import (
    DCS, check_project_id, check_region, huaweicloud_client_from_options)
from ansible_collections.ipguard.cloud.plugins.module_utils._instance_listing import (
    DCS_MAX_PAGE_SIZE, check_page_size, list_dcs_instances)
from ansible_collections.ipguard.cloud.plugins.plugin_utils._inventory import IpguardInventory, RegionSource

# Handed to the client layer as the modules' shared options (env fallbacks included: the same names).
CLIENT_OPTIONS = ('access_key', 'secret_key', 'security_token', 'project_id', 'region', 'endpoint', 'validate_certs', 'ca_bundle',
                  'timeout', 'retries')
REGION_KEYS = ('region', 'project_id')


class InventoryModule(IpguardInventory):

    NAME = 'ipguard.cloud.huaweicloud_dcs'
    TARGET = 'huaweicloud_dcs'
    LABEL = 'Huawei Cloud DCS'
    CONFIG_SUFFIXES = ('huaweicloud_dcs.yml', 'huaweicloud_dcs.yaml')

    def region_entries(self, default_region, default_project_id, endpoint_set):
        """``[(region, project_id)]`` from the ``regions`` option, every bad entry named."""
        entries = []
        problems = []
        for index, entry in enumerate(self.get_option('regions') or []):
            where = 'regions[%d]' % index
            if isinstance(entry, str):
                entry = {'region': entry}
            if not isinstance(entry, dict) or not isinstance(entry.get('region'), str):
                problems.append('%s must be a region id or a dict with region and project_id, not %r' % (where, entry))
                continue
            unknown = sorted(set(entry) - set(REGION_KEYS))
            if unknown:
                problems.append('%s has unknown key(s) %s (allowed: %s)' % (where, ', '.join(map(str, unknown)), ', '.join(REGION_KEYS)))
                continue
            try:
                check_region(entry['region'])
                if entry.get('project_id') is not None:
                    check_project_id(entry['project_id'])
            except ValidationError as error:
                problems.append('%s: %s' % (where, error.message))
                continue
            project_id = entry.get('project_id')
            # Project ids are per region: the default project belongs to the default region only.
            if project_id is None and entry['region'] != default_region and not endpoint_set:
                problems.append('%s: region %s names no project_id, and project_id (HUAWEICLOUD_SDK_PROJECT_ID) is the project of '
                                'region %s; give {region: %s, project_id: ...}' % (where, entry['region'], default_region, entry['region']))
                continue
            entries.append((entry['region'], project_id or default_project_id))
        if problems:
            raise ValidationError('Invalid regions: %s' % '; '.join(problems))
        return list(dict.fromkeys(entries))

    def region_sources(self):
        self.page_size = check_page_size(self.get_option('page_size'), DCS_MAX_PAGE_SIZE)
        # An empty value is unset: AWX injects an optional credential input left empty as an empty variable.
        options = dict((name, self.get_option(name)) for name in CLIENT_OPTIONS)
        options = dict((name, None if value == '' else value) for name, value in options.items())
        entries = self.region_entries(options['region'], options['project_id'], bool(options['endpoint']))
        first_region, first_project = entries[0] if entries else (None, None)
        # The first entry stands in for an unset region or project, as for a bulk module run.
        base = huaweicloud_client_from_options(options, DCS, warn=self.display.warning, project_id=first_project, region=first_region)
        if not entries:
            return [RegionSource(options['region'], base, base.project_id)]
        return [RegionSource(region, base.for_instance(region, project_id), project_id or base.project_id) for region, project_id in entries]

    def identity(self, sources):
        return {'regions': [[source.region, source.project_id] for source in sources], 'access_key': sources[0].client.access_key}

    def list_region(self, source, statuses, tags):
        return list_dcs_instances(source.client, source.region, statuses, tags, self.page_size)
