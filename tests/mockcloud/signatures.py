# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Server-side signature arithmetic for Alibaba (RPC HMAC-SHA1, ACS3-HMAC-SHA256) and Huawei
(SDK-HMAC-SHA256): pure functions from request parts to the signature the server expects.

Written from the vendors' signing documentation, independently of plugins/module_utils.
"""

import base64
import datetime
import hashlib
import hmac
from urllib.parse import quote, unquote

EMPTY_BODY_SHA256 = hashlib.sha256(b'').hexdigest()


def percent_encode(text):
    """RFC 3986 encoding of a UTF-8 string: only A-Z a-z 0-9 - _ . ~ stay literal."""
    return quote(text, safe='~')


def canonical_query(pairs):
    """Sorted ``k=v`` pairs joined with ``&``; an empty value keeps its ``=``."""
    return '&'.join('%s=%s' % (percent_encode(key), percent_encode(value)) for key, value in sorted(pairs))


def rpc_string_to_sign(method, params):
    """Alibaba RPC (HMAC-SHA1) string to sign: the canonical query string is encoded a second time."""
    return '%s&%s&%s' % (method.upper(), percent_encode('/'), percent_encode(canonical_query(params.items())))


def rpc_signature(method, params, secret):
    """Base64 HMAC-SHA1 of the RPC string to sign; the key is the secret followed by '&'."""
    digest = hmac.new((secret + '&').encode('utf-8'), rpc_string_to_sign(method, params).encode('utf-8'), hashlib.sha1).digest()
    return base64.b64encode(digest).decode('ascii')


def _canonical_headers(headers, signed_headers):
    """``name:value`` lines for the signed headers; repeated headers join their sorted values with ','."""
    lines = []
    for name in signed_headers:
        values = sorted(value.strip() for value in headers.get(name, []))
        lines.append('%s:%s\n' % (name, ','.join(values)))
    return ''.join(lines)


def acs3_canonical_request(method, path, query_pairs, headers, signed_headers, payload_hash):
    """ACS3 canonical request. ``headers`` maps lower-case names to lists of values."""
    return '\n'.join([
        method.upper(),
        path or '/',
        canonical_query(query_pairs),
        _canonical_headers(headers, signed_headers),
        ';'.join(signed_headers),
        payload_hash,
    ])


def acs3_signature(canonical_request, secret):
    """Hex HMAC-SHA256 (key: the bare secret) of "ACS3-HMAC-SHA256\\n" + hex SHA-256 of the canonical request."""
    string_to_sign = 'ACS3-HMAC-SHA256\n' + hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()
    return hmac.new(secret.encode('utf-8'), string_to_sign.encode('utf-8'), hashlib.sha256).hexdigest()


def huawei_canonical_uri(path):
    """Every path segment re-encoded, and a trailing '/' even though the request is sent without one."""
    uri = '/'.join(percent_encode(segment) for segment in unquote(path).split('/'))
    return uri if uri.endswith('/') else uri + '/'


def huawei_canonical_request(method, path, query_pairs, headers, signed_headers, payload_hash):
    """SDK-HMAC-SHA256 canonical request. ``headers`` maps lower-case names to lists of values."""
    header_lines = ''.join('%s:%s\n' % (name, headers.get(name, [''])[-1].strip()) for name in signed_headers)
    return '\n'.join([
        method.upper(),
        huawei_canonical_uri(path),
        canonical_query(query_pairs),
        header_lines,
        ';'.join(signed_headers),
        payload_hash,
    ])


def huawei_signature(sdk_date, canonical_request, secret):
    """Hex HMAC-SHA256 (key: the SK, no derivation) of the SDK-HMAC-SHA256 string to sign."""
    string_to_sign = '\n'.join(['SDK-HMAC-SHA256', sdk_date, hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()])
    return hmac.new(secret.encode('utf-8'), string_to_sign.encode('utf-8'), hashlib.sha256).hexdigest()


def parse_utc(text, pattern):
    """A signing timestamp as an aware datetime, or None when it does not follow ``pattern``."""
    try:
        return datetime.datetime.strptime(text or '', pattern).replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def within_clock_skew(moment, seconds):
    """Whether a signing time lies within +/- ``seconds`` of the server clock."""
    return abs((datetime.datetime.now(datetime.timezone.utc) - moment).total_seconds()) <= seconds


def constant_time_equal(left, right):
    """Compare signatures or tokens without leaking timing; any text, ASCII or not."""
    return hmac.compare_digest(left.encode('utf-8'), right.encode('utf-8'))
