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
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: float
    default: 30
  retries:
    description:
      - How many times to repeat a call after throttling (an Alibaba Cloud C(Throttling*) code or HTTP 429),
        a server error (HTTP 5xx), a connection problem or a busy instance, with jittered exponential
        backoff and a fresh signature each time.
      - Authentication and parameter errors are never retried.
    type: int
    default: 5
'''
