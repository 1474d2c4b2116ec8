# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

DOCUMENTATION = r'''
name: whitelist_audit_markdown
short_description: Render a whitelist audit report as Markdown
version_added: 1.0.0
author: ipguard.cloud maintainers (@ipguard)
description:
  - Renders the report of P(ipguard.cloud.whitelist_audit_report#filter) as a Markdown document for people, with a title,
    the number of findings per severity and one table row per finding, in the report's order (most severe first).
options:
  _input:
    description: A report as returned by P(ipguard.cloud.whitelist_audit_report#filter).
    type: dict
    required: true
  title:
    description: The document's title.
    type: str
    default: Whitelist audit
'''

EXAMPLES = r'''
- name: Write the human-readable report
  ansible.builtin.copy:
    content: "{{ audit_report | ipguard.cloud.whitelist_audit_markdown }}"
    dest: /srv/audit/whitelist-audit.md
    mode: '0644'
'''

RETURN = r'''
_value:
  description: The Markdown text, ending with a newline.
  type: str
  sample: |
    # Whitelist audit

    Generated at 2026-11-23T09:54:13Z. 3 targets audited, 1 finding.

    | critical | high | medium | low | total |
    | ---: | ---: | ---: | ---: | ---: |
    | 1 | 0 | 0 | 0 | 1 |

    | severity | cloud | target | group | kind | entry | message |
    | --- | --- | --- | --- | --- | --- | --- |
    | critical | alicloud_redis | r-bp1 | default | world_open | 0.0.0.0/0 | group 'default' of Redis instance r-bp1 allows any address (0.0.0.0/0) |
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.ipguard.cloud.plugins.filter.whitelist_audit_report import SEVERITIES

FINDING_COLUMNS = ('severity', 'cloud', 'target', 'group', 'kind', 'entry', 'message')


def _cell(value):
    # A '|' would end the table cell and a newline the row.
    return to_text(value).replace('\\', '\\\\').replace('|', '\\|').replace('\r', ' ').replace('\n', ' ')


def _row(values):
    return '| %s |' % ' | '.join(_cell(value) for value in values)


def _plural(count, word):
    return '%d %s%s' % (count, word, '' if count == 1 else 's')


def whitelist_audit_markdown(report, title='Whitelist audit'):
    """Markdown for people: summary counts per severity, then one table row per finding."""
    try:
        findings = report['findings']
        summary = report['summary']
        lines = ['# %s' % to_text(title), '']
        intro = '%s audited, %s.' % (_plural(len(report.get('targets') or []), 'target'), _plural(len(findings), 'finding'))
        if report.get('generated_at'):
            intro = 'Generated at %s. %s' % (to_text(report['generated_at']), intro)
        lines.extend([intro, ''])
        lines.append(_row(SEVERITIES + ('total',)))
        lines.append('| %s |' % ' | '.join(['---:'] * (len(SEVERITIES) + 1)))
        lines.append(_row([summary[severity] for severity in SEVERITIES + ('total',)]))
        lines.append('')
        if findings:
            lines.append(_row(FINDING_COLUMNS))
            lines.append('| %s |' % ' | '.join(['---'] * len(FINDING_COLUMNS)))
            lines.extend(_row([finding[column] for column in FINDING_COLUMNS]) for finding in findings)
        else:
            lines.append('No findings.')
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError('whitelist_audit_markdown: the input is not a whitelist_audit_report report (%s: %s)' % (type(exc).__name__, exc))
    return '\n'.join(lines) + '\n'


class FilterModule:
    """ipguard.cloud audit report rendering filter."""

    def filters(self):
        return {'whitelist_audit_markdown': whitelist_audit_markdown}
