#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
module: huaweicloud_dcs_whitelist_info
short_description: Read the IP whitelist of a Huawei Cloud DCS instance
version_added: 1.0.0
description:
  - Returns every whitelist group of a Huawei Cloud Distributed Cache Service (DCS) instance, whether the whitelist is
    enforced, and the instance's entry limit.
  - An instance whose engine has no whitelist (Redis 3.0, Memcached), or a region without the whitelist API, makes the
    module fail with a message saying so, never return an empty list that would read as "no whitelist".
author: ipguard.cloud maintainers (@ipguard)
extends_documentation_fragment:
  - ipguard.cloud._huaweicloud
  - ipguard.cloud._connection
  - ipguard.cloud._attributes.info_module
  - ipguard.cloud._attributes.huaweicloud_group
options:
  instance_id:
    description:
      - ID of the DCS instance.
    type: str
    required: true
notes:
  - With no group, or with the whitelist disabled, an instance accepts every address that can reach its VPC.
seealso:
  - module: ipguard.cloud.huaweicloud_dcs_whitelist
'''

EXAMPLES = r'''
- name: Audit the app cache's whitelist
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ipguard.cloud.huaweicloud:
      region: cn-north-4
      project_id: "{{ huawei_project_id }}"
  tasks:
    - name: Read the whitelist
      ipguard.cloud.huaweicloud_dcs_whitelist_info:
        instance_id: 5560df16-cebf-4473-95c4-d1b573c16e79
      register: cache_whitelist

    - name: Make sure the cache is not open to the whole VPC
      ansible.builtin.assert:
        that:
          - cache_whitelist.enable_whitelist
          - cache_whitelist.groups | length > 0
'''

RETURN = r'''
enable_whitelist:
  description: Whether the whitelist is enforced. When it is not, every address that can reach the VPC may connect.
  returned: success
  type: bool
  sample: true
groups:
  description: Every whitelist group of the instance, sorted by name.
  returned: success
  type: list
  elements: dict
  contains:
    group_name:
      description: Name of the group.
      type: str
      sample: app-servers
    ips:
      description: Entries of the group, normalised and sorted.
      type: list
      elements: str
      sample: [10.0.0.0/24, 192.168.1.10]
  sample: [{group_name: app-servers, ips: [10.0.0.0/24, 192.168.1.10]}]
ip_limit:
  description: How many entries the instance may hold across all groups (C(whitelist_ip_limit_num)); null when the API does not say.
  returned: success
  type: int
  sample: 20
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import IpguardError, fail_kwargs
from ansible_collections.ipguard.cloud.plugins.module_utils._huaweicloud import DCS, huaweicloud_argument_spec, huaweicloud_client
from ansible_collections.ipguard.cloud.plugins.module_utils._huaweicloud_dcs import DcsWhitelistApi


def main():
    spec = huaweicloud_argument_spec()
    spec.update(instance_id=dict(type='str', required=True))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    try:
        api = DcsWhitelistApi(huaweicloud_client(module, DCS), module.params['instance_id'])
        whitelist = api.read_whitelist()
    except IpguardError as error:
        module.fail_json(**fail_kwargs(error))
    module.exit_json(changed=False, enable_whitelist=whitelist.enabled, groups=whitelist.as_result(), ip_limit=whitelist.ip_limit)


if __name__ == '__main__':
    main()
