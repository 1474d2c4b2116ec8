# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One HTTP exchange: the raw request as received, and what the fake cloud made of it."""

import datetime
import uuid
from urllib.parse import parse_qsl


class HttpRequest(object):
    """A received request; ``headers`` is a list of (name, value) pairs as sent."""

    def __init__(self, method, target, headers, body):
        self.method = method
        path, dummy, query = target.partition('?')
        self.path = path
        self.query_string = query
        self.headers = list(headers)
        self.body = body

    def header(self, name):
        """The last value of a header (case-insensitive), or None."""
        values = self.header_lists().get(name.lower())
        return values[-1] if values else None

    def header_lists(self):
        """Lower-case header name -> every value it was sent with."""
        result = {}
        for name, value in self.headers:
            result.setdefault(name.lower(), []).append(value)
        return result

    def query_pairs(self):
        return parse_qsl(self.query_string, keep_blank_values=True)


def utc_now_precise():
    """Log timestamps, e.g. 2026-11-23T09:54:13.123456Z."""
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


class Call(object):
    """What one API request was, as the request log records it."""

    def __init__(self, request, cloud):
        self.time = utc_now_precise()
        # When the answer was ready (after any latency); a late lost answer leaves delay_ms later.
        self.answer_time = None
        self.cloud = cloud
        self.method = request.method
        self.path = request.path
        self.product = None
        self.action = None
        self.params = {}
        self.body = None
        self.write = False
        self.resource_id = None
        self.job_id = None
        self.access_key_id = None
        self.signature_method = None
        self.fault = None
        self.lost_answer_mode = None
        self.status = None
        self.error_code = None
        # Front-end working data, not logged: every parameter as received, and the response format.
        self.all_params = {}
        self.xml_response = False
        if cloud == 'alibaba':
            self.request_id = str(uuid.uuid4()).upper()
        else:
            self.request_id = uuid.uuid4().hex

    def match_keys(self):
        """The fields fault rules select on."""
        return {'cloud': self.cloud, 'action': self.action, 'resource_id': self.resource_id, 'path': self.path}

    def record(self, sequence):
        return {
            'seq': sequence,
            'time': self.time,
            'answer_time': self.answer_time,
            'cloud': self.cloud,
            'product': self.product,
            'action': self.action,
            'method': self.method,
            'path': self.path,
            'params': self.params,
            'body': self.body,
            'status': self.status,
            'error_code': self.error_code,
            'write': self.write,
            'resource_id': self.resource_id,
            'job_id': self.job_id,
            'request_id': self.request_id,
            'access_key_id': self.access_key_id,
            'signature_method': self.signature_method,
            'fault': self.fault,
            'lost_answer_mode': self.lost_answer_mode,
        }
