# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

import json

import pytest
import requests

from ansible_collections.ipguard.cloud.plugins.modules import alicloud_apigateway_ip_control as module
from ansible_collections.ipguard.cloud.tests.unit.plugins.scripted_http import Cloud, reply, run_module

SECRET = 'Gateway/Secret+Value='
AUTH = dict(access_key_id='LTAI5tExampleKeyId', access_key_secret=SECRET, region='cn-hangzhou')
ACL = 'acl0000000000000000000000000001'
READ_PAGE = {'PageNumber': '1', 'PageSize': '100'}


class Gateway:
    """Answers each action from its own queue of canned bodies and numbers the request ids."""

    def __init__(self, monkeypatch, **answers):
        self.answers = dict((action, list(bodies)) for action, bodies in answers.items())
        self.cloud = Cloud(monkeypatch, self.handle)
        self.count = 0

    def handle(self, request):
        action = request.headers['x-acs-action']
        assert self.answers.get(action), 'unexpected call %s %r' % (action, request.query)
        answer = self.answers[action].pop(0)
        self.count += 1
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return reply(status, dict(body, RequestId='REQ-%d-%s' % (self.count, action)))

    def left_over(self):
        """Answers never asked for, by action."""
        return dict((action, len(bodies)) for action, bodies in self.answers.items() if bodies)

    def sent(self):
        """(action, business parameters) of every request, RegionId checked and left out."""
        calls = []
        for request in self.cloud.requests:
            params = dict(request.query)
            assert params.pop('RegionId') == 'cn-hangzhou'
            calls.append((request.headers['x-acs-action'], params))
        return calls

    def actions(self):
        return self.cloud.actions()


def ok(body=None):
    return (200, body or {})


def controls(*records):
    return ok({'TotalCount': len(records), 'IpControlInfos': {'IpControlInfo': [
        {'IpControlId': control_id, 'IpControlName': name, 'IpControlType': control_type, 'Description': description}
        for control_id, name, control_type, description in records]}})


def items(*records):
    return ok({'TotalCount': len(records), 'IpControlPolicyItems': {'IpControlPolicyItem': [
        {'PolicyItemId': item_id, 'AppId': app_id, 'CidrIp': cidr_ip} for item_id, app_id, cidr_ip in records]}})


def apis(*records):
    return ok({'TotalCount': len(records), 'ApiInfos': {'ApiInfo': [
        {'GroupId': group_id, 'ApiId': api_id, 'StageName': stage, 'ApiName': api_id} for group_id, api_id, stage in records]}})


OFFICE_ACL = (ACL, 'office_allow', 'ALLOW', 'Office egress')
OFFICE_ITEMS = items(('P1', '', '203.0.113.0/24;198.51.100.7'), ('P2', '111', '192.0.2.0/28'))
TWO_POLICIES = [{'cidrs': ['198.51.100.7', '203.0.113.0/24']}, {'cidrs': ['192.0.2.0/28'], 'app_id': '111'}]
OFFICE_RESULT_ITEMS = [
    {'policy_item_id': 'P1', 'app_id': None, 'cidrs': ['198.51.100.7', '203.0.113.0/24']},
    {'policy_item_id': 'P2', 'app_id': '111', 'cidrs': ['192.0.2.0/28']},
]


def args(**overrides):
    result = dict(AUTH, name='office_allow')
    result.update(overrides)
    return result


def lookup_by_name(name='office_allow'):
    return ('DescribeIpControls', dict(READ_PAGE, IpControlName=name))


def read_items(control_id=ACL):
    return ('DescribeIpControlPolicyItems', dict(READ_PAGE, IpControlId=control_id))


