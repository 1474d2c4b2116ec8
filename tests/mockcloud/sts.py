# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alibaba Cloud STS (Sts 2015-04-01): ``AssumeRole`` issues temporary keys for the RAM roles of
``state['alibaba']['ram_roles']``, and the accounts that keys and instances belong to.

Issued keys are added to ``state['credentials']['alibaba']`` with their security token, the
account of the role and an expiration; the signature check then requires the token and refuses
it once expired (``InvalidSecurityToken.Expired``), as for any temporary key.
"""

import datetime
import json
import re
import secrets

from .errors import CloudError, invalid_parameter
from .rpcparams import required
from .state import DEFAULT_ALIBABA_ACCOUNT, EXPIRATION_FORMAT

PRODUCT = 'Sts'
VERSION = '2015-04-01'
HOST_ID = 'sts.aliyuncs.com'

ROLE_ARN = re.compile(r'^acs:ram::(?P<account>[0-9]+):role/(?P<name>[^\s/]+)$')
SESSION_NAME = re.compile(r'^[A-Za-z0-9.@_-]{2,64}$')
EXTERNAL_ID = re.compile(r'^[A-Za-z0-9_+=,.@:/-]{2,1224}$')
MIN_DURATION = 900
MAX_POLICY_LENGTH = 2048


def account_of(credential):
    """The account an access key belongs to (seeded keys without one: the default account)."""
    return credential.get('account_id') or DEFAULT_ALIBABA_ACCOUNT


def issue_temporary_key(credentials, account_id, lifetime_seconds, role_arn):
    """Add a temporary key of ``account_id`` to ``credentials``; return (key id, record). Its
    ``expiration`` is whole seconds, as the answers carry it, and it is refused from that second on."""
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=lifetime_seconds)
    key_id = 'STS.NT' + secrets.token_hex(10)
    record = {
        'secret': secrets.token_urlsafe(30),
        # Real tokens are long opaque strings starting with CAIS; nothing may depend on their length.
        'security_token': 'CAIS' + secrets.token_urlsafe(96),
        'expired': False,
        'account_id': account_id,
        'expiration': expiration.strftime(EXPIRATION_FORMAT),
        'role_arn': role_arn,
    }
    credentials[key_id] = record
    return key_id, record


def _no_permission():
    return CloudError(403, 'NoPermission', 'You are not authorized to do this action. You should be authorized by RAM.')


def _check_policy(text):
    """A session policy must be a JSON policy document: an object with Version and Statement."""
    try:
        policy = json.loads(text)
    except ValueError:
        policy = None
    if len(text) > MAX_POLICY_LENGTH or not isinstance(policy, dict) or 'Version' not in policy or not isinstance(policy.get('Statement'), list):
        raise CloudError(400, 'InvalidParameter.PolicyGrammar', 'The parameter Policy has not passed grammar check.')


class StsService(object):
    """STS actions over ``state['alibaba']['ram_roles']`` and ``state['credentials']['alibaba']``."""

    # action -> (handler name, whether it writes, the parameter naming the resource). Issuing keys
    # changes no resource, so AssumeRole is not a write (a no-op run still makes no write).
    ACTIONS = {
        'AssumeRole': ('assume_role', False, 'RoleArn'),
    }

    def __init__(self, state):
        self.roles = state['alibaba']['ram_roles']
        self.credentials = state['credentials']['alibaba']

    def assume_role(self, params, call):
        role_arn = required(params, 'RoleArn')
        session_name = required(params, 'RoleSessionName')
        match = ROLE_ARN.match(role_arn)
        if match is None:
            raise CloudError(400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrongly formed.')
        if not SESSION_NAME.match(session_name):
            raise CloudError(400, 'InvalidParameter.RoleSessionName', 'The parameter RoleSessionName is wrongly formed.')
        external_id = params.get('ExternalId')
        if external_id is not None and not EXTERNAL_ID.match(external_id):
            raise invalid_parameter('ExternalId', 'use 2 to 1224 letters, digits and the characters = , . @ : / - _ +')
        if params.get('Policy'):
            _check_policy(params['Policy'])
        role = self.roles.get(role_arn)
        if role is None:
            raise CloudError(404, 'EntityNotExist.Role', 'The specified Role not exists: %s.' % role_arn)
        duration_text = params.get('DurationSeconds') or '3600'
        maximum = role['max_session_duration']
        if not duration_text.isdigit() or not MIN_DURATION <= int(duration_text) <= maximum:
            raise CloudError(400, 'InvalidParameter.DurationSeconds',
                             'The Min/Max value of DurationSeconds is 15min/%dhr.' % max(1, maximum // 3600))
        caller = self.credentials[call.access_key_id]
        trusted = role['trusted_account_ids']
        if trusted is not None and account_of(caller) not in trusted:
            raise _no_permission()
        # Our reading: a role whose trust policy asks for an external id refuses a call without it or
        # with another one like any untrusted caller (NoPermission); one that asks for none ignores it.
        if role['external_id'] is not None and external_id != role['external_id']:
            raise _no_permission()
        lifetime = role['lifetime_seconds'] if role['lifetime_seconds'] is not None else int(duration_text)
        key_id, record = issue_temporary_key(self.credentials, match.group('account'), lifetime, role_arn)
        role_id = str(abs(hash(role_arn)) % (10 ** 18)).zfill(18)
        return {
            'Credentials': {
                'AccessKeyId': key_id,
                'AccessKeySecret': record['secret'],
                'SecurityToken': record['security_token'],
                'Expiration': record['expiration'],
            },
            'AssumedRoleUser': {
                'Arn': 'acs:ram::%s:role/%s/%s' % (match.group('account'), match.group('name').lower(), session_name),
                'AssumedRoleId': '%s:%s' % (role_id, session_name),
            },
        }
