# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Keep each role's README variables section and defaults/main.yml in step with meta/argument_specs.yml.

meta/argument_specs.yml is the single source of truth for a role's variables. The section between
the markers below in roles/<role>/README.md is generated from it, and every default in
defaults/main.yml must be the default the spec documents (and the other way round).

    python tests/tools/role_readme.py            # check every role under roles/ (exit 1 when out of date)
    python tests/tools/role_readme.py --write    # regenerate the README sections
    python tests/tools/role_readme.py ROLE_DIR   # only these roles
"""

import argparse
import difflib
import json
import pathlib
import re
import sys

import yaml

BEGIN_MARKER = '<!-- BEGIN ROLE VARIABLES -->'
END_MARKER = '<!-- END ROLE VARIABLES -->'
GENERATED_NOTE = '<!-- Generated from meta/argument_specs.yml by tests/tools/role_readme.py --write; do not edit by hand. -->'
COLLECTION_ROOT = pathlib.Path(__file__).resolve().parent.parent.parent


# Ansible documentation markup (as in module docs) and its Markdown spelling.
MARKUP = (
    (re.compile(r'\bL\(([^)]+?),\s*([^)]+)\)'), r'[\1](\2)'),
    (re.compile(r'\bU\(([^)]+)\)'), r'<\1>'),
    (re.compile(r'\b[CVOEMP]\(([^)]+)\)'), r'`\1`'),
    (re.compile(r'\bI\(([^)]+)\)'), r'*\1*'),
    (re.compile(r'\bB\(([^)]+)\)'), r'**\1**'),
)


class RoleSpecError(Exception):
    """A role whose argument specs cannot be read or rendered."""


def load_yaml(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ').strip()


def _markdown(text):
    for pattern, replacement in MARKUP:
        text = pattern.sub(replacement, text)
    return text


def _description(option):
    description = option.get('description', '')
    if isinstance(description, list):
        description = '<br>'.join(str(paragraph).strip() for paragraph in description)
    return _cell(_markdown(str(description)))


def _default(option):
    if 'default' not in option:
        return ''
    # JSON spelling is also valid YAML, so a reader can paste the value into a playbook.
    return '`%s`' % _cell(json.dumps(option['default'], sort_keys=True))


def _type(option):
    kind = option.get('type', 'str')
    if kind == 'list':
        kind = 'list of %s' % option.get('elements', 'str')
    if option.get('required'):
        kind += ', **required**'
    if option.get('choices'):
        kind += '; one of %s' % ', '.join('`%s`' % _cell(choice) for choice in option['choices'])
    return kind


def _rows(options, prefix=''):
    for name in sorted(options):
        option = options[name] or {}
        yield '| `%s%s` | %s | %s | %s |' % (prefix, name, _type(option), _default(option), _description(option))
        if option.get('options'):
            yield from _rows(option['options'], prefix='%s%s.' % (prefix, name))


def render_section(specs):
    """The generated README section (markers included) for an argument_specs document."""
    entry_points = (specs or {}).get('argument_specs')
    if not entry_points:
        raise RoleSpecError('meta/argument_specs.yml has no argument_specs entry points')
    lines = [BEGIN_MARKER, GENERATED_NOTE]
    for entry_point in sorted(entry_points, key=lambda name: (name != 'main', name)):
        spec = entry_points[entry_point] or {}
        lines.extend(['', '### Entry point `%s`' % entry_point, ''])
        if spec.get('short_description'):
            lines.extend([_cell(_markdown(spec['short_description'])), ''])
        if spec.get('options'):
            lines.append('| Variable | Type | Default | Description |')
            lines.append('| --- | --- | --- | --- |')
            lines.extend(_rows(spec['options']))
        else:
            lines.append('This entry point takes no variables.')
    lines.extend(['', END_MARKER])
    return '\n'.join(lines)


def defaults_problems(role_dir, specs):
    """Differences between defaults/main.yml and the defaults the main entry point documents."""
    defaults_path = role_dir / 'defaults' / 'main.yml'
    defaults = (load_yaml(defaults_path) or {}) if defaults_path.is_file() else {}
    options = (((specs or {}).get('argument_specs') or {}).get('main') or {}).get('options') or {}
    problems = []
    for name in sorted(set(defaults) | set(options)):
        option = options.get(name) or {}
        if name not in options:
            problems.append('defaults/main.yml sets %s, which meta/argument_specs.yml does not document' % name)
        elif 'default' in option and defaults.get(name, object()) != option['default']:
            problems.append('%s: meta/argument_specs.yml documents the default %s but defaults/main.yml has %s'
                            % (name, json.dumps(option['default']), json.dumps(defaults[name]) if name in defaults else 'no value'))
        elif 'default' not in option and name in defaults:
            problems.append('%s: defaults/main.yml sets %s but meta/argument_specs.yml documents no default' % (name, json.dumps(defaults[name])))
    return problems


def expected_readme(role_dir, current, section):
    """The README text with its generated section replaced, or added at the end when it has none."""
    if current is None:
        return '# %s\n\n## Variables\n\n%s\n' % (role_dir.name, section)
    begin = current.find(BEGIN_MARKER)
    end = current.find(END_MARKER)
    if begin == -1 and end == -1:
        return '%s\n## Variables\n\n%s\n' % (current.rstrip('\n') + '\n', section)
    if begin == -1 or end < begin:
        raise RoleSpecError('README.md must hold %s before %s, once each' % (BEGIN_MARKER, END_MARKER))
    return current[:begin] + section + current[end + len(END_MARKER):]


def process_role(role_dir, write):
    """Return the problems of one role (empty when up to date); with ``write``, fix the README first."""
    role_dir = pathlib.Path(role_dir)
    spec_path = role_dir / 'meta' / 'argument_specs.yml'
    if not spec_path.is_file():
        return ['%s: meta/argument_specs.yml is missing' % role_dir.name]
    try:
        specs = load_yaml(spec_path)
        section = render_section(specs)
        readme_path = role_dir / 'README.md'
        current = readme_path.read_text(encoding='utf-8') if readme_path.is_file() else None
        wanted = expected_readme(role_dir, current, section)
    except (RoleSpecError, yaml.YAMLError) as exc:
        return ['%s: %s' % (role_dir.name, exc)]
    problems = ['%s: %s' % (role_dir.name, problem) for problem in defaults_problems(role_dir, specs)]
    if wanted != current:
        if write:
            readme_path.write_text(wanted, encoding='utf-8')
        else:
            diff = difflib.unified_diff((current or '').splitlines(True), wanted.splitlines(True), 'README.md', 'README.md (expected)')
            problems.append('%s: README.md is out of date; run python tests/tools/role_readme.py --write\n%s' % (role_dir.name, ''.join(diff)))
    return problems


def role_dirs(roles_dir):
    return sorted(path for path in pathlib.Path(roles_dir).iterdir() if path.is_dir() and (path / 'tasks').is_dir())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('roles', nargs='*', help='role directories (default: every role under ROLES_DIR)')
    parser.add_argument('--write', action='store_true', help='regenerate the README sections instead of checking them')
    parser.add_argument('--roles-dir', default=str(COLLECTION_ROOT / 'roles'), help='where the roles are (default: %(default)s)')
    args = parser.parse_args(argv)
    roles = [pathlib.Path(role) for role in args.roles] or role_dirs(args.roles_dir)
    problems = []
    for role in roles:
        problems.extend(process_role(role, args.write))
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print('%s %d role README(s): %s' % ('wrote' if args.write else 'checked', len(roles), ', '.join(role.name for role in roles) or 'none'))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
