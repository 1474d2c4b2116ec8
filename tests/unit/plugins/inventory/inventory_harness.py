# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Running an ipguard.cloud inventory plugin's ``parse`` in a unit test, as ansible-inventory would.

The plugin loader reads a plugin's DOCUMENTATION (with its doc fragments) to register the option
definitions with the config manager, and that needs the collection loader. Unit tests also run under
plain pytest, without it, so ``load_plugin`` does the same registration from the plugin module and
the fragment modules themselves: the options, defaults and environment variables tested are the
documented ones.
"""

import importlib
import os

import yaml

from ansible import constants as C
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader

# Every variable the plugins read from the environment; tests start without any of them.
CLOUD_ENV_PREFIXES = ('ALIBABA_CLOUD_', 'ALICLOUD_', 'HUAWEICLOUD_SDK_')


def documented_options(module):
    """The plugin's options as the plugin loader sees them: its own and those of its doc fragments."""
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = {}
    for fragment in doc.get('extends_documentation_fragment', []):
        if fragment.startswith('ipguard.cloud.'):
            fragment_module = importlib.import_module('ansible_collections.ipguard.cloud.plugins.doc_fragments.' + fragment.split('.')[-1])
        else:
            fragment_module = importlib.import_module('ansible.plugins.doc_fragments.' + fragment)
        options.update(yaml.safe_load(fragment_module.ModuleDocFragment.DOCUMENTATION).get('options') or {})
    options.update(doc['options'])
    return options


def load_plugin(module):
    """A fresh plugin object, set up as the plugin loader sets one up."""
    name = module.InventoryModule.NAME
    if not C.config.has_configuration_definition('inventory', name):
        C.config.initialize_plugin_configuration_definitions('inventory', name, documented_options(module))
    plugin = module.InventoryModule()
    plugin._load_name = name
    plugin._original_path = module.__file__
    plugin._redirected_names = []
    plugin.ansible_name = name
    plugin.ansible_aliases = [name]
    return plugin


def clean_environment(monkeypatch):
    for variable in list(os.environ):
        if variable.startswith(CLOUD_ENV_PREFIXES):
            monkeypatch.delenv(variable)


def run_inventory(module, path, cache=True):
    """``(plugin, inventory)`` after parsing the source file ``path``."""
    plugin = load_plugin(module)
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(path), cache=cache)
    # What the inventory manager does after a source is parsed: write what the plugin cached.
    try:
        plugin.update_cache_if_changed()
    except AttributeError:
        pass
    return plugin, inventory


def capture_warnings(monkeypatch):
    """The texts of the warnings the plugins give (through Ansible's display), collected in a list."""
    from ansible.utils.display import Display
    warnings = []
    monkeypatch.setattr(Display, 'warning', lambda self, msg, *args, **kwargs: warnings.append(msg))
    return warnings


def write_source(tmp_path, name, config):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config), encoding='utf-8')
    return path


MAGIC_VARIABLES = ('group_names', 'inventory_dir', 'inventory_file', 'inventory_hostname', 'inventory_hostname_short')


def host_vars(inventory, host):
    """The variables the source gave ``host`` (without the ones every host has)."""
    return dict((name, value) for name, value in inventory.get_host(host).get_vars().items() if name not in MAGIC_VARIABLES)


def group_hosts(inventory):
    """Group name -> sorted host names, for the groups that hold hosts."""
    return dict((name, sorted(host.name for host in group.get_hosts())) for name, group in inventory.groups.items() if group.get_hosts()
                and name != 'all')
