# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    """Options every ipguard.cloud inventory plugin shares: filters, failing regions, and how to talk to the API."""

    DOCUMENTATION = r'''
options:
  filters:
    description:
      - Only instances that pass every filter given here become hosts.
      - The filters are sent to the API where it can express them (one status; tag pairs) and always checked again on
        what it returns.
    type: dict
    default: {}
    suboptions:
      tags:
        description:
          - Tag key to tag value; an instance must carry every pair, with exactly that value.
          - Numbers and booleans are compared as the text YAML would write them (V(1), V(true)); quote them to be sure.
        type: dict
      status:
        description:
          - Instance statuses; an instance in any of them passes.
          - Without it, instances in every status are listed.
        type: list
        elements: str
  skip_failed_regions:
    description:
      - What to do when listing the instances of one region fails (an authentication or permission error, throttling
        that outlasts O(retries), an unreachable endpoint).
      - V(false) fails the whole inventory source, naming the region and the error, so that a job never runs on a
        partial inventory without saying so.
      - V(true) warns, naming the region and the error, and goes on with the other regions. A partial result is never
        written to the inventory cache.
    type: bool
    default: false
  endpoint:
    description:
      - Full URL of the API endpoint, with scheme, used for every region instead of the regional endpoints; for a VPC
        endpoint or a local test server (plain V(http://) is accepted for that; to a host other than loopback it draws
        a warning, since the requests then travel in clear text).
      - Only C(scheme://host[:port]); a path, query, user or password, or a port outside 1-65535 is refused.
    type: str
  validate_certs:
    description:
      - Verify the endpoint's TLS certificate. Only turn this off for test servers.
    type: bool
    default: true
  ca_bundle:
    description:
      - Path of a PEM file of CA certificates to verify the endpoint's TLS certificate with.
      - When not set, the file named by E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE), else the C(certifi) bundle of C(requests).
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer; greater than 0 and at most 3600.
    type: float
    default: 30
  retries:
    description:
      - How many times to repeat a page after throttling, a server error (HTTP 5xx) or a connection problem, with
        jittered exponential backoff and a fresh signature each time. From 0 to 20.
      - Authentication and parameter errors are never retried.
    type: int
    default: 5
notes:
  - One host per instance, named by its instance ID, with the host variables C(instance_id), C(region),
    C(instance_name), C(status), C(tags) (a dict of tag key to value) and C(ipguard_target), which the role
    P(ipguard.cloud.office_whitelist#role) reads to manage exactly the hosts of a play.
  - The hosts are cloud instances, not machines Ansible can log in to. Plays over them set C(gather_facts) to V(false);
    the role runs its module tasks on the controller.
  - Secrets (keys, tokens) never appear in host variables, messages or the inventory cache.
'''
