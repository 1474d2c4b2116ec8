# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A local fake of the Alibaba Cloud (R-kvstore, API Gateway) and Huawei Cloud (DCS) whitelist
APIs, for testing playbooks offline. See README.md in this directory."""

from .errors import SeedError
from .server import MockCloud
from .state import (DEFAULT_ALIBABA_REGION, DEFAULT_CREDENTIALS, DEFAULT_HUAWEI_PROJECT_ID, DEFAULT_HUAWEI_REGION, EXAMPLE_SEED,
                    normalise_seed)

__all__ = [
    'DEFAULT_ALIBABA_REGION', 'DEFAULT_CREDENTIALS', 'DEFAULT_HUAWEI_PROJECT_ID', 'DEFAULT_HUAWEI_REGION', 'EXAMPLE_SEED',
    'MockCloud', 'SeedError', 'normalise_seed',
]