def test_create_with_two_items_in_one_call(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls()], CreateIpControl=[ok({'IpControlId': ACL})],
                      DescribeIpControlPolicyItems=[OFFICE_ITEMS])
    result = run_module(capsys, module.main, args(ip_control_type='ALLOW', description='Office egress', policies=TWO_POLICIES), diff=True)

    assert gateway.sent() == [
        lookup_by_name(),
        ('CreateIpControl', {'IpControlName': 'office_allow', 'IpControlType': 'ALLOW', 'Description': 'Office egress',
                             'IpControlPolicys.1.CidrIp': '198.51.100.7;203.0.113.0/24',
                             'IpControlPolicys.2.CidrIp': '192.0.2.0/28', 'IpControlPolicys.2.AppId': '111'}),
        read_items(),
    ]
    assert result['changed'] is True
    assert result['ip_control'] == {'ip_control_id': ACL, 'name': 'office_allow', 'type': 'ALLOW', 'description': 'Office egress',
                                    'policy_items': OFFICE_RESULT_ITEMS}
    assert result['request_ids'] == ['REQ-2-CreateIpControl']
    assert result['diff']['before'] == {}
    assert result['diff']['after']['policy_items'] == [{'app_id': None, 'cidrs': ['198.51.100.7', '203.0.113.0/24']},
                                                       {'app_id': '111', 'cidrs': ['192.0.2.0/28']}]
    assert SECRET not in json.dumps(result)


def test_create_in_check_mode_only_looks_up(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls()])
    result = run_module(capsys, module.main, args(ip_control_type='REFUSE', policies=[{'cidrs': ['192.0.2.1']}]), check_mode=True)

    assert gateway.actions() == ['DescribeIpControls']
    assert result['changed'] is True
    assert result['ip_control'] == {'ip_control_id': None, 'name': 'office_allow', 'type': 'REFUSE', 'description': '',
                                    'policy_items': [{'policy_item_id': None, 'app_id': None, 'cidrs': ['192.0.2.1']}]}
    assert result['request_ids'] == []
    assert 'diff' not in result


def test_create_without_items_reads_nothing_back_and_binds(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls()], CreateIpControl=[ok({'IpControlId': ACL})], SetIpControlApis=[ok()])
    result = run_module(capsys, module.main, args(ip_control_type='REFUSE', apis=[{'group_id': 'g1', 'api_id': 'a1'}]))

    assert gateway.sent()[1:] == [
        ('CreateIpControl', {'IpControlName': 'office_allow', 'IpControlType': 'REFUSE'}),
        ('SetIpControlApis', {'IpControlId': ACL, 'GroupId': 'g1', 'StageName': 'RELEASE', 'ApiIds': 'a1'}),
    ]
    assert result['ip_control']['policy_items'] == []
    assert result['ip_control']['apis'] == [{'group_id': 'g1', 'api_id': 'a1', 'stage_name': 'RELEASE'}]
    assert result['request_ids'] == ['REQ-2-CreateIpControl', 'REQ-3-SetIpControlApis']


def test_create_needs_a_type_and_a_name(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(), controls()])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['10.0.0.1']}]))
    assert result['failed'] is True
    assert result['msg'] == "ip_control_type is required to create IP control 'office_allow'"

    result = run_module(capsys, module.main, dict(AUTH, ip_control_id='missing', ip_control_type='ALLOW'))
    assert result['msg'] == 'IP control missing does not exist; to create a control, give its name without ip_control_id'
    assert gateway.sent() == [lookup_by_name(), ('DescribeIpControls', dict(READ_PAGE, IpControlId='missing'))]


@pytest.mark.parametrize('extra', [{}, {'purge_policies': True, 'ip_control_type': 'ALLOW', 'description': 'Office egress'}])
def test_rerun_unchanged_only_reads(monkeypatch, capsys, extra):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeIpControlPolicyItems=[OFFICE_ITEMS])
    result = run_module(capsys, module.main, args(policies=list(reversed(TWO_POLICIES)), **extra), diff=True)

    assert gateway.sent() == [lookup_by_name(), read_items()]
    assert result['changed'] is False
    assert result['request_ids'] == []
    assert result['ip_control']['policy_items'] == OFFICE_RESULT_ITEMS
    assert result['diff']['before'] == result['diff']['after']


