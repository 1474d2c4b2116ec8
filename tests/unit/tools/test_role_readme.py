# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""tests/tools/role_readme.py: every role's README variables section and defaults match its argument specs."""

import importlib.util
import pathlib

import pytest

COLLECTION_ROOT = pathlib.Path(__file__).resolve().parents[3]
ROLES = sorted(path.name for path in (COLLECTION_ROOT / 'roles').iterdir() if (path / 'tasks').is_dir())


def load_tool():
    spec = importlib.util.spec_from_file_location('role_readme', str(COLLECTION_ROOT / 'tests' / 'tools' / 'role_readme.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


role_readme = load_tool()

SPECS = '''\
---
argument_specs:
  main:
    short_description: Demo role for V(tests)
    options:
      demo_names:
        type: list
        elements: str
        default: []
        description:
          - Names, see C(demo_mode).
          - A | in text stays inside the cell.
      demo_mode:
        type: str
        default: fast
        choices: [fast, slow]
        description: How fast.
      demo_target:
        type: dict
        required: true
        description: I(Where) to go.
        options:
          host:
            type: str
            description: B(Host) name.
  cleanup:
    short_description: Second entry point
'''

EXPECTED_SECTION = '''\
<!-- BEGIN ROLE VARIABLES -->
<!-- Generated from meta/argument_specs.yml by tests/tools/role_readme.py --write; do not edit by hand. -->

### Entry point `main`

Demo role for `tests`

| Variable | Type | Default | Description |
| --- | --- | --- | --- |
| `demo_mode` | str; one of `fast`, `slow` | `"fast"` | How fast. |
| `demo_names` | list of str | `[]` | Names, see `demo_mode`.<br>A \\| in text stays inside the cell. |
| `demo_target` | dict, **required** |  | *Where* to go. |
| `demo_target.host` | str |  | **Host** name. |

### Entry point `cleanup`

Second entry point

This entry point takes no variables.

<!-- END ROLE VARIABLES -->'''


def make_role(tmp_path, readme=None, defaults='---\ndemo_names: []\ndemo_mode: fast\n'):
    role = tmp_path / 'demo'
    (role / 'tasks').mkdir(parents=True)
    (role / 'meta').mkdir()
    (role / 'defaults').mkdir()
    (role / 'meta' / 'argument_specs.yml').write_text(SPECS)
    (role / 'defaults' / 'main.yml').write_text(defaults)
    if readme is not None:
        (role / 'README.md').write_text(readme)
    return role


@pytest.mark.parametrize('role', ROLES)
def test_every_role_readme_is_up_to_date(role):
    assert role_readme.process_role(COLLECTION_ROOT / 'roles' / role, write=False) == []


def test_section_rendering():
    assert role_readme.render_section(role_readme.yaml.safe_load(SPECS)) == EXPECTED_SECTION


def test_write_replaces_only_the_section_then_check_passes(tmp_path, capsys):
    role = make_role(tmp_path, readme='# demo\n\nProse stays.\n\n<!-- BEGIN ROLE VARIABLES -->\nstale\n<!-- END ROLE VARIABLES -->\n\nTrailer stays.\n')
    assert role_readme.main([str(role)]) == 1
    assert 'demo: README.md is out of date; run python tests/tools/role_readme.py --write' in capsys.readouterr().err
    assert role_readme.main(['--write', str(role)]) == 0
    assert (role / 'README.md').read_text() == '# demo\n\nProse stays.\n\n%s\n\nTrailer stays.\n' % EXPECTED_SECTION
    assert role_readme.main([str(role)]) == 0
    assert capsys.readouterr().out.endswith('checked 1 role README(s): demo\n')


def test_readme_without_section_or_without_file(tmp_path):
    role = make_role(tmp_path, readme='# demo\n')
    assert role_readme.main(['--write', str(role)]) == 0
    assert (role / 'README.md').read_text() == '# demo\n\n## Variables\n\n%s\n' % EXPECTED_SECTION
    (role / 'README.md').unlink()
    assert role_readme.main(['--write', str(role)]) == 0
    assert (role / 'README.md').read_text() == '# demo\n\n## Variables\n\n%s\n' % EXPECTED_SECTION


def test_roles_dir_lists_only_roles(tmp_path, capsys):
    make_role(tmp_path, readme='')
    (tmp_path / 'not_a_role').mkdir()
    assert role_readme.main(['--write', '--roles-dir', str(tmp_path)]) == 0
    assert capsys.readouterr().out == 'wrote 1 role README(s): demo\n'


@pytest.mark.parametrize('defaults, problem', [
    ('---\ndemo_names: []\n', 'demo: demo_mode: meta/argument_specs.yml documents the default "fast" but defaults/main.yml has no value'),
    ('---\ndemo_names: []\ndemo_mode: slow\n', 'demo: demo_mode: meta/argument_specs.yml documents the default "fast" but defaults/main.yml has "slow"'),
    ('---\ndemo_names: []\ndemo_mode: fast\ndemo_extra: 1\n', 'demo: defaults/main.yml sets demo_extra, which meta/argument_specs.yml does not document'),
    ('---\ndemo_names: []\ndemo_mode: fast\ndemo_target: {}\n',
     'demo: demo_target: defaults/main.yml sets {} but meta/argument_specs.yml documents no default'),
])
def test_defaults_must_match_the_specs(tmp_path, defaults, problem):
    role = make_role(tmp_path, defaults=defaults)
    role_readme.process_role(role, write=True)
    assert role_readme.process_role(role, write=False) == [problem]


@pytest.mark.parametrize('files, problem', [
    ({'meta/argument_specs.yml': None}, 'demo: meta/argument_specs.yml is missing'),
    ({'meta/argument_specs.yml': '---\nargument_specs: {}\n'}, 'demo: meta/argument_specs.yml has no argument_specs entry points'),
    ({'meta/argument_specs.yml': 'argument_specs: [\n'}, 'demo: while parsing a flow'),
    ({'README.md': '<!-- END ROLE VARIABLES -->\n<!-- BEGIN ROLE VARIABLES -->\n'},
     'demo: README.md must hold <!-- BEGIN ROLE VARIABLES --> before <!-- END ROLE VARIABLES -->, once each'),
])
def test_broken_roles_are_reported(tmp_path, files, problem):
    role = make_role(tmp_path)
    for name, text in files.items():
        if text is None:
            (role / name).unlink()
        else:
            (role / name).write_text(text)
    problems = role_readme.process_role(role, write=False)
    assert len(problems) == 1 and problems[0].startswith(problem)
