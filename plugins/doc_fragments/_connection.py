# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later


class ModuleDocFragment:
    """How every module talks to an API: TLS, timeouts and retries."""

    DOCUMENTATION = r'''
options:
  validate_certs:
    description:
      - Verify the endpoint's TLS certificate. Only turn this off for test servers.
      - A failed verification fails the task at once; it is not retried.
    type: bool
    default: true
  ca_bundle:
    description:
      - Path of a PEM file of CA certificates to verify the endpoint's TLS certificate with, for example the
        CA of a TLS-inspecting proxy or of a private endpoint. Only these CAs are trusted then.
      - When not set, the C(requests) library's usual choice applies, that is the file named by the
        environment variable E(REQUESTS_CA_BUNDLE), else by E(CURL_CA_BUNDLE), else the C(certifi) bundle
        that comes with C(requests).
      - A path that does not exist, is not a file or holds no PEM certificate fails the task before any call.
      - Cannot be combined with O(validate_certs=false).
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
      - A number greater than 0 and at most 3600.
    type: float
    default: 30
  retries:
    description:
      - How many times to repeat a call after throttling (an Alibaba Cloud C(Throttling*) code or HTTP 429),
        a server error (HTTP 5xx), a connection problem or a busy instance, with jittered exponential
        backoff and a fresh signature each time.
      - Authentication and parameter errors are never retried, nor are TLS certificate failures and URLs or
        headers the HTTP library refuses.
      - From 0 to 20.
    type: int
    default: 5
notes:
  - O(endpoint) may use plain V(http://) for a local test server. For a host other than V(localhost),
    V(127.0.0.0/8) or V(::1), the module warns that every request, with the access key id, its signature and
    any security token, travels in clear text; use V(https://) there.
'''