def test_modify_one_item_in_one_call(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeIpControlPolicyItems=[OFFICE_ITEMS],
                      ModifyIpControlPolicyItem=[ok()])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['192.0.2.0/29', '192.0.2.8/29'], 'app_id': '111'}]), diff=True)

    assert gateway.sent()[2:] == [('ModifyIpControlPolicyItem', {
        'IpControlId': ACL, 'PolicyItemId': 'P2', 'CidrIp': '192.0.2.0/29;192.0.2.8/29', 'AppId': '111'})]
    assert result['changed'] is True
    assert result['ip_control']['policy_items'][1] == {'policy_item_id': 'P2', 'app_id': '111', 'cidrs': ['192.0.2.0/29', '192.0.2.8/29']}
    assert result['diff']['before']['policy_items'][1] == {'app_id': '111', 'cidrs': ['192.0.2.0/28']}
    assert result['diff']['after']['policy_items'][1] == {'app_id': '111', 'cidrs': ['192.0.2.0/29', '192.0.2.8/29']}
    assert result['request_ids'] == ['REQ-3-ModifyIpControlPolicyItem']


def test_add_without_purge_keeps_the_other_items(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeIpControlPolicyItems=[OFFICE_ITEMS],
                      AddIpControlPolicyItem=[ok({'PolicyItemId': 'P9'})])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['10.0.0.1']}]))

    assert gateway.sent()[2:] == [('AddIpControlPolicyItem', {'IpControlId': ACL, 'CidrIp': '10.0.0.1'})]
    assert result['ip_control']['policy_items'] == [{'policy_item_id': 'P9', 'app_id': None, 'cidrs': ['10.0.0.1']}] + OFFICE_RESULT_ITEMS


def test_purge_removes_in_one_call(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)],
                      DescribeIpControlPolicyItems=[items(('P1', '', '203.0.113.0/24'), ('P2', '111', '192.0.2.0/28'), ('P3', '', '10.0.0.1'))],
                      RemoveIpControlPolicyItem=[ok()])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['203.0.113.0/24']}], purge_policies=True))

    assert gateway.sent()[2:] == [('RemoveIpControlPolicyItem', {'IpControlId': ACL, 'PolicyItemIds': 'P2;P3'})]
    assert result['ip_control']['policy_items'] == [{'policy_item_id': 'P1', 'app_id': None, 'cidrs': ['203.0.113.0/24']}]


def test_purge_turns_a_leftover_item_into_the_new_one(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeIpControlPolicyItems=[OFFICE_ITEMS],
                      ModifyIpControlPolicyItem=[ok()])
    result = run_module(capsys, module.main, args(policies=[TWO_POLICIES[0], {'cidrs': ['10.0.0.0/8']}], purge_policies=True))

    assert gateway.sent()[2:] == [('ModifyIpControlPolicyItem', {'IpControlId': ACL, 'PolicyItemId': 'P2', 'CidrIp': '10.0.0.0/8'})]
    assert result['ip_control']['policy_items'][0] == {'policy_item_id': 'P2', 'app_id': None, 'cidrs': ['10.0.0.0/8']}


def test_purge_scope_without_app_id_leaves_app_items(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)],
                      DescribeIpControlPolicyItems=[items(('P1', '', '198.51.100.7'), ('P2', '111', '192.0.2.0/28'), ('P3', '', '10.0.0.1'))],
                      ModifyIpControlPolicyItem=[ok()], RemoveIpControlPolicyItem=[ok()])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['203.0.113.0/24']}], purge_policies=True, purge_scope='without_app_id'))

    assert gateway.sent()[2:] == [('ModifyIpControlPolicyItem', {'IpControlId': ACL, 'PolicyItemId': 'P1', 'CidrIp': '203.0.113.0/24'}),
                                  ('RemoveIpControlPolicyItem', {'IpControlId': ACL, 'PolicyItemIds': 'P3'})]
    assert result['ip_control']['policy_items'] == [
        {'policy_item_id': 'P1', 'app_id': None, 'cidrs': ['203.0.113.0/24']},
        {'policy_item_id': 'P2', 'app_id': '111', 'cidrs': ['192.0.2.0/28']},
    ]


