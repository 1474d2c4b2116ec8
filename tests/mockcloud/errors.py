# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one exception type the fake cloud raises for a vendor-shaped failure."""


class CloudError(Exception):
    """A request the fake cloud refuses: HTTP status, vendor error code and message.

    The front ends (alibaba.py, huawei.py) turn it into each vendor's error body. Messages
    never contain a secret, a token or a signature.
    """

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class SeedError(ValueError):
    """A seed, state or fault document that does not follow the documented schema."""


def missing_parameter(name):
    """Alibaba's per-parameter "Missing{Name}" error."""
    return CloudError(400, 'Missing' + name, '%s is mandatory for this action.' % name)


def invalid_parameter(name, detail):
    return CloudError(400, 'InvalidParameter', 'The specified parameter "%s" is not valid: %s' % (name, detail))
