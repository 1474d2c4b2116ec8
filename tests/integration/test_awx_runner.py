# -*- coding: utf-8 -*-
# Copyright (c) ipguard.cloud contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The AWX / Automation Controller path: the shipped credential types, injected the way AWX
injects them, drive the main playbook through ansible-runner against the fake cloud; and the
execution-environment definition is one ansible-builder accepts."""

import os
import shutil
import subprocess
import sys

import ansible_runner
import jinja2.sandbox
import pytest
import yaml

from mockcloud import DEFAULT_HUAWEI_PROJECT_ID
from playbook_harness import ANSIBLE_BIN, REPO_ROOT, isolated_env

CREDENTIAL_TYPES = REPO_ROOT / 'extensions' / 'awx' / 'credential_types'
REDIS = 'r-mock0000000000001'
DCS = '5560df16-cebf-4473-95c4-d1b573c16e79'
OFFICE = ['198.51.100.0/25', '203.0.113.0/24']

# The variables the modules read (plugins/module_utils/_alicloud.py ALICLOUD_ENV and the
# env_fallback names of huaweicloud_argument_spec()).
MODULE_ENV = {
    'ipguard_alicloud.yml': {'ALIBABA_CLOUD_ACCESS_KEY_ID', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', 'ALIBABA_CLOUD_SECURITY_TOKEN', 'ALIBABA_CLOUD_REGION_ID',
                             'ALIBABA_CLOUD_ECS_METADATA', 'ALIBABA_CLOUD_ROLE_ARN', 'ALIBABA_CLOUD_ROLE_SESSION_NAME', 'ALIBABA_CLOUD_EXTERNAL_ID',
                             'ALIBABA_CLOUD_STS_ENDPOINT'},
    'ipguard_huaweicloud.yml': {'HUAWEICLOUD_SDK_AK', 'HUAWEICLOUD_SDK_SK', 'HUAWEICLOUD_SDK_SECURITY_TOKEN', 'HUAWEICLOUD_SDK_PROJECT_ID',
                                'HUAWEICLOUD_SDK_REGION', 'IPGUARD_HUAWEICLOUD_USE_METADATA_CREDENTIALS'},
}
SECRET_INPUTS = {'ipguard_alicloud.yml': {'access_key_secret', 'security_token', 'role_external_id'},
                 'ipguard_huaweicloud.yml': {'secret_key', 'security_token'}}
BOOLEAN_INPUTS = {'ipguard_alicloud.yml': set(), 'ipguard_huaweicloud.yml': {'use_metadata_credentials'}}


def load_credential_type(name):
    return yaml.safe_load((CREDENTIAL_TYPES / name).read_text(encoding='utf-8'))


def inject(credential_type, inputs):
    """Render the env injectors as AWX does: a sandboxed Jinja2 template per variable, every input
    defined (an optional input left empty is the empty string, a boolean one False)."""
    fields = {field['id']: inputs.get(field['id'], False if field['type'] == 'boolean' else '') for field in credential_type['inputs']['fields']}
    environment = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    return {name: environment.from_string(template).render(**fields) for name, template in credential_type['injectors']['env'].items()}


@pytest.mark.parametrize('name', sorted(MODULE_ENV))
def test_credential_types_are_complete_and_mark_their_secrets(name):
    credential_type = load_credential_type(name)
    fields = {field['id']: field for field in credential_type['inputs']['fields']}

    assert credential_type['kind'] == 'cloud'
    assert set(credential_type['injectors']) == {'env'}
    assert set(credential_type['injectors']['env']) == MODULE_ENV[name]
    assert {field_id for field_id, field in fields.items() if field.get('secret')} == SECRET_INPUTS[name]
    assert set(credential_type['inputs']['required']) <= set(fields)
    assert all(field['label'] and field['type'] == ('boolean' if field_id in BOOLEAN_INPUTS[name] else 'string')
               for field_id, field in fields.items())


def mock_credential_inputs(cloud):
    credentials = cloud.state()['credentials']
    alibaba_key, alibaba = next((k, v) for k, v in credentials['alibaba'].items() if v['security_token'] is None)
    huawei_key, huawei = next((k, v) for k, v in credentials['huawei'].items() if v['security_token'] is None)
    return (
        {'access_key_id': alibaba_key, 'access_key_secret': alibaba['secret'], 'region': 'cn-hangzhou'},
        {'access_key': huawei_key, 'secret_key': huawei['secret'], 'project_id': DEFAULT_HUAWEI_PROJECT_ID, 'region': 'cn-north-4'},
    )


def run_job(private_dir, collections, env, extravars):
    """Run the main playbook as an AWX job: project checkout, injected env, extra vars."""
    project = private_dir / 'project'
    project.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / 'playbooks' / 'office_whitelist.yml', project / 'office_whitelist.yml')
    envvars = dict(env, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR='1')
    return ansible_runner.run(
        private_data_dir=str(private_dir), playbook='office_whitelist.yml', envvars=envvars, extravars=extravars,
        inventory='localhost ansible_connection=local ansible_python_interpreter=%s' % sys.executable, quiet=True)


def runner_environment(tmp_path, monkeypatch):
    """ansible-runner hands its own environment to ansible-playbook: keep the developer's ansible
    settings and cloud credentials out, as the harness does for playbook runs."""
    kept = isolated_env(tmp_path)
    for variable in list(os.environ):
        if variable not in kept:
            monkeypatch.delenv(variable)
    for variable, value in kept.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv('PATH', '%s%s%s' % (ANSIBLE_BIN, os.pathsep, os.environ['PATH']))


def job_outputs(job_dir):
    """What AWX shows and stores of a job: its output and its events."""
    return [path for path in (job_dir / 'artifacts').rglob('*') if path.is_file() and (path.name == 'stdout' or path.parent.name == 'job_events')]


def test_main_playbook_through_ansible_runner_with_injected_credentials(mockcloud, installed_collection, tmp_path, monkeypatch):
    runner_environment(tmp_path, monkeypatch)
    alicloud_inputs, huaweicloud_inputs = mock_credential_inputs(mockcloud)
    env = dict(inject(load_credential_type('ipguard_alicloud.yml'), alicloud_inputs),
               **inject(load_credential_type('ipguard_huaweicloud.yml'), huaweicloud_inputs))
    assert env['ALIBABA_CLOUD_SECURITY_TOKEN'] == '' and env['HUAWEICLOUD_SDK_SECURITY_TOKEN'] == ''
    assert env['ALIBABA_CLOUD_ROLE_ARN'] == '' and env['IPGUARD_HUAWEICLOUD_USE_METADATA_CREDENTIALS'] == 'False'
    endpoint = {'endpoint': mockcloud.url}
    extravars = {
        'office_whitelist_cidrs': OFFICE,
        'office_whitelist_alicloud_redis_instances': [REDIS],
        'office_whitelist_huaweicloud_dcs_instances': [DCS],
        'ipguard_alicloud_defaults': endpoint,
        'ipguard_huaweicloud_defaults': endpoint,
    }

    first = run_job(tmp_path / 'job1', installed_collection, env, extravars)
    assert (first.status, first.rc) == ('successful', 0), first.stdout.read()
    # One changed task per bulk run (Redis, DCS): each writes its instances in one module run.
    assert first.stats['changed'] == {'localhost': 2}

    state = mockcloud.state()
    assert {'name': 'office', 'attribute': '', 'ips': OFFICE} in state['alibaba']['redis_instances'][REDIS]['security_ip_groups']
    assert {'group_name': 'office', 'ip_list': OFFICE} in state['huawei']['dcs_instances'][DCS]['whitelist']

    mockcloud.clear_requests()
    second = run_job(tmp_path / 'job2', installed_collection, env, extravars)
    assert (second.status, second.rc) == ('successful', 0), second.stdout.read()
    assert second.stats['changed'] == {}
    # The two clouds' bulk runs go at the same time: one read each, in either order.
    assert sorted((record['action'], record['write']) for record in mockcloud.requests()) == [
        ('DescribeSecurityIps', False), ('ShowIpWhitelist', False)]

    # What AWX shows and stores of a job: its output and its events. (Runner's "command"
    # artifact records the process environment, injected credentials included, as AWX's own
    # job environment does; it is not output.)
    secrets = [alicloud_inputs['access_key_secret'], huaweicloud_inputs['secret_key']]
    for job in ('job1', 'job2'):
        outputs = [path for path in (tmp_path / job / 'artifacts').rglob('*') if path.is_file() and (path.name == 'stdout' or path.parent.name == 'job_events')]
        assert len(outputs) > 10
        for path in outputs:
            text = path.read_text(encoding='utf-8', errors='replace')
            assert not [secret for secret in secrets if secret in text], path


ACCOUNT_B = '2000000000000002'
ROLE_B = 'acs:ram::%s:role/ipguard-office' % ACCOUNT_B
REDIS_B = 'r-awxaccountb00001'


def test_the_role_fields_assume_a_role_and_the_agency_box_reads_the_metadata_service(mockcloud, installed_collection, tmp_path, monkeypatch):
    """An AWX credential with an AccessKey and a role to assume (Alibaba), one with "Use the ECS agency"
    (Huawei): the job manages account B's cache with the role's keys, and the DCS instance with the
    agency's, and no key or token shows in the job's output."""
    runner_environment(tmp_path, monkeypatch)
    mockcloud.reset({
        'alibaba': {'redis_instances': {REDIS_B: {'account_id': ACCOUNT_B}},
                    'ram_roles': {ROLE_B: {'external_id': 'awx-external-id'}}},
        'huawei': {'dcs_instances': {DCS: {}}, 'ecs_metadata': {'agency': 'dcs-admin', 'tokens_required': True}},
        'settings': {'dcs_job_statuses': ['SUCCESS']},
    })
    alicloud_inputs, huaweicloud_inputs = mock_credential_inputs(mockcloud)
    alicloud_inputs.update(role_arn=ROLE_B, role_session_name='awx-office', role_external_id='awx-external-id', sts_endpoint=mockcloud.url)
    huaweicloud_inputs = {'use_metadata_credentials': True, 'project_id': huaweicloud_inputs['project_id'], 'region': huaweicloud_inputs['region']}
    env = dict(inject(load_credential_type('ipguard_alicloud.yml'), alicloud_inputs),
               **inject(load_credential_type('ipguard_huaweicloud.yml'), huaweicloud_inputs))
    assert env['IPGUARD_HUAWEICLOUD_USE_METADATA_CREDENTIALS'] == 'True' and env['HUAWEICLOUD_SDK_AK'] == ''
    extravars = {
        'office_whitelist_cidrs': OFFICE,
        'office_whitelist_alicloud_redis_instances': [REDIS_B],
        'office_whitelist_huaweicloud_dcs_instances': [DCS],
        'ipguard_alicloud_defaults': {'endpoint': mockcloud.url},
        'ipguard_huaweicloud_defaults': {'endpoint': mockcloud.url, 'metadata_endpoint': mockcloud.url},
    }

    job = run_job(tmp_path / 'job', installed_collection, env, extravars)
    assert (job.status, job.rc) == ('successful', 0), job.stdout.read()
    state = mockcloud.state()
    assert {'name': 'office', 'attribute': '', 'ips': OFFICE} in state['alibaba']['redis_instances'][REDIS_B]['security_ip_groups']
    assert {'group_name': 'office', 'ip_list': OFFICE} in state['huawei']['dcs_instances'][DCS]['whitelist']

    issued = dict((key, record) for cloud in ('alibaba', 'huawei') for key, record in state['credentials'][cloud].items() if record.get('role_arn'))
    role_keys = [key for key, record in issued.items() if record['role_arn'] == ROLE_B]
    agency_keys = [key for key, record in issued.items() if record['role_arn'] == 'agency:dcs-admin']
    assert len(role_keys) == 1 and len(agency_keys) == 1
    assert mockcloud.count(action='AssumeRole') == 1
    assert {record['access_key_id'] for record in mockcloud.requests(product='R-kvstore')} == set(role_keys)
    assert {record['access_key_id'] for record in mockcloud.requests(product='DCS')} == set(agency_keys)
    assert [record['action'] for record in mockcloud.requests(product='ECS metadata')] == ['GetMetadataToken', 'GetSecurityKey']

    secrets = [alicloud_inputs['access_key_secret'], 'awx-external-id'] + [
        value for record in issued.values() for value in (record['secret'], record['security_token'])]
    outputs = job_outputs(tmp_path / 'job')
    assert len(outputs) > 10
    for path in outputs:
        text = path.read_text(encoding='utf-8', errors='replace')
        assert not [secret for secret in secrets if secret in text], path


def test_execution_environment_definition_builds_a_context(tmp_path):
    # A copy, so the collections/ folder the definition expects (the built tarball goes there)
    # does not have to exist in the checkout.
    definition = tmp_path / 'ee'
    shutil.copytree(REPO_ROOT / 'extensions' / 'ee', definition)
    (definition / 'collections').mkdir(exist_ok=True)
    context = tmp_path / 'context'
    created = subprocess.run(
        [str(ANSIBLE_BIN / 'ansible-builder'), 'create', '-f', str(definition / 'execution-environment.yml'), '-c', str(context),
         '--output-filename', 'Containerfile'],
        capture_output=True, text=True, check=False, timeout=120)
    assert created.returncode == 0, created.stdout + created.stderr
    containerfile = (context / 'Containerfile').read_text(encoding='utf-8')
    assert 'COPY _build/collections/ /build/collections/' in containerfile
    # A pinned base image: a version tag, never :latest.
    assert 'ARG EE_BASE_IMAGE="ghcr.io/ansible-community/community-ee-base:2.' in containerfile and ':latest' not in containerfile
    requirements = yaml.safe_load((context / '_build' / 'requirements.yml').read_text(encoding='utf-8'))
    # The name `make ee-context` gives the tarball, whatever the collection's version.
    assert requirements == {'collections': [{'name': '/build/collections/ipguard-cloud.tar.gz', 'type': 'file'}]}


def test_collection_declares_its_python_requirements_for_ansible_builder(installed_collection):
    introspected = subprocess.run(
        [str(ANSIBLE_BIN / 'ansible-builder'), 'introspect', str(installed_collection)],
        capture_output=True, text=True, check=False, timeout=120)
    assert introspected.returncode == 0, introspected.stderr
    assert 'requests' in introspected.stdout and 'ipguard.cloud' in introspected.stdout
