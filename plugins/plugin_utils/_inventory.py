# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the ipguard.cloud inventory plugins share: reading the source, the cache, failing regions,
and turning instance records into hosts, host variables and groups.

A plugin says which cloud it lists (``TARGET``), which regions a source names (``region_sources``)
and how to list one of them (``list_region``); the listing itself is module_utils/_instance_listing.py,
on the same client layer as the modules.
"""

import hashlib
import json

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.ipguard.cloud.plugins.module_utils._errors import IpguardError, redact
from ansible_collections.ipguard.cloud.plugins.module_utils._instance_listing import check_filters

# The keys of an instance record (module_utils/_instance_listing.py); a cached record lacking one is stale.
RECORD_KEYS = ('instance_id', 'region', 'instance_name', 'status', 'tags')


class RegionSource:
    """One region a source lists: its name (None: only the endpoint is known), the project for DCS,
    and the client that lists it."""

    def __init__(self, region, client, project_id=None):
        self.region = region
        self.client = client
        self.project_id = project_id

    @property
    def label(self):
        where = 'region %s' % (self.region or '(none: endpoint only)')
        return '%s, project %s' % (where, self.project_id) if self.project_id else where


class IpguardInventory(BaseInventoryPlugin, Constructable, Cacheable):
    """The base of the ipguard.cloud inventory plugins."""

    # The host variable ipguard_target, and the cloud named in messages.
    TARGET = None
    LABEL = None
    CONFIG_SUFFIXES = ()

    def verify_file(self, path):
        """Only files named like ``*alicloud_redis.yml``, so the plugin never claims another source."""
        return super().verify_file(path) and path.endswith(self.CONFIG_SUFFIXES)

    # ------------------------------------------------------------------ for the plugins

    def region_sources(self):
        """The RegionSource of every region the source lists, in order; raises IpguardError on bad options."""
        raise NotImplementedError

    def list_region(self, source, statuses, tags):
        """The instance records of one region (module_utils/_instance_listing.py)."""
        raise NotImplementedError

    def identity(self, sources):
        """What, besides the file, decides which instances a source lists; part of the cache key."""
        return [[source.region, source.project_id] for source in sources]

    def option_set_by_user(self, name):
        """The option's value when the source file sets it, else None: values from the environment are
        left to the client layer's own credential chain, which ranks them after a named profile."""
        # The source file's own keys, not get_option_and_origin(): before ansible-core 2.19 that asks
        # the configuration again without the file's values, and names the environment's instead.
        if name not in self.source_file_options:
            return None
        value = self.get_option(name)
        return None if value in (None, '') else value

    # ------------------------------------------------------------------ parse

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self.source_file_options = self._read_config_data(path) or {}
        try:
            statuses, tags = check_filters(self.get_option('filters'))
            sources = self.region_sources()
        except IpguardError as error:
            raise AnsibleParserError('%s: %s' % (self.NAME, error.message))
        self.secrets = set()
        for source in sources:
            self.secrets.update(secret for secret in source.client.secrets() if secret)

        cache_key = '%s_%s' % (self.get_cache_key(path), self.fingerprint(sources, statuses, tags))
        use_cache = self.get_option('cache')
        # As the inventory cache documents it: read the cache unless told to refresh it (--flush-cache),
        # and write it whenever the source had to be listed.
        records = None
        update_cache = use_cache and not cache
        if use_cache and cache:
            records = self.cached_records(cache_key)
            update_cache = records is None
        if records is None:
            records, complete = self.list_sources(sources, statuses, tags)
            if update_cache and complete:
                self._cache[cache_key] = records
        self.populate(records)

    def fingerprint(self, sources, statuses, tags):
        """A short digest of what the source lists, so that changing the regions, filters or endpoint
        never reads the instances cached for other ones. Built from names and ids only, no secret."""
        document = {'sources': self.identity(sources), 'statuses': sorted(statuses), 'tags': tags,
                    'endpoint': self.get_option('endpoint')}
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode('utf-8')).hexdigest()[:12]

    def cached_records(self, cache_key):
        """The records cached under ``cache_key``, or None when there are none or they do not look right."""
        try:
            records = self._cache[cache_key]
        except KeyError:
            return None
        if not isinstance(records, list) or not all(isinstance(record, dict) and all(key in record for key in RECORD_KEYS)
                                                    for record in records):
            self.display.warning('%s: ignoring an inventory cache entry that does not look like this plugin\'s' % self.NAME)
            return None
        return records

    def list_sources(self, sources, statuses, tags):
        """``(records, complete)``: the records of every region, and whether every region was listed."""
        records = []
        complete = True
        seen = set()
        for source in sources:
            try:
                listed = self.list_region(source, statuses, tags)
            except IpguardError as error:
                message = redact('%s: listing the %s instances of %s failed: %s' % (self.NAME, self.LABEL, source.label, error.message),
                                 self.secrets | set(secret for secret in source.client.secrets() if secret))
                if not self.get_option('skip_failed_regions'):
                    raise AnsibleError('%s. No inventory from this source: fix the cause, or set skip_failed_regions: true to '
                                       'list the other regions without this one.' % message)
                self.display.warning('%s. That region is skipped (skip_failed_regions: true); the inventory is not cached.' % message)
                complete = False
                continue
            for record in listed:
                # Two sources listing one instance (the same region twice) give one host.
                if record['instance_id'] not in seen:
                    seen.add(record['instance_id'])
                    records.append(record)
        return records, complete

    # ------------------------------------------------------------------ populate

    def host_variables(self, record):
        variables = {
            'instance_id': record['instance_id'],
            'region': record['region'],
            'instance_name': record['instance_name'],
            'status': record['status'],
            'tags': dict(record['tags']),
            'ipguard_target': self.TARGET,
        }
        if 'project_id' in record:
            variables['project_id'] = record['project_id']
        if record.get('role_arn'):
            # The RAM role the source listed the instance with (Alibaba assume_role).
            variables['role_arn'] = record['role_arn']
        return variables

    def populate(self, records):
        strict = self.get_option('strict')
        compose = self.get_option('compose')
        groups = self.get_option('groups')
        keyed_groups = self.get_option('keyed_groups')
        for record in records:
            host = record['instance_id']
            self.inventory.add_host(host)
            for name, value in self.host_variables(record).items():
                self.inventory.set_variable(host, name, value)
            variables = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(compose, variables, host, strict=strict)
            self._add_host_to_composed_groups(groups, variables, host, strict=strict)
            self._add_host_to_keyed_groups(keyed_groups, variables, host, strict=strict)
