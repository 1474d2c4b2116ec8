# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""IPv4 allow-list entries: parsing, normalising, validating and the vendors' limits as data.

Every whitelist module compares entries as sets of canonical strings: an address is written
without a prefix (``10.0.0.1``, never ``10.0.0.1/32``) and a network as ``address/prefix``.
"""

import functools
import ipaddress
import re
from collections import namedtuple

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ValidationError

WHOLE_IPV4_SPACE = ipaddress.IPv4Network('0.0.0.0/0')


def parse_entry(value):
    """Parse one user-supplied entry into an ``IPv4Network``; raise ValidationError naming it."""
    if not isinstance(value, str):
        raise ValidationError('%r (%s) is not an IPv4 address or CIDR' % (value, type(value).__name__))
    text = value.strip()
    if not text:
        raise ValidationError('an empty string is not an IPv4 address or CIDR')
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        if ':' in text:
            raise ValidationError('%r is an IPv6 entry; these APIs accept IPv4 only' % value)
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValidationError('%r is not a valid IPv4 address or CIDR' % value)
        raise ValidationError('%r has host bits set: did you mean %s?' % (value, loose))
    if network.version != 4:
        raise ValidationError('%r is an IPv6 entry; these APIs accept IPv4 only' % value)
    return network


def canonical(network):
    """The canonical text of a parsed entry: single addresses carry no ``/32``."""
    if network.prefixlen == 32:
        return str(network.network_address)
    return str(network)


# Bulk runs sort and normalise the same few entries on every instance: parse each text once.
@functools.lru_cache(maxsize=4096)
def _sort_key(entry):
    try:
        network = ipaddress.IPv4Network(entry)
    except ValueError:
        # Vendor data we could not parse sorts last, in text order.
        return (1, 0, 0, entry)
    return (0, int(network.network_address), network.prefixlen, entry)


def sorted_entries(entries):
    """Entries in numeric address order (then prefix length), for stable output and diffs."""
    return sorted(set(entries), key=_sort_key)


def normalize_ips(values, option='ips'):
    """Validate and normalise a user-supplied list; return sorted, de-duplicated canonical entries.

    Every bad entry is named in one error, so a user fixes them all at once.
    """
    if values is None:
        return None
    canonical_entries = set()
    problems = []
    for value in values:
        try:
            canonical_entries.add(canonical(parse_entry(value)))
        except ValidationError as exc:
            problems.append(exc.message)
    if problems:
        raise ValidationError('Invalid entries in %s: %s' % (option, '; '.join(problems)))
    return sorted_entries(canonical_entries)


@functools.lru_cache(maxsize=4096)
def normalize_vendor_entry(text):
    """Canonical form of an entry read back from a vendor API.

    Vendors may hold entries that our strict user-input rules reject (host bits set, odd
    spacing); those are kept as the vendor wrote them so that we never rewrite or drop them.
    """
    text = text.strip()
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        return text
    if network.version != 4:
        return text
    return canonical(network)


def split_vendor_list(text, separator):
    """Entries of a vendor's joined list (``,`` for Redis SecurityIpList, ``;`` for CidrIp)."""
    if not text:
        return []
    return sorted_entries(normalize_vendor_entry(part) for part in text.split(separator) if part.strip())


def world_open_entries(entries):
    """The entries that open access to any address.

    An entry counts when it is ``0.0.0.0/0`` or the bare address ``0.0.0.0``, which some Alibaba
    products read as "any" (the safe reading). A set counts when its entries together cover the
    whole IPv4 space (for example ``0.0.0.0/1`` and ``128.0.0.0/1``); it is then reported as one
    item naming all its entries.
    """
    networks = []
    offenders = []
    for entry in entries:
        try:
            network = ipaddress.IPv4Network(entry, strict=False)
        except ValueError:
            continue
        if network.prefixlen == 0 or (network.prefixlen == 32 and int(network.network_address) == 0):
            offenders.append(entry)
        networks.append(network)
    if offenders:
        return offenders
    if WHOLE_IPV4_SPACE in ipaddress.collapse_addresses(networks):
        return ['%s (together they cover 0.0.0.0/0)' % ', '.join(sorted_entries(entries))]
    return []


