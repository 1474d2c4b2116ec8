# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Calling the modules' client factories from code that has no AnsibleModule (inventory plugins).

The factories (``alicloud_client``, ``huaweicloud_client``) take a module for its ``params``, its
``warn``, its ``no_log_values`` and its ``fail_json``. ``OptionsCaller`` provides exactly those from a
plain dict of options, so an inventory source builds its clients through the very code the modules
use (credential sources and their order, endpoints, signing, retries), and follows it as it changes.
"""

import os

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ValidationError


def module_params(argument_spec, options, environ=None):
    """What ``AnsibleModule.params`` would hold for ``options``: every option of ``argument_spec``,
    with the environment fallbacks the spec declares and then its defaults filling what is unset."""
    environ = os.environ if environ is None else environ
    params = {}
    for name, spec in argument_spec.items():
        value = options.get(name)
        fallback = spec.get('fallback')
        if value is None and fallback and len(fallback) > 1:
            value = next((environ[variable] for variable in fallback[1] if environ.get(variable)), None)
        if value is None:
            value = spec.get('default')
        params[name] = value
    return params


class OptionsCaller:
    """Stands in for the AnsibleModule a client factory takes.

    ``fail_json`` (called by ``require_requests`` when requests is missing) raises ValidationError
    instead of exiting. ``no_log_values`` collects the secrets the factory registers (keys from a
    profile, temporary keys), so the caller can keep them out of its own messages too.
    """

    def __init__(self, argument_spec, options, warn=None, environ=None):
        self.params = module_params(argument_spec, options, environ)
        self.no_log_values = set()
        self._warn = warn

    def warn(self, message):
        if self._warn is not None:
            self._warn(message)

    def fail_json(self, msg, **kwargs):
        raise ValidationError(msg)
