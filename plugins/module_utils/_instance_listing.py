# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Listing instances, paged to the end: R-kvstore DescribeInstances and DCS ListInstances.

Used by the inventory plugins. The request and response shapes are those of the official SDK models
(alibabacloud-r-kvstore20150101 DescribeInstancesRequest / DescribeInstancesResponseBody,
huaweicloudsdkdcs ListInstancesRequest / ListInstancesResponse). Filters on status and tags are sent to
the vendor where its API can express them (one status; at most five Alibaba tag pairs), and always
applied again to what comes back, so a filter the API cannot express, or ignores, still holds.

Every listed instance becomes a record: ``instance_id``, ``region``, ``instance_name``, ``status`` and
``tags`` (a dict), plus ``project_id`` for DCS. Records hold nothing secret: they may be cached.
"""

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import ApiError, ValidationError

# DescribeInstances: "PageSize: maximum value 50, default 30"; PageNumber starts at 1; at most
# 5 Tag pairs per request, and RegionId is required with them.
REDIS_MAX_PAGE_SIZE = 50
REDIS_MAX_TAG_FILTERS = 5
# ListInstances: "limit: minimum 1, maximum 1000, default 10"; offset is a record offset from 0.
DCS_MAX_PAGE_SIZE = 1000
# A listing that has not ended after this many pages is a vendor fault, not a fleet: stop, loudly.
MAX_PAGES = 10000

FILTER_KEYS = ('status', 'tags')


def check_page_size(page_size, maximum, option='page_size'):
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= maximum:
        raise ValidationError('%s %r is not valid: use a whole number from 1 to %d' % (option, page_size, maximum))
    return page_size


def _scalar_text(value, where):
    """A tag key or value as text: YAML reads ``tier: 1`` as a number, the vendors' tags are strings."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ValidationError('%s must be a string, not %r' % (where, value))


def check_filters(filters, option='filters'):
    """``(statuses, tags)`` from the ``filters`` option: a tuple of status names (any of them matches)
    and a dict of tag key -> value (every pair must match). Anything else is refused, naming it."""
    if filters is None:
        return (), {}
    if not isinstance(filters, dict):
        raise ValidationError('%s must be a dict with the keys %s' % (option, ' and '.join(FILTER_KEYS)))
    unknown = sorted(set(filters) - set(FILTER_KEYS))
    if unknown:
        raise ValidationError('%s has unknown key(s) %s (allowed: %s)' % (option, ', '.join(map(str, unknown)), ', '.join(FILTER_KEYS)))
    status = filters.get('status')
    if status is None:
        statuses = ()
    else:
        if isinstance(status, str):
            status = [status]
        if not isinstance(status, list) or not status or not all(isinstance(item, str) and item for item in status):
            raise ValidationError('%s.status must be a list of instance statuses, for example [Normal] or [RUNNING]' % option)
        statuses = tuple(dict.fromkeys(status))
    tags = filters.get('tags')
    if tags is None:
        tags = {}
    if not isinstance(tags, dict):
        raise ValidationError('%s.tags must be a dict of tag key to tag value, for example {env: prod}' % option)
    checked = {}
    for key, value in tags.items():
        text = _scalar_text(key, '%s.tags key' % option)
        if not text:
            raise ValidationError('%s.tags has an empty tag key' % option)
        checked[text] = _scalar_text(value, '%s.tags.%s' % (option, text))
    return statuses, checked


def matches(record, statuses, tags):
    """Whether ``record`` passes the filters: one of ``statuses`` (if any), and every tag pair."""
    if statuses and record['status'] not in statuses:
        return False
    return all(record['tags'].get(key) == value for key, value in tags.items())


