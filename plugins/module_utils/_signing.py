# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Request signers for Alibaba Cloud (ACS3-HMAC-SHA256) and Huawei Cloud (SDK-HMAC-SHA256).

Pure functions of their arguments: the clock (``now``, a timezone-aware datetime) and the nonce can
be passed in, so a request is reproducible in tests; by default they are the current UTC time and a
random UUID. Standard library only.
"""

import datetime
import hashlib
import hmac
import uuid
from urllib.parse import quote, unquote

ALIBABA_TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
HUAWEI_TIME_FORMAT = '%Y%m%dT%H%M%SZ'
ACS3_ALGORITHM = 'ACS3-HMAC-SHA256'
HUAWEI_ALGORITHM = 'SDK-HMAC-SHA256'
HUAWEI_OWN_HEADERS = ('host', 'x-sdk-date', 'x-project-id', 'x-security-token', 'authorization')


def percent_encode(value):
    """RFC 3986 encoding: ``A-Za-z0-9-_.~`` kept, every other UTF-8 byte as uppercase ``%XX``."""
    return quote(value if isinstance(value, str) else str(value), safe='~')


def _query_text(value):
    # Huawei's canonical query writes booleans as true/false; sending them the same way keeps
    # what is sent equal to what is signed.
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def _query_pairs(params):
    pairs = []
    # Every official SDK signer (tea-openapi V2/V3, aliyun-python-sdk-core, huaweicloudsdkcore)
    # sorts by the raw parameter name and only then encodes it.
    for key in sorted(params):
        value = params[key]
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        pairs.extend((key, text) for text in sorted(_query_text(item) for item in values))
    return pairs


def encode_query(params):
    """Canonical query string: names sorted, ``name=value`` pairs RFC 3986 encoded and joined by ``&``.

    ``None`` values are left out; a list value gives one pair per item, items sorted; booleans are
    written ``true``/``false``. The clients send exactly this string, so what is sent is what is signed.
    """
    return '&'.join('%s=%s' % (percent_encode(key), percent_encode(text)) for key, text in _query_pairs(params))


def _utc_now(now):
    if now is None:
        return datetime.datetime.now(datetime.timezone.utc)
    if now.tzinfo is None:
        raise ValueError('the signing clock must give a timezone-aware datetime')
    return now.astimezone(datetime.timezone.utc)


def _new_nonce(nonce):
    return uuid.uuid4().hex if nonce is None else nonce


def _sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def _hmac_sha256_hex(key, message):
    return hmac.new(key.encode('utf-8'), message.encode('utf-8'), hashlib.sha256).hexdigest()


def _canonical_headers(headers):
    """Return (``name:value\\n`` block, ``;``-joined names) for ``headers``.

    Names are lower-cased; names that differ only in case, and list values, are merged as one
    header whose trimmed values are sorted and joined by ``,`` (as HTTP combines repeated headers).
    """
    merged = {}
    for name, value in headers.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        merged.setdefault(name.lower(), []).extend(str(item).strip() for item in values)
    names = sorted(merged)
    block = ''.join('%s:%s\n' % (name, ','.join(sorted(merged[name]))) for name in names)
    return block, ';'.join(names)


# Alibaba ACS3-HMAC-SHA256 ("V3")

def acs3_canonical_request(method, path, query, headers, hashed_payload):
    """Return (canonical request, signed header names); every header given is signed.

    ``path`` is taken as sent (already percent-encoded); RPC-style calls use ``/`` and an empty
    path means ``/``.
    """
    canonical_headers, signed_headers = _canonical_headers(headers)
    canonical_request = '\n'.join([method.upper(), path or '/', encode_query(query), canonical_headers, signed_headers, hashed_payload])
    return canonical_request, signed_headers


def acs3_signature(canonical_request, secret):
    """Lowercase hex HMAC-SHA256 (key: the bare secret, no ``&``) of the ACS3 string to sign."""
    return _hmac_sha256_hex(secret, '%s\n%s' % (ACS3_ALGORITHM, _sha256_hex(canonical_request.encode('utf-8'))))


def acs3_sign(method, host, path, query, body, action, version, access_key_id, secret,
              security_token=None, now=None, nonce=None, content_type=None):
    """Return the headers to send: host, the ``x-acs-*`` headers, content-type if given, authorization."""
    hashed_payload = _sha256_hex(body)
    headers = {
        'host': host,
        'x-acs-action': action,
        'x-acs-version': version,
        'x-acs-date': _utc_now(now).strftime(ALIBABA_TIME_FORMAT),
        'x-acs-signature-nonce': _new_nonce(nonce),
        'x-acs-content-sha256': hashed_payload,
    }
    if security_token:
        headers['x-acs-security-token'] = security_token
    if content_type:
        headers['content-type'] = content_type
    canonical_request, signed_headers = acs3_canonical_request(method, path, query, headers, hashed_payload)
    # ACS3 separates the Authorization parts with a bare ',' (Huawei uses ', ').
    headers['authorization'] = '%s Credential=%s,SignedHeaders=%s,Signature=%s' % (
        ACS3_ALGORITHM, access_key_id, signed_headers, acs3_signature(canonical_request, secret))
    return headers


# Huawei SDK-HMAC-SHA256

def _huawei_canonical_uri(path):
    # The SDK decodes the path, encodes each segment, and signs it with a trailing '/' even
    # though the request itself is sent without one.
    uri = '/'.join(percent_encode(segment) for segment in unquote(path).split('/'))
    return uri if uri.endswith('/') else uri + '/'


def huawei_canonical_request(method, path, query, headers, body):
    """Return (canonical request, signed header names).

    Every header whose name has no ``_`` is signed, as the official SDK does.
    """
    signable = dict((name, value) for name, value in headers.items() if '_' not in name)
    canonical_headers, signed_headers = _canonical_headers(signable)
    canonical_request = '\n'.join([method.upper(), _huawei_canonical_uri(path), encode_query(query), canonical_headers, signed_headers,
                                   _sha256_hex(body)])
    return canonical_request, signed_headers


def huawei_signature(canonical_request, sdk_date, secret_key):
    """Lowercase hex HMAC-SHA256 (key: the bare SK) of the string to sign for ``X-Sdk-Date`` ``sdk_date``."""
    return _hmac_sha256_hex(secret_key, '%s\n%s\n%s' % (HUAWEI_ALGORITHM, sdk_date, _sha256_hex(canonical_request.encode('utf-8'))))


def huawei_sign(method, host, path, query, headers, body, access_key, secret_key,
                security_token=None, project_id=None, now=None):
    """Return a new dict: ``headers`` plus Host, X-Sdk-Date, X-Project-Id, X-Security-Token and Authorization.

    Caller headers with one of those names (in any case) are replaced, so each is sent once.
    """
    signed = dict((name, value) for name, value in headers.items() if name.lower() not in HUAWEI_OWN_HEADERS)
    signed['Host'] = host
    signed['X-Sdk-Date'] = _utc_now(now).strftime(HUAWEI_TIME_FORMAT)
    if project_id:
        signed['X-Project-Id'] = project_id
    if security_token:
        signed['X-Security-Token'] = security_token
    canonical_request, signed_headers = huawei_canonical_request(method, path, query, signed, body)
    signed['Authorization'] = '%s Access=%s, SignedHeaders=%s, Signature=%s' % (
        HUAWEI_ALGORITHM, access_key, signed_headers, huawei_signature(canonical_request, signed['X-Sdk-Date'], secret_key))
    return signed