ProviderRules = namedtuple('ProviderRules', [
    'label',                  # human name for messages
    'max_entries_per_group',  # None: no per-group limit
    'max_entries_per_instance',
    'max_groups',
    'group_name_pattern',     # compiled regex, or None
    'group_name_rule',        # the rule in words, for messages
    'reserved_groups',        # names never touched
    'zero_address_forbidden',  # the API rejects any entry whose address part is 0.0.0.0
])

# Alibaba R-kvstore ModifySecurityIps: 1000 entries per group; names are 2-32 characters of
# lowercase letters, digits and '_', starting with a letter and ending with a letter or digit
# (InvalidGroupName.Format otherwise). ali_dms_group and hdm_security_ips are created by DMS/DAS
# and must never be modified.
ALICLOUD_REDIS = ProviderRules(
    label='Alibaba Cloud Redis',
    max_entries_per_group=1000,
    max_entries_per_instance=None,
    max_groups=None,
    group_name_pattern=re.compile(r'\A[a-z][a-z0-9_]{0,30}[a-z0-9]\Z'),
    group_name_rule='2-32 characters of lowercase letters, digits and underscores, starting with a letter and ending with a letter or digit',
    reserved_groups=frozenset(['ali_dms_group', 'hdm_security_ips']),
    zero_address_forbidden=False,
)

# Huawei DCS UpdateIpWhitelist: at most 4 groups; names longer than four characters, starting with a
# letter, of letters, digits, '-' and '_' (capped here at 64 characters: the docs give no upper
# bound); at most whitelist_ip_limit_num (20 unless the API says otherwise) entries per instance
# across all groups; no 0.0.0.0 address part.
HUAWEICLOUD_DCS = ProviderRules(
    label='Huawei Cloud DCS',
    max_entries_per_group=None,
    max_entries_per_instance=20,
    max_groups=4,
    group_name_pattern=re.compile(r'\A[A-Za-z][A-Za-z0-9_-]{4,63}\Z'),
    group_name_rule='5 to 64 characters of letters, digits, "-" and "_", starting with a letter',
    reserved_groups=frozenset(),
    zero_address_forbidden=True,
)

# Alibaba API Gateway AddIpControlPolicyItem: CidrIp holds at most 10 entries joined with ';',
# and a control holds at most 100 policy items.
APIGATEWAY_MAX_CIDRS_PER_ITEM = 10
APIGATEWAY_MAX_ITEMS = 100
APIGATEWAY_CONTROL_NAME = re.compile(r'\A[A-Za-z0-9][A-Za-z0-9_]{3,49}\Z')
APIGATEWAY_CONTROL_NAME_RULE = '4-50 characters of letters, digits and underscores, not starting with an underscore'


def check_group_name(rules, name):
    """Raise ValidationError when ``name`` breaks the provider's group-name rule or is reserved."""
    if name in rules.reserved_groups:
        raise ValidationError('group %r is a system group of %s and is never modified by this collection' % (name, rules.label))
    if rules.group_name_pattern is not None and not (isinstance(name, str) and rules.group_name_pattern.fullmatch(name)):
        raise ValidationError('group_name %r is not valid for %s: use %s' % (name, rules.label, rules.group_name_rule))


def check_group_size(rules, name, entries):
    """Raise ValidationError when one group would hold more entries than the API allows."""
    limit = rules.max_entries_per_group
    if limit is not None and len(entries) > limit:
        raise ValidationError('group %r would hold %d entries; %s allows at most %d per group' % (name, len(entries), rules.label, limit))


def check_zero_address(rules, entries):
    """Raise ValidationError for entries the API refuses because their address part is 0.0.0.0."""
    if not rules.zero_address_forbidden:
        return
    bad = [entry for entry in entries if entry.split('/')[0] == '0.0.0.0']
    if bad:
        raise ValidationError('%s does not accept entries whose address is 0.0.0.0: %s' % (rules.label, ', '.join(bad)))