def test_check_mode_makes_no_write_and_predicts(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeIpControlPolicyItems=[OFFICE_ITEMS])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['10.0.0.1']}], purge_policies=True, description='New'),
                        check_mode=True, diff=True)

    assert gateway.actions() == ['DescribeIpControls', 'DescribeIpControlPolicyItems']
    assert result['changed'] is True
    assert result['ip_control']['description'] == 'New'
    assert result['ip_control']['policy_items'] == [{'policy_item_id': 'P1', 'app_id': None, 'cidrs': ['10.0.0.1']}]
    assert result['diff']['before']['description'] == 'Office egress'
    assert result['diff']['after'] == {'ip_control_id': ACL, 'name': 'office_allow', 'type': 'ALLOW', 'description': 'New',
                                       'policy_items': [{'app_id': None, 'cidrs': ['10.0.0.1']}]}


def test_rename_by_id_sends_name_and_description(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeIpControlPolicyItems=[OFFICE_ITEMS], ModifyIpControl=[ok()])
    result = run_module(capsys, module.main, dict(AUTH, ip_control_id=ACL, name='office_allow_v2'))

    assert gateway.sent() == [('DescribeIpControls', dict(READ_PAGE, IpControlId=ACL)), read_items(),
                              ('ModifyIpControl', {'IpControlId': ACL, 'IpControlName': 'office_allow_v2', 'Description': 'Office egress'})]
    assert (result['changed'], result['ip_control']['name']) == (True, 'office_allow_v2')


def test_type_change_is_refused_without_writing(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)])
    result = run_module(capsys, module.main, args(ip_control_type='REFUSE'))

    assert result['failed'] is True
    assert result['msg'] == ('IP control %s (office_allow) is a ALLOW control; its type cannot be changed to REFUSE. '
                             'Delete it and create it again if that is really meant' % ACL)
    assert gateway.actions() == ['DescribeIpControls']


def test_type_dependent_checks_use_the_existing_type(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls((ACL, 'office_allow', 'REFUSE', ''))])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['10.0.0.1'], 'app_id': '5'}]))

    assert result['msg'].startswith("policies[0] sets app_id '5' on a REFUSE control")
    assert gateway.actions() == ['DescribeIpControls']


def test_ambiguous_name_is_refused(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL, ('acl2', 'office_allow', 'ALLOW', ''))])
    result = run_module(capsys, module.main, args(state='absent'))

    assert result['failed'] is True
    assert result['msg'] == "2 IP controls are named 'office_allow' (ids: %s, acl2); set ip_control_id to say which one is meant" % ACL
    assert gateway.actions() == ['DescribeIpControls']


def test_item_limit_is_checked_against_kept_items_before_writing(monkeypatch, capsys):
    current = items(*[('P%03d' % n, '', '10.0.%d.0/24' % n) for n in range(100)])
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeIpControlPolicyItems=[current])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['192.0.2.1']}]))

    assert result['msg'] == ("IP control 'office_allow' would hold 101 items, counting the unlisted items kept without purge_policies; "
                             "it holds at most 100")
    assert gateway.actions() == ['DescribeIpControls', 'DescribeIpControlPolicyItems']


def test_emptying_an_allow_control_needs_allow_open(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)] * 2, DescribeIpControlPolicyItems=[OFFICE_ITEMS] * 2,
                      RemoveIpControlPolicyItem=[ok()])
    result = run_module(capsys, module.main, args(policies=[], purge_policies=True))
    assert result['msg'] == "removing every item of ALLOW control 'office_allow' leaves it restricting nothing; set allow_open=true if that is intended"
    assert 'RemoveIpControlPolicyItem' not in gateway.actions()

    result = run_module(capsys, module.main, args(policies=[], purge_policies=True, allow_open=True))
    assert result['changed'] is True and result['ip_control']['policy_items'] == []
    assert gateway.sent()[-1] == ('RemoveIpControlPolicyItem', {'IpControlId': ACL, 'PolicyItemIds': 'P1;P2'})


