# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading Alibaba RPC parameters: required values and PageNumber/PageSize paging."""

from .errors import invalid_parameter, missing_parameter


def required(params, name):
    value = params.get(name)
    if value is None or value == '':
        raise missing_parameter(name)
    return value


def _positive_int(params, name, default, maximum):
    text = params.get(name)
    if text is None or text == '':
        return default
    if not text.isdigit() or int(text) < 1 or (maximum is not None and int(text) > maximum):
        raise invalid_parameter(name, 'must be an integer from 1 to %s' % (maximum or 'any'))
    return int(text)


def paginate(params, items, default_size, max_size):
    """One page of ``items`` and the TotalCount/PageNumber/PageSize fields that describe it."""
    page_number = _positive_int(params, 'PageNumber', 1, None)
    page_size = _positive_int(params, 'PageSize', default_size, max_size)
    page = items[(page_number - 1) * page_size:page_number * page_size]
    return page, {'TotalCount': len(items), 'PageNumber': page_number, 'PageSize': page_size}
