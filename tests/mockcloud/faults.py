# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fault injection: latency, and consumable counters for throttling, 5xx, connection resets and
lost answers.

Every counter is consumed by the requests it matches, so a test that seeds "throttle the
next 2 ModifySecurityIps calls" sees exactly two throttled calls and then normal service.
Throttling, 5xx and resets refuse a request before it is processed; a lost answer lets the
request take effect and then keeps its answer from the client, which is what makes a
client's retry dangerous.
"""

import copy

from .errors import SeedError

# Kinds that refuse a request unprocessed, in the order they win when several match.
REFUSING_KINDS = ('connection_reset', 'throttle', 'server_error')
COUNTED_KINDS = REFUSING_KINDS + ('lost_answer',)
MATCH_KEYS = ('cloud', 'action', 'resource_id')
# Rule keys beyond the match keys and count, per kind.
EXTRA_KEYS = {'server_error': ('status',), 'lost_answer': ('mode', 'delay_ms')}
SERVER_ERROR_STATUSES = (500, 503)
# bad_gateway: a load balancer's 502 page; reset: a TCP reset; late: the real answer after delay_ms.
LOST_ANSWER_MODES = ('bad_gateway', 'reset', 'late')


def _as_rule_list(value, kind):
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise SeedError('faults.%s must be an object or an array of objects' % kind)
    rules = []
    for index, rule in enumerate(value):
        where = 'faults.%s[%d]' % (kind, index)
        if not isinstance(rule, dict):
            raise SeedError('%s must be an object' % where)
        allowed = MATCH_KEYS + ('count', 'after') + EXTRA_KEYS.get(kind, ())
        unknown = sorted(set(rule) - set(allowed))
        if unknown:
            raise SeedError('%s: unknown key(s) %s' % (where, ', '.join(unknown)))
        count = rule.get('count', 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise SeedError('%s.count must be a positive integer' % where)
        normalised = {key: rule.get(key) for key in MATCH_KEYS}
        normalised['count'] = count
        # "after": let that many matching requests through first, so a test can hit the 3rd page of a
        # listing, say. Stored only when given, so fault documents without it keep their shape.
        after = rule.get('after', 0)
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise SeedError('%s.after must be a non-negative integer' % where)
        if after:
            normalised['after'] = after
        if kind == 'server_error':
            status = rule.get('status', None)
            if status is not None and status not in SERVER_ERROR_STATUSES:
                raise SeedError('%s.status must be 500 or 503' % where)
            normalised['status'] = status
        if kind == 'lost_answer':
            normalised.update(_lost_answer_fields(rule, where))
        rules.append(normalised)
    return rules


def _lost_answer_fields(rule, where):
    mode = rule.get('mode')
    if mode not in LOST_ANSWER_MODES:
        raise SeedError('%s.mode must be one of %s' % (where, ', '.join(LOST_ANSWER_MODES)))
    if mode == 'late':
        return {'mode': mode, 'delay_ms': _milliseconds(rule.get('delay_ms'), where + '.delay_ms')}
    # null is accepted so that to_dict() output seeds again.
    if rule.get('delay_ms') is not None:
        raise SeedError('%s.delay_ms applies to mode late only' % where)
    return {'mode': mode, 'delay_ms': None}


def _latency_rules(value):
    if not isinstance(value, list):
        raise SeedError('faults.latency must be an array of objects')
    rules = []
    for index, rule in enumerate(value):
        where = 'faults.latency[%d]' % index
        if not isinstance(rule, dict):
            raise SeedError('%s must be an object' % where)
        unknown = sorted(set(rule) - set(MATCH_KEYS + ('path', 'ms')))
        if unknown:
            raise SeedError('%s: unknown key(s) %s' % (where, ', '.join(unknown)))
        rules.append(dict({key: rule.get(key) for key in MATCH_KEYS + ('path',)}, ms=_milliseconds(rule.get('ms'), where + '.ms')))
    return rules


def _milliseconds(value, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise SeedError('%s must be a non-negative number of milliseconds' % where)
    return value


def _matches(rule, request):
    return all(rule.get(key) is None or rule[key] == request.get(key) for key in MATCH_KEYS)


class FaultPlan(object):
    """The faults still to be injected. Not thread-safe on its own: the server holds its lock."""

    def __init__(self):
        self.latency_ms = 0
        self.latency = []
        self.rules = {kind: [] for kind in COUNTED_KINDS}
        self.job_failures = 0

    def clear(self):
        self.__init__()

    def update(self, document, mark_busy):
        """Merge a fault document: latency settings replace, counters are added.

        ``mark_busy(settings)`` receives [(instance_id, reads, status or None), ...] and marks
        those instances busy in the state, or raises SeedError having changed nothing. The
        whole document is checked before anything changes.
        """
        if not isinstance(document, dict):
            raise SeedError('faults must be a JSON object')
        unknown = sorted(set(document) - set(('clear', 'latency_ms', 'latency', 'busy', 'job_failures') + COUNTED_KINDS))
        if unknown:
            raise SeedError('faults: unknown key(s) %s' % ', '.join(unknown))
        parsed = {kind: _as_rule_list(document[kind], kind) for kind in COUNTED_KINDS if kind in document}
        latency_ms = _milliseconds(document['latency_ms'], 'faults.latency_ms') if 'latency_ms' in document else None
        latency = _latency_rules(document['latency']) if 'latency' in document else None
        job_failures = document.get('job_failures')
        if job_failures is not None and (isinstance(job_failures, bool) or not isinstance(job_failures, int) or job_failures < 0):
            raise SeedError('faults.job_failures must be a non-negative integer')
        busy = document.get('busy', {})
        if not isinstance(busy, dict):
            raise SeedError('faults.busy must be an object of instance id -> reads')
        mark_busy([(instance_id, setting.get('reads', 1), setting.get('status')) if isinstance(setting, dict) else (instance_id, setting, None)
                   for instance_id, setting in busy.items()])

        if document.get('clear'):
            self.clear()
        if latency_ms is not None:
            self.latency_ms = latency_ms
        if latency is not None:
            self.latency = latency
        if job_failures is not None:
            self.job_failures = job_failures
        for kind, rules in parsed.items():
            self.rules[kind].extend(rules)

    def latency_seconds(self, request):
        """Delay for one request: the global latency plus every matching per-request rule."""
        total = self.latency_ms
        for rule in self.latency:
            if _matches(rule, request) and (rule['path'] is None or request.get('path', '').startswith(rule['path'])):
                total += rule['ms']
        return total / 1000.0

    def take(self, request):
        """Consume the first matching rule that refuses the request; returns (kind, rule) or None.

        ``request`` has the keys cloud, action and resource_id. Connection resets win over
        throttling, throttling over server errors.
        """
        return self._take(REFUSING_KINDS, request)

    def take_lost_answer(self, request):
        """Consume the first matching lost_answer rule once the request has been processed; returns the rule or None."""
        taken = self._take(('lost_answer',), request)
        return taken[1] if taken is not None else None

    def _take(self, kinds, request):
        for kind in kinds:
            for rule in self.rules[kind]:
                if _matches(rule, request):
                    if rule.get('after'):
                        rule['after'] -= 1
                        continue
                    rule['count'] -= 1
                    if rule['count'] == 0:
                        self.rules[kind].remove(rule)
                    return kind, copy.deepcopy(rule)
        return None

    def take_job_failure(self):
        if self.job_failures > 0:
            self.job_failures -= 1
            return True
        return False

    def to_dict(self):
        document = {'latency_ms': self.latency_ms, 'latency': copy.deepcopy(self.latency), 'job_failures': self.job_failures}
        document.update(copy.deepcopy(self.rules))
        return document