@pytest.mark.parametrize('extra, message', [
    (dict(name='_office'), "name '_office' is not a valid IP control name"),
    (dict(description='d' * 201), 'description is 201 characters long'),
    (dict(policies=[{'cidrs': ['10.0.0.1/8']}]), r"Invalid entries in policies[0].cidrs: '10.0.0.1/8' has host bits set: did you mean 10.0.0.0/8?"),
    (dict(policies=[{'cidrs': ['10.0.0.%d' % n for n in range(11)], 'app_id': '5'}]), "policies[0] (app_id '5') holds 11 entries"),
    (dict(ip_control_type='REFUSE', policies=[{'cidrs': ['10.0.0.1'], 'app_id': '5'}]), "policies[0] sets app_id '5' on a REFUSE control"),
    (dict(ip_control_type='ALLOW', policies=[{'cidrs': ['0.0.0.0/0']}]), 'would open the APIs of this ALLOW control to any address'),
    (dict(policies=[{'cidrs': ['10.%d.0.0/16' % n]} for n in range(101)]), 'policies make 101 items'),
    (dict(state='absent', policies=[{'cidrs': ['10.0.0.1']}]), 'policies cannot be combined with state=absent'),
    (dict(apis=[{'group_id': 'g', 'api_id': 'a,b'}]), "apis[0].api_id 'a,b' is not a valid id"),
    (dict(name='office_allow\n'), "name 'office_allow\\n' is not a valid IP control name"),
    (dict(ip_control_id=ACL + '\n'), "ip_control_id '%s\\n' is not a valid IP control id: use 1 to 64 letters, digits, \"-\" and \"_\"" % ACL),
    (dict(ip_control_id='a' * 65), "ip_control_id '%s' is not a valid IP control id" % ('a' * 65)),
    (dict(policies=[{'cidrs': ['10.0.0.1'], 'app_id': '111\n'}]), "policies[0].app_id '111\\n' is not a valid app id"),
    (dict(apis=[{'group_id': 'g' * 65, 'api_id': 'a'}]), "apis[0].group_id '%s' is not a valid id" % ('g' * 65)),
    (dict(apis=[{'group_id': 'g', 'api_id': 'a\n'}]), "apis[0].api_id 'a\\n' is not a valid id"),
    (dict(timeout=float('nan')), 'timeout nan is not a valid number of seconds: use a number greater than 0 and at most 3600'),
    (dict(timeout=float('inf')), 'timeout inf is not a valid number of seconds: use a number greater than 0 and at most 3600'),
    (dict(retries=21), 'retries 21 is not valid: use a whole number from 0 to 20'),
    (dict(ca_bundle='/nonexistent/ca.pem'), "ca_bundle '/nonexistent/ca.pem' does not exist"),
    (dict(ca_bundle='/', validate_certs=False), "ca_bundle '/' cannot be combined with validate_certs: false"),
    (dict(endpoint='https://apigateway.example:99999'), "endpoint 'https://apigateway.example:99999' has an invalid port"),
    (dict(region='cn-hangzhou\n'), "region 'cn-hangzhou\\n' is not a valid Alibaba Cloud region id"),
])
def test_bad_input_fails_before_any_request(monkeypatch, capsys, extra, message):
    gateway = Gateway(monkeypatch)
    result = run_module(capsys, module.main, args(**extra))

    assert result['failed'] is True
    assert message in result['msg']
    assert gateway.cloud.requests == []


def warning_texts(result):
    # plain strings, or ansible-core 2.19+ structured events
    return [warning['event']['msg'] if isinstance(warning, dict) else warning for warning in result.get('warnings') or []]


def test_plain_http_beyond_loopback_draws_a_warning(monkeypatch, capsys):
    # run_module runs the module as a module, not as controller code (whose warnings would go to
    # the controller's display instead of the result).
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)] * 2, DescribeIpControlPolicyItems=[OFFICE_ITEMS] * 2)
    result = run_module(capsys, module.main, args(endpoint='http://192.0.2.10:8080'))
    assert result['changed'] is False
    assert warning_texts(result) == [
        'endpoint http://192.0.2.10:8080 uses plain http to a host that is not loopback: every request, with the access key id, '
        'its signature and any security token, and every answer travel in clear text, readable and changeable on the way. '
        'Use https (with ca_bundle for a private CA).']
    assert gateway.cloud.requests[0].url.startswith('http://192.0.2.10:8080/?')

    result = run_module(capsys, module.main, args(endpoint='http://127.0.0.1:8080'))
    assert result['changed'] is False and not any('plain http' in text for text in warning_texts(result))


