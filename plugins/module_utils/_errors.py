# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Typed errors of the client layer and the one helper that turns them into fail_json arguments."""

REDACTED = '********'


class IpguardError(Exception):
    """Base of every error the collection raises on purpose.

    ``retry_kind`` tells the retry policy what to do: ``None`` (never retry), ``'transient'``
    (throttling, 5xx, connection problems: short backoff) or ``'busy'`` (the resource is busy:
    longer waits).
    """

    retry_kind = None
    # Set by the client on an error raised by a write call: ``write_action`` names the call,
    # ``answer_lost`` says the write may have been applied although no answer says so, and
    # ``replan`` asks the caller to read, plan and write again (RetryPolicy.converge) rather
    # than fail: after a lost answer, or a refusal of an overwrite the client did not repeat.
    write_action = None
    answer_lost = False
    replan = False

    def __init__(self, message, code=None, request_id=None, http_status=None, retry_after=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        self.retry_after = retry_after

    def __str__(self):
        return self.message


class ValidationError(IpguardError):
    """Bad user input, detected before any API call."""


class ApiError(IpguardError):
    """The vendor API answered with an error we do not classify further."""


class AuthError(ApiError):
    """Bad or missing credentials, bad signature, clock skew, or no permission."""


class NotFoundError(ApiError):
    """The instance, group or control does not exist."""


class InvalidParameterError(ApiError):
    """The vendor rejected a parameter (should be rare: we validate first)."""


class ThrottledError(ApiError):
    """Flow control: the request may be repeated after a pause."""

    retry_kind = 'transient'


class ServerError(ApiError):
    """HTTP 5xx or an internal error on the vendor side."""

    retry_kind = 'transient'


class InstanceBusyError(ApiError):
    """The instance is in a state that does not accept the change yet."""

    retry_kind = 'busy'


class TransportError(IpguardError):
    """No HTTP answer: connection refused or reset, DNS failure, TLS failure or timeout.

    ``in_flight`` is true after a timeout: the request may still be on its way to being applied,
    so even reading the state cannot tell whether it will be.
    """

    retry_kind = 'transient'
    in_flight = False


class PermanentTransportError(TransportError):
    """A request that cannot succeed as it stands, so it is never retried.

    The endpoint's TLS certificate did not verify, the CA bundle cannot be used, or the HTTP
    library refused the URL, its scheme or a header before sending anything. No request reached
    the API, so nothing may have been applied.
    """

    retry_kind = None


class WaitTimeoutError(IpguardError):
    """A resource did not reach the wanted state within the allowed time."""


class ConflictError(IpguardError):
    """What we read back differs from what we planned: somebody else changed it meanwhile."""


class ChangeUndoneError(ConflictError):
    """Our overwrite took effect and was then undone by another writer's overwrite.

    The converge loop re-plans from a fresh read and writes again, a bounded number of times.
    """

    retry_kind = 'transient'
    replan = True


def redact(text, secrets):
    """Return ``text`` with every non-empty secret replaced, as a last line of defence.

    Messages are built without secrets in the first place; this catches what a library or a
    vendor echoes back (for example a signature or token in an error message).
    """
    if text is None:
        return None
    text = str(text)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def fail_kwargs(error, client=None):
    """Arguments for ``module.fail_json`` describing ``error``.

    When ``client`` already made writes before the failure (a job that failed after its POST, a
    read-back that found a race), the task did change something: say so, with the request ids
    of those writes, so the user can trace them. A write whose answer was lost and never
    confirmed since counts as a change too, and the message says it may have been applied.
    """
    message = error.message
    lost = list(getattr(client, 'unconfirmed_writes', None) or [])
    if lost:
        message = '%s. %s' % (message.rstrip('.'), describe_unconfirmed_writes(lost))
    result = {'msg': message}
    for key, value in (('error_code', error.code), ('request_id', error.request_id), ('http_status', error.http_status)):
        if value is not None:
            result[key] = value
    writes = list(getattr(client, 'write_request_ids', None) or [])
    if writes or lost or getattr(client, 'wrote', False):
        result.update(changed=True, request_ids=writes)
    return result


def describe_unconfirmed_writes(lost):
    """What to tell the user about writes sent whose answers were lost: ``lost`` holds (action, request id or None)."""
    parts = ['%s (request id %s)' % (action, request_id) if request_id else '%s (no request id: the answer was lost)' % action
             for action, request_id in lost]
    return ('The answer to %s was lost: the write may have been applied. Nothing was repeated blindly; '
            'run the task again to see the state and converge.' % ', '.join(parts))