def _total(value):
    """A TotalCount / instance_num as an int, or None when the answer has none we can read."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _tag_dict(tags, key_name, value_name, label):
    if not isinstance(tags, list):
        raise ApiError('%s: unexpected answer: the tags of an instance are not a list' % label)
    result = {}
    for tag in tags:
        if not isinstance(tag, dict) or not isinstance(tag.get(key_name), str):
            raise ApiError('%s: unexpected answer: a tag without a %s' % (label, key_name))
        value = tag.get(value_name)
        result[tag[key_name]] = '' if value is None else str(value)
    return result


def _instance_id(item, name, label):
    instance_id = item.get(name) if isinstance(item, dict) else None
    if not isinstance(instance_id, str) or not instance_id:
        raise ApiError('%s: unexpected answer: an instance without %s' % (label, name))
    return instance_id


def redis_record(item, region):
    """The record of one ``KVStoreInstance`` of a DescribeInstances answer."""
    label = 'Alibaba Cloud R-kvstore DescribeInstances'
    tags = (item.get('Tags') or {}).get('Tag') if isinstance(item, dict) else None
    return {
        'instance_id': _instance_id(item, 'InstanceId', label),
        # Each instance names its region; the region asked for stands in when it does not.
        'region': item.get('RegionId') or region,
        'instance_name': item.get('InstanceName') or '',
        'status': item.get('InstanceStatus') or '',
        'tags': _tag_dict(tags or [], 'Key', 'Value', label),
    }


def dcs_record(item, region, project_id):
    """The record of one ``InstanceListInfo`` of a ListInstances answer (it names no region: the one asked for)."""
    label = 'Huawei Cloud DCS ListInstances'
    return {
        'instance_id': _instance_id(item, 'instance_id', label),
        'region': region,
        'project_id': project_id,
        'instance_name': item.get('name') or '',
        'status': item.get('status') or '',
        'tags': _tag_dict(item.get('tags') or [], 'key', 'value', label),
    }


class _Pages:
    """Collects the records of a listing page by page, without duplicates.

    An instance created or deleted while the listing runs shifts the later pages, so an instance
    can show up on two pages; it is kept once.
    """

    def __init__(self, label):
        self.label = label
        self.records = []
        self.seen = set()
        self.pages = 0

    def add(self, records):
        self.pages += 1
        if self.pages > MAX_PAGES:
            raise ApiError('%s: the listing did not end after %d pages' % (self.label, MAX_PAGES))
        for record in records:
            if record['instance_id'] not in self.seen:
                self.seen.add(record['instance_id'])
                self.records.append(record)


def list_redis_instances(client, statuses=(), tags=None, page_size=REDIS_MAX_PAGE_SIZE):
    """Every R-kvstore instance in the client's region that passes the filters (DescribeInstances, all pages).

    The client's region is sent as RegionId. Without a region (only an ``endpoint``), the tag pairs are
    not sent (the API requires RegionId with them) and are only applied locally.
    """
    tags = tags or {}
    check_page_size(page_size, REDIS_MAX_PAGE_SIZE)
    params = {'PageSize': str(page_size)}
    if len(statuses) == 1:
        params['InstanceStatus'] = statuses[0]
    if client.credentials.region:
        # The first five pairs (in key order, so the request is the same every run) go to the API.
        for number, (key, value) in enumerate(sorted(tags.items())[:REDIS_MAX_TAG_FILTERS], 1):
            params['Tag.%d.Key' % number] = key
            params['Tag.%d.Value' % number] = value
    pages = _Pages('Alibaba Cloud R-kvstore DescribeInstances')
    number = 1
    while True:
        data = client.call('DescribeInstances', dict(params, PageNumber=str(number)))
        items = (data.get('Instances') or {}).get('KVStoreInstance') or []
        if not isinstance(items, list):
            raise ApiError('%s: unexpected answer: Instances.KVStoreInstance is not a list' % pages.label)
        pages.add([redis_record(item, client.credentials.region) for item in items])
        total = _total(data.get('TotalCount'))
        # The last page: an empty one, the one that reaches TotalCount, or (without a TotalCount) a short one.
        if not items or (number * page_size >= total if total is not None else len(items) < page_size):
            break
        number += 1
    return [record for record in pages.records if matches(record, statuses, tags)]


def list_dcs_instances(client, region, statuses=(), tags=None, page_size=DCS_MAX_PAGE_SIZE):
    """Every DCS instance of the client's project that passes the filters (ListInstances, all pages).

    ``region`` is recorded in each record: the answer does not name it. Tag pairs go to the API as
    ``tags={key}={value},...``; a pair the format cannot carry (a comma anywhere, or ``=`` in the key)
    is only applied locally.
    """
    tags = tags or {}
    check_page_size(page_size, DCS_MAX_PAGE_SIZE)
    query = {'limit': str(page_size)}
    if len(statuses) == 1:
        query['status'] = statuses[0]
    sendable = sorted((key, value) for key, value in tags.items() if ',' not in key + value and '=' not in key)
    if sendable:
        query['tags'] = ','.join('%s=%s' % pair for pair in sendable)
    pages = _Pages('Huawei Cloud DCS ListInstances')
    offset = 0
    while True:
        data = client.request('ListInstances', 'GET', '/v2/%s/instances' % client.project_id, query=dict(query, offset=str(offset))) or {}
        items = data.get('instances') or []
        if not isinstance(items, list):
            raise ApiError('%s: unexpected answer: instances is not a list' % pages.label)
        pages.add([dcs_record(item, region, client.project_id) for item in items])
        offset += len(items)
        total = _total(data.get('instance_num'))
        if not items or (offset >= total if total is not None else len(items) < page_size):
            break
    return [record for record in pages.records if matches(record, statuses, tags)]