def test_a_tls_failure_fails_the_task_after_one_attempt(monkeypatch, capsys):
    def handler(request):
        raise requests.exceptions.SSLError('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer '
                                           'certificate ' + request.url)

    cloud = Cloud(monkeypatch, handler)
    result = run_module(capsys, module.main, args(retries=5))
    assert result['failed'] is True
    assert result['msg'] == (
        "TLS verification of apigateway.cn-hangzhou.aliyuncs.com failed: the certificate is issued by a CA that is not trusted. "
        "It is not retried: if the endpoint's certificate comes from a private CA, set ca_bundle to a PEM file of its CA "
        "certificates (or REQUESTS_CA_BUNDLE in the environment); set validate_certs: false only for test servers")
    assert len(cloud.requests) == 1 and cloud.sleeps == []


def test_api_errors_are_typed_and_secrets_stay_out(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeIpControlPolicyItems=[OFFICE_ITEMS],
                      AddIpControlPolicyItem=[(400, {'Code': 'QuotaExceeded.IpControlPolicyItem', 'Message': 'At most 100 items.'})])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['10.0.0.1']}]))

    assert result['failed'] is True
    assert result['msg'] == 'Alibaba Cloud API Gateway AddIpControlPolicyItem failed: QuotaExceeded.IpControlPolicyItem: At most 100 items.'
    assert (result['error_code'], result['request_id'], result['http_status']) == ('QuotaExceeded.IpControlPolicyItem', 'REQ-3-AddIpControlPolicyItem', 400)
    assert len(gateway.cloud.requests) == 3
    assert SECRET not in json.dumps(result)


def test_bindings_are_added_and_purged_with_explicit_api_ids(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeIpControlPolicyItems=[OFFICE_ITEMS],
                      DescribeApisByIpControl=[apis(('g1', 'a1', 'RELEASE'), ('g1', 'a2', 'RELEASE'), ('g2', 'b1', 'TEST'))],
                      SetIpControlApis=[ok()], RemoveIpControlApis=[ok(), ok()])
    wanted = [{'group_id': 'g1', 'api_id': 'a1'}, {'group_id': 'g1', 'api_id': 'a3', 'stage_name': 'RELEASE'},
              {'group_id': 'g1', 'api_id': 'a4', 'stage_name': 'RELEASE'}]
    result = run_module(capsys, module.main, args(apis=wanted, purge_apis=True), diff=True)

    assert gateway.sent()[2:] == [
        ('DescribeApisByIpControl', dict(READ_PAGE, IpControlId=ACL)),
        ('SetIpControlApis', {'IpControlId': ACL, 'GroupId': 'g1', 'StageName': 'RELEASE', 'ApiIds': 'a3,a4'}),
        ('RemoveIpControlApis', {'IpControlId': ACL, 'GroupId': 'g1', 'StageName': 'RELEASE', 'ApiIds': 'a2'}),
        ('RemoveIpControlApis', {'IpControlId': ACL, 'GroupId': 'g2', 'StageName': 'TEST', 'ApiIds': 'b1'}),
    ]
    assert result['ip_control']['apis'] == [{'group_id': 'g1', 'api_id': api_id, 'stage_name': 'RELEASE'} for api_id in ('a1', 'a3', 'a4')]
    assert len(result['diff']['before']['apis']) == 3 and len(result['request_ids']) == 3


def test_bindings_unchanged_only_read(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeIpControlPolicyItems=[OFFICE_ITEMS],
                      DescribeApisByIpControl=[apis(('g1', 'a1', 'RELEASE'), ('g2', 'b1', 'TEST'))])
    result = run_module(capsys, module.main, args(apis=[{'group_id': 'g1', 'api_id': 'a1'}]))

    assert result['changed'] is False
    assert gateway.actions() == ['DescribeIpControls', 'DescribeIpControlPolicyItems', 'DescribeApisByIpControl']


