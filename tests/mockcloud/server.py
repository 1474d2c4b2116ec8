# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The HTTP server, the unsigned control endpoint under /_mock/, the request log, and the
``MockCloud`` object tests drive it with."""

import copy
import json
import socket
import struct
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .alibaba import AlibabaFrontend, NonceStore
from .errors import CloudError, SeedError
from .exchange import Call, HttpRequest, utc_now_precise
from .faults import FaultPlan
from .huawei import HuaweiFrontend
from .metadata import AlibabaMetadataFrontend, HuaweiMetadataFrontend, metadata_cloud
from .state import DCS_STATUSES, REDIS_STATUSES, normalise_seed, normalise_settings, write_json_atomically

CONTROL_PREFIX = '/_mock'
LOG_FIELDS = frozenset(['cloud', 'product', 'action', 'method', 'path', 'status', 'error_code', 'write', 'resource_id', 'job_id',
                        'access_key_id', 'signature_method', 'fault', 'lost_answer_mode'])
# What a load balancer in front of the API answers when its backend's answer is lost: not JSON,
# and none of the vendor's headers, so a client cannot mistake it for an API error.
BAD_GATEWAY_PAGE = (b'<html><head><title>502 Bad Gateway</title></head>'
                    b'<body><h1>502 Bad Gateway</h1><p>The upstream server sent no valid answer.</p></body></html>')


class _Server(ThreadingHTTPServer):
    """A threading HTTP server whose listen queue holds every connection a test opens at once.

    socketserver's default queue of 5 is shorter than the 10 to 40 connections bulk runs open
    together (``concurrency`` per run, two runs at once, or more with shards). The kernel drops
    the connections beyond it, and each client sends its SYN again after a second: a round trip
    of a second that no real endpoint would show. It skewed the benchmark and every wait sized
    from the slowest round trip seen (the DCS modules' confirmation read).
    """

    request_queue_size = 128


class RequestLog(object):
    """Every API request, accepted or not, in arrival order; optionally mirrored to a JSON-lines file."""

    def __init__(self, path=None):
        self.path = path
        self.records = []

    def append(self, call):
        record = call.record(len(self.records) + 1)
        self.records.append(record)
        if self.path:
            with open(self.path, 'a', encoding='utf-8') as stream:
                stream.write(json.dumps(record, sort_keys=True) + '\n')
        return record

    def select(self, filters):
        unknown = sorted(set(filters) - LOG_FIELDS)
        if unknown:
            raise ValueError('cannot filter the request log on %s' % ', '.join(unknown))
        return [copy.deepcopy(record) for record in self.records if all(record[key] == value for key, value in filters.items())]


def _json_response(status, document):
    return status, [('Content-Type', 'application/json')], json.dumps(document, sort_keys=True).encode('utf-8')


def _lost_answer(rule, response):
    """What the client gets instead of ``response``: None resets the connection. Called
    without the lock, so the other requests go on while a late answer waits."""
    if rule['mode'] == 'reset':
        return None
    if rule['mode'] == 'bad_gateway':
        return 502, [('Content-Type', 'text/html')], BAD_GATEWAY_PAGE
    time.sleep(rule['delay_ms'] / 1000.0)
    return response


def _request_filters(query_pairs):
    """Query-string filters of GET /_mock/requests, typed like the log fields."""
    filters = {}
    for key, value in query_pairs:
        if key == 'write':
            filters[key] = value.lower() == 'true'
        elif key == 'status':
            filters[key] = int(value)
        else:
            filters[key] = value
    return filters


class MockCloud(object):
    """A fake Alibaba Cloud + Huawei Cloud on one local port.

    Use it as a context manager: ``with MockCloud(seed) as cloud: ... cloud.url ...``.
    ``seed`` is None, a dict or a JSON file path (schema in README.md).
    """

    def __init__(self, seed=None, host='127.0.0.1', port=0, log_path=None, state_out=None):
        self.host = host
        self._requested_port = port
        self._state_out = state_out
        self._lock = threading.RLock()
        self._log = RequestLog(log_path)
        self._server = None
        self._thread = None
        self._state = None
        self._faults = None
        self._alibaba = None
        self._huawei = None
        self._metadata = None
        self.reset(seed)

    # ----------------------------------------------------------------- lifecycle

    def start(self):
        handler = type('MockCloudHandler', (_Handler,), {'cloud': self})
        self._server = _Server((self.host, self._requested_port), handler)
        # Idle keep-alive connections of SDK sessions must not hold up shutdown.
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05}, name='mockcloud', daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = None
        self._save_state()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def url(self):
        """The endpoint for both clouds, e.g. http://127.0.0.1:41234."""
        return 'http://%s:%d' % (self.host, self.port)

    # ---------------------------------------------------------------- inspection

    def state(self):
        """A deep copy of the whole state, in seed format (with the pending faults)."""
        with self._lock:
            document = copy.deepcopy(self._state)
            document['faults'] = self._faults.to_dict()
            return document

    def requests(self, **filters):
        """Request-log records whose fields equal every keyword given, e.g. ``requests(action='ModifySecurityIps')``."""
        with self._lock:
            return self._log.select(filters)

    def count(self, **filters):
        return len(self.requests(**filters))

    def clear_requests(self):
        with self._lock:
            self._log.records = []

    # ------------------------------------------------------------------- control

    def reset(self, seed=None):
        """Replace state, faults, nonces and the request log with a fresh seed."""
        state = normalise_seed(seed)
        faults = FaultPlan()
        faults.update(state.pop('faults'), lambda settings: self._mark_busy(state, settings))
        with self._lock:
            self._state = state
            self._faults = faults
            self._alibaba = AlibabaFrontend(state, NonceStore(state['settings']))
            self._huawei = HuaweiFrontend(state, faults.take_job_failure)
            self._metadata = {'alibaba': AlibabaMetadataFrontend(state), 'huawei': HuaweiMetadataFrontend(state)}
            self._log.records = []
            self._save_state()

    def set_faults(self, faults):
        """Merge a fault document (README "Faults"): latency replaces, counters add up."""
        with self._lock:
            self._faults.update(faults, lambda settings: self._mark_busy(self._state, settings))

    def settings(self):
        """A copy of the settings (README "Settings"), vendor readings included."""
        with self._lock:
            return copy.deepcopy(self._state['settings'])

    def set_settings(self, changes):
        """Change some settings at run time; returns all of them. Raises SeedError, changing
        nothing, when ``changes`` is not a valid partial settings object."""
        with self._lock:
            settings = self._state['settings']
            updated = normalise_settings(changes, settings)
            # In place: the services read this very dict on every request.
            settings.clear()
            settings.update(updated)
            self._save_state()
            return copy.deepcopy(settings)

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def faults(self):
        with self._lock:
            return self._faults.to_dict()

    @staticmethod
    def _mark_busy(state, settings):
        """Check every (instance_id, reads, status) first, then mark them all busy."""
        changes = []
        for instance_id, reads, status in settings:
            for instances, statuses in ((state['alibaba']['redis_instances'], REDIS_STATUSES), (state['huawei']['dcs_instances'], DCS_STATUSES)):
                if instance_id in instances:
                    break
            else:
                raise SeedError('faults.busy: no instance %s' % instance_id)
            if isinstance(reads, bool) or not isinstance(reads, int) or reads < 0:
                raise SeedError('faults.busy.%s: reads must be a non-negative integer' % instance_id)
            if status is not None and status not in statuses:
                raise SeedError('faults.busy.%s: status must be one of %s' % (instance_id, ', '.join(sorted(statuses))))
            changes.append((instances[instance_id], reads, status))
        for instance, reads, status in changes:
            instance['busy_reads'] = reads
            if status is not None:
                instance['busy_status'] = status

    def _save_state(self):
        if self._state_out:
            write_json_atomically(self._state_out, self.state())

    # ------------------------------------------------------------------ requests

    def handle_api(self, request):
        """Serve one cloud API request; returns (status, headers, body), or None to reset the connection."""
        metadata = metadata_cloud(request.path)
        cloud = metadata or ('huawei' if request.path.startswith('/v2/') else 'alibaba')
        call = Call(request, cloud)
        with self._lock:
            if metadata:
                frontend = self._metadata[metadata]
            else:
                frontend = self._huawei if cloud == 'huawei' else self._alibaba
        parse_error = None
        try:
            frontend.parse(request, call)
        except CloudError as error:
            parse_error = error
        with self._lock:
            delay = self._faults.latency_seconds(call.match_keys())
        if delay:
            time.sleep(delay)
        with self._lock:
            response, lost = self._answer(frontend, request, call, parse_error)
            call.answer_time = utc_now_precise()
            self._log.append(call)
            if call.write and call.status is not None and call.status < 300:
                self._save_state()
        if lost is not None:
            return _lost_answer(lost, response)
        return response

    def _answer(self, frontend, request, call, parse_error):
        """The real answer (None for a connection reset), and the lost_answer rule that keeps it from the client, if any."""
        processed = False
        try:
            if parse_error is not None:
                raise parse_error
            frontend.authenticate(request, call)
            fault = self._faults.take(call.match_keys())
            if fault is not None:
                call.fault = fault[0]
                if fault[0] == 'connection_reset':
                    return None, None
                raise frontend.fault_error(*fault)
            processed = True
            status, document = frontend.dispatch(call)
            response = frontend.render(call, status, document)
        except CloudError as error:
            call.error_code = error.code
            response = frontend.render_error(call, error)
        except Exception:  # pylint: disable=broad-exception-caught
            # A bug in the fake cloud must surface as a loud 500, not as a dropped connection.
            traceback.print_exc()
            error = CloudError(500, 'MockCloud.InternalError', 'The fake cloud failed on this request; see its stderr.')
            call.error_code = error.code
            response = frontend.render_error(call, error)
        call.status = response[0]
        # Matched after processing, so resource_id is known also for CreateIpControl and ShowJobInfo.
        lost = self._faults.take_lost_answer(call.match_keys()) if processed else None
        if lost is not None:
            call.fault = 'lost_answer'
            call.lost_answer_mode = lost['mode']
        return response, lost

    def handle_control(self, request):
        """The unsigned control endpoint: state, reset, request log, faults and settings."""
        route = (request.method, request.path.rstrip('/'))
        try:
            body = json.loads(request.body.decode('utf-8')) if request.body else None
            if route == ('GET', CONTROL_PREFIX + '/health'):
                return _json_response(200, {'status': 'ok'})
            if route == ('GET', CONTROL_PREFIX + '/state'):
                return _json_response(200, self.state())
            if route == ('POST', CONTROL_PREFIX + '/reset'):
                self.reset(body)
                return _json_response(200, {'status': 'reset'})
            if route == ('GET', CONTROL_PREFIX + '/requests'):
                return _json_response(200, {'requests': self.requests(**_request_filters(request.query_pairs()))})
            if route == ('DELETE', CONTROL_PREFIX + '/requests'):
                self.clear_requests()
                return _json_response(200, {'requests': []})
            if route == ('GET', CONTROL_PREFIX + '/faults'):
                return _json_response(200, self.faults())
            if route == ('POST', CONTROL_PREFIX + '/faults'):
                self.set_faults(body if body is not None else {})
                return _json_response(200, self.faults())
            if route == ('DELETE', CONTROL_PREFIX + '/faults'):
                self.clear_faults()
                return _json_response(200, self.faults())
            if route == ('GET', CONTROL_PREFIX + '/settings'):
                return _json_response(200, self.settings())
            if route == ('POST', CONTROL_PREFIX + '/settings'):
                return _json_response(200, self.set_settings(body if body is not None else {}))
        except ValueError as error:
            return _json_response(400, {'error': str(error)})
        return _json_response(404, {'error': 'no control route %s %s' % route})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'mockcloud'
    # Idle keep-alive connections close after this many seconds.
    timeout = 30
    cloud = None

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY the second one waits for the
        # client's delayed ACK (about 40 ms per request).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def do_PUT(self):
        self._serve()

    def do_DELETE(self):
        self._serve()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """The request log replaces http.server's stderr lines."""

    def _serve(self):
        length = self.headers.get('Content-Length') or '0'
        body = self.rfile.read(int(length)) if length.isdigit() else b''
        request = HttpRequest(self.command, self.path, self.headers.items(), body)
        if request.path == CONTROL_PREFIX or request.path.startswith(CONTROL_PREFIX + '/'):
            response = self.cloud.handle_control(request)
        else:
            response = self.cloud.handle_api(request)
        if response is None:
            self._reset_connection()
            return
        status, headers, payload = response
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if status != 204:
                self.send_header('Content-Length', str(len(payload)))
            self.end_headers()
            if status != 204:
                self.wfile.write(payload)
        except ConnectionError:
            # The client gave up (typically on a late answer): nothing to report, the log has the request.
            self.close_connection = True

    def _reset_connection(self):
        # SO_LINGER with a zero timeout makes close() send a TCP RST instead of a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.connection.close()
        self.close_connection = True
