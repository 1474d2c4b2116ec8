# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates its sanity/units virtual environments without pip and then fetches
get-pip.py from its own CI file host, which these machines cannot reach. It runs the cached
script (``~/.ansible/test/cache/get_pip_<version>.py``) with pip-install style arguments;
tests/run.sh copies this file there. We bootstrap pip with the standard library's ensurepip
and then install exactly what ansible-test asked for from the package index.
"""

import subprocess
import sys

# Options only get-pip.py understands; plain ``pip install`` would reject them.
GET_PIP_ONLY_OPTIONS = ('--no-setuptools', '--no-wheel')


def main():
    """Bootstrap pip, then install the requested packages."""
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'])
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)


if __name__ == '__main__':
    main()
