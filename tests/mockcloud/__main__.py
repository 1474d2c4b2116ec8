# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run the fake cloud standalone: ``PYTHONPATH=tests python -m mockcloud --port 0 --seed FILE``.

The first line on stdout is the endpoint URL; it serves until SIGTERM or SIGINT.
"""

import argparse
import signal
import sys
import threading

from .errors import SeedError
from .server import MockCloud


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog='python -m mockcloud', description='Fake Alibaba Cloud and Huawei Cloud whitelist APIs.')
    parser.add_argument('--host', default='127.0.0.1', help='address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=int, default=0, help='port to listen on; 0 picks a free one (default)')
    parser.add_argument('--seed', help='JSON seed file (default: an empty cloud with the default credentials)')
    parser.add_argument('--log', help='append every API request to this JSON-lines file')
    parser.add_argument('--state-out', help='keep this JSON file up to date with the state (after each write and at exit)')
    return parser.parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(argv)
    try:
        cloud = MockCloud(arguments.seed, host=arguments.host, port=arguments.port, log_path=arguments.log, state_out=arguments.state_out)
    except (OSError, SeedError) as error:
        sys.stderr.write('mockcloud: cannot load the seed: %s\n' % error)
        return 2
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *unused: stopping.set())
    signal.signal(signal.SIGINT, lambda *unused: stopping.set())
    with cloud:
        sys.stdout.write(cloud.url + '\n')
        sys.stdout.flush()
        while not stopping.wait(3600):
            pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