def test_absent_deletes_an_unbound_control(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeApisByIpControl=[apis()],
                      DescribeIpControlPolicyItems=[OFFICE_ITEMS], DeleteIpControl=[ok()])
    result = run_module(capsys, module.main, args(state='absent'), diff=True)

    assert gateway.sent()[1:] == [('DescribeApisByIpControl', dict(READ_PAGE, IpControlId=ACL)), read_items(),
                                  ('DeleteIpControl', {'IpControlId': ACL})]
    assert (result['changed'], result['ip_control'], result['request_ids']) == (True, {}, ['REQ-4-DeleteIpControl'])
    assert result['diff']['before']['policy_items'][0]['cidrs'] == ['198.51.100.7', '203.0.113.0/24'] and result['diff']['after'] == {}


def test_absent_in_check_mode_and_when_missing(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL), controls()], DescribeApisByIpControl=[apis()],
                      DescribeIpControlPolicyItems=[OFFICE_ITEMS])
    assert run_module(capsys, module.main, args(state='absent'), check_mode=True)['changed'] is True
    assert run_module(capsys, module.main, args(state='absent'))['changed'] is False
    assert 'DeleteIpControl' not in gateway.actions()


def test_absent_refuses_a_bound_control_and_names_the_apis(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)], DescribeApisByIpControl=[apis(('g1', 'a1', 'RELEASE'))])
    result = run_module(capsys, module.main, args(state='absent'))

    assert result['failed'] is True
    assert result['msg'] == ('IP control %s (office_allow) is still bound to 1 API(s): group g1 api a1 stage RELEASE; unbind them first '
                             '(apis: [] with purge_apis: true, or in the console)' % ACL)
    assert 'DeleteIpControl' not in gateway.actions()


# --- lost answers: the whole control is read and planned again ----------------------------------

BAD_GATEWAY = (502, {'Code': 'BadGateway', 'Message': 'The gateway did not answer in time.'})
ADDED_ITEMS = items(('P1', '', '203.0.113.0/24;198.51.100.7'), ('P2', '111', '192.0.2.0/28'), ('P9', '', '10.0.0.1'))
READ_ALL = ['DescribeIpControls', 'DescribeIpControlPolicyItems']


@pytest.mark.parametrize('lost', [BAD_GATEWAY, requests.exceptions.ConnectionError('Connection reset by peer')])
def test_an_add_whose_answer_was_lost_but_that_landed_is_not_added_again(monkeypatch, capsys, lost):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)] * 2, DescribeIpControlPolicyItems=[OFFICE_ITEMS, ADDED_ITEMS],
                      AddIpControlPolicyItem=[lost])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['10.0.0.1']}]))

    assert gateway.actions() == READ_ALL + ['AddIpControlPolicyItem'] + READ_ALL
    assert gateway.sent()[3:] == [lookup_by_name(), read_items()]
    assert gateway.left_over() == {}
    assert 'failed' not in result and result['changed'] is True and result['request_ids'] == []
    assert result['ip_control']['policy_items'] == [{'policy_item_id': 'P9', 'app_id': None, 'cidrs': ['10.0.0.1']}] + OFFICE_RESULT_ITEMS
    assert len(gateway.cloud.sleeps) == 1


def test_an_add_lost_to_a_5xx_that_did_not_land_is_planned_and_sent_again(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)] * 2, DescribeIpControlPolicyItems=[OFFICE_ITEMS, OFFICE_ITEMS],
                      AddIpControlPolicyItem=[BAD_GATEWAY, ok({'PolicyItemId': 'P9'})])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['10.0.0.1']}]))

    assert gateway.actions() == READ_ALL + ['AddIpControlPolicyItem'] + READ_ALL + ['AddIpControlPolicyItem']
    assert gateway.sent()[2] == gateway.sent()[5] == ('AddIpControlPolicyItem', {'IpControlId': ACL, 'CidrIp': '10.0.0.1'})
    assert gateway.left_over() == {}
    assert 'failed' not in result and result['changed'] is True and result['request_ids'] == ['REQ-6-AddIpControlPolicyItem']


