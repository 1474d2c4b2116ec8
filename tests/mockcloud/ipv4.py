# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""IPv4 address/CIDR entries as the whitelist APIs accept them."""

import ipaddress
import re

# ipaddress also takes "10.0.0.0/255.0.0.0" and bare integers; none of the APIs document
# those forms, so only dotted quads with an optional prefix length are entries.
ENTRY_SHAPE = re.compile(r'^[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?$')


def parse_entry(text):
    """The IPv4Network an address or CIDR entry denotes, or None if it is not a valid entry.

    A CIDR with host bits set ("10.0.0.1/24") is refused, as is anything IPv6.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not ENTRY_SHAPE.match(text):
        return None
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        return None


def entry_key(text):
    """The comparison key of a valid entry: "1.2.3.4" and "1.2.3.4/32" share one key."""
    return str(parse_entry(text))


def merge_entries(existing, added):
    """Set union that keeps the order and spelling of the first occurrence of each entry."""
    merged = []
    seen = set()
    for entry in list(existing) + list(added):
        key = entry_key(entry)
        if key not in seen:
            seen.add(key)
            merged.append(entry.strip())
    return merged


def remove_entries(existing, removed):
    """Set difference on comparison keys, keeping the order of the remaining entries."""
    removed_keys = set(entry_key(entry) for entry in removed)
    return [entry for entry in existing if entry_key(entry) not in removed_keys]
