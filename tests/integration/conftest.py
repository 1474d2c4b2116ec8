# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures of the integration suite: the fake cloud, the installed collection, and playbook runs."""

import pathlib
import sys

import pytest

TESTS_DIR = pathlib.Path(__file__).resolve().parent.parent
# The fake cloud is the package tests/mockcloud, imported as "mockcloud".
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from mockcloud import EXAMPLE_SEED, MockCloud  # noqa: E402  pylint: disable=wrong-import-position
from playbook_harness import PlaybookRunner, build_and_install_collection, mockcloud_vars as vars_for  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope='session')
def installed_collection(tmp_path_factory):
    """The collections path holding ipguard.cloud, built and installed once per session."""
    return build_and_install_collection(tmp_path_factory.mktemp('ipguard-collection'))


@pytest.fixture(scope='session')
def mockcloud_server():
    """One fake cloud server for the session, so SDK connection pools stay warm between tests."""
    with MockCloud(EXAMPLE_SEED) as cloud:
        yield cloud


@pytest.fixture
def mockcloud(mockcloud_server):  # pylint: disable=redefined-outer-name
    """The fake cloud, freshly reset to tests/mockcloud/example-seed.json (state, faults, nonces and
    request log); a test calls ``mockcloud.reset(seed)`` for another seed."""
    mockcloud_server.reset(EXAMPLE_SEED)
    return mockcloud_server


@pytest.fixture
def mockcloud_vars(mockcloud):  # pylint: disable=redefined-outer-name
    """Extra vars every playbook run gets: mock_endpoint, mock_control_url, mock_alicloud_auth, mock_huaweicloud_auth."""
    return vars_for(mockcloud)


@pytest.fixture
def run_playbook(installed_collection, mockcloud, tmp_path):  # pylint: disable=redefined-outer-name
    """``run_playbook(playbook, extra_vars=None, check=False, diff=False, env=None, verbosity=0)`` -> PlaybookRun.

    Every run gets the ``mockcloud_vars`` of the test's fake cloud as extra vars.
    """
    return PlaybookRunner(installed_collection, tmp_path, mockcloud)