def test_an_add_that_timed_out_and_is_not_visible_is_not_sent_again(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)] * 2, DescribeIpControlPolicyItems=[OFFICE_ITEMS, OFFICE_ITEMS],
                      AddIpControlPolicyItem=[requests.exceptions.ReadTimeout('read timed out')])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['10.0.0.1']}]))

    # the timed-out add may still land: after the fresh read, it is refused rather than sent a second time
    assert gateway.actions() == READ_ALL + ['AddIpControlPolicyItem'] + READ_ALL
    assert gateway.left_over() == {}
    assert result['failed'] is True and result['changed'] is True and result['request_ids'] == []
    assert result['msg'] == (
        'AddIpControlPolicyItem is not sent again: an earlier AddIpControlPolicyItem of this run timed out and may still be applied, '
        'and repeating it could apply it twice. Run the task again to see the state and converge. The answer to '
        'AddIpControlPolicyItem (no request id: the answer was lost) was lost: the write may have been applied. Nothing was '
        'repeated blindly; run the task again to see the state and converge.')


def test_a_create_whose_answer_was_lost_but_that_landed_is_not_created_again(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(), controls(OFFICE_ACL)], CreateIpControl=[BAD_GATEWAY],
                      DescribeIpControlPolicyItems=[OFFICE_ITEMS])
    result = run_module(capsys, module.main, args(ip_control_type='ALLOW', description='Office egress', policies=TWO_POLICIES))

    assert gateway.actions() == ['DescribeIpControls', 'CreateIpControl'] + READ_ALL
    assert gateway.left_over() == {}
    assert 'failed' not in result and result['changed'] is True and result['request_ids'] == []
    assert result['ip_control'] == {'ip_control_id': ACL, 'name': 'office_allow', 'type': 'ALLOW', 'description': 'Office egress',
                                    'policy_items': OFFICE_RESULT_ITEMS}


def test_a_create_that_timed_out_and_is_not_visible_is_not_sent_again(monkeypatch, capsys):
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(), controls()],
                      CreateIpControl=[requests.exceptions.ReadTimeout('read timed out')])
    result = run_module(capsys, module.main, args(ip_control_type='ALLOW', policies=TWO_POLICIES))

    assert gateway.actions() == ['DescribeIpControls', 'CreateIpControl', 'DescribeIpControls']
    assert gateway.left_over() == {}
    assert result['failed'] is True and result['changed'] is True
    assert result['msg'].startswith('CreateIpControl is not sent again: an earlier CreateIpControl of this run timed out')
    assert 'The answer to CreateIpControl (no request id: the answer was lost) was lost: the write may have been applied.' in result['msg']


def test_a_throttled_modify_is_planned_again_from_a_fresh_read(monkeypatch, capsys):
    throttled = (400, {'Code': 'Throttling.User', 'Message': 'Request was denied due to user flow control.'})
    # another writer removed item P2 meanwhile: the fresh plan adds the app's item instead of modifying a gone one
    raced = items(('P1', '', '203.0.113.0/24;198.51.100.7'))
    gateway = Gateway(monkeypatch, DescribeIpControls=[controls(OFFICE_ACL)] * 2, DescribeIpControlPolicyItems=[OFFICE_ITEMS, raced],
                      ModifyIpControlPolicyItem=[throttled], AddIpControlPolicyItem=[ok({'PolicyItemId': 'P9'})])
    result = run_module(capsys, module.main, args(policies=[{'cidrs': ['192.0.2.0/29'], 'app_id': '111'}]))

    # ModifyIpControlPolicyItem replaces the whole item: not repeated by the client, planned again after a read
    assert gateway.actions() == READ_ALL + ['ModifyIpControlPolicyItem'] + READ_ALL + ['AddIpControlPolicyItem']
    assert gateway.sent()[2] == ('ModifyIpControlPolicyItem', {'IpControlId': ACL, 'PolicyItemId': 'P2', 'CidrIp': '192.0.2.0/29', 'AppId': '111'})
    assert gateway.sent()[5] == ('AddIpControlPolicyItem', {'IpControlId': ACL, 'CidrIp': '192.0.2.0/29', 'AppId': '111'})
    assert gateway.left_over() == {}
    assert 'failed' not in result and result['changed'] is True and result['request_ids'] == ['REQ-6-AddIpControlPolicyItem']
