"""The local AWS: moto's server (moto 5.2.1, `pip install "moto[server]"`) with IAM enforced
from the first request, and three small extensions, each answering as AWS documents it,
where moto 5.2.1 does not (the test harness's only; never shipped):

1. DescribeContributorInsights / UpdateContributorInsights (moto answers HTTP 500). ACK's
   DynamoDB controller calls DescribeContributorInsights on every read of a Table
   (pkg/resource/table/hooks.go), so without it no Table ever syncs. State per table (and
   index): DISABLED until enabled; an update answers ENABLING/DISABLING, then the state
   settles at once.
2. A new table is CREATING in CreateTable's answer and in the first DescribeTable after it,
   then ACTIVE (moto says ACTIVE at once). ACK applies what CreateTable cannot carry (PITR,
   for one) in the update that follows the requeue a CREATING table gets; an emulator that
   skips CREATING hides whether that update happens (docs/local.md).
3. TableClass (STANDARD | STANDARD_INFREQUENT_ACCESS): kept from CreateTable/UpdateTable and
   reported as TableClassSummary, as DescribeTable does on AWS (moto drops it, and ACK would
   then retry the class change forever).

4. IAM per resource for DynamoDB: moto checks a DynamoDB call against the resource "*" only
   (its DynamoHandler names no resource), so a policy scoped to `table/<prefix>*`, as the
   platform's is, would refuse everything. The resource is the ARN AWS authorizes: the table's
   (or `table/T/index/I` for an index), or the call's ResourceArn (tags, resource policies).
   A refusal is DynamoDB's own error, as AWS sends it on this JSON protocol (HTTP 400,
   `AccessDeniedException`, the caller, action and resource named), not moto's IAM-style XML
   403, which the AWS SDK in ACK cannot even decode.

IAM: the users are made in-process before the server starts (no unauthenticated window):
`--policy NAME=FILE` makes user NAME with FILE's JSON as its only (inline) policy, and their
access keys go to `--credentials-out` as JSON {NAME: {accessKeyId, secretAccessKey}}. Then
every request is checked against its caller's policies (moto's access control:
INITIAL_NO_AUTH_ACTION_COUNT = 0), as account 123456789012.

Usage: python aws.py --port P --credentials-out FILE --policy ack=ack.json --policy admin=admin.json
"""

import argparse
import json
import os
import sys
import time

# AWS_CA_BUNDLE (set on some machines) is not for us, and ACK's SDK fails every call with it.
os.environ.pop("AWS_CA_BUNDLE", None)

from moto import settings  # noqa: E402
from moto.core.exceptions import AccessDeniedError, JsonRESTError  # noqa: E402
from moto.core import DEFAULT_ACCOUNT_ID  # noqa: E402
from moto.dynamodb.models.table import Table  # noqa: E402
from moto.dynamodb.responses import DynamoHandler, DynamoResult  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
import moto.server  # noqa: E402

# ---- 1. ContributorInsights -----------------------------------------------------------------
_insights: dict = {}  # (account, region, table, index or "") -> ENABLED | DISABLED


def _insights_key(handler, table, index):
    return (handler.current_account, handler.region, table, index or "")


def describe_contributor_insights(self):
    table = self.body["TableName"]
    index = self.body.get("IndexName")
    self.dynamodb_backend.get_table(table)  # ResourceNotFoundException, as AWS
    status = _insights.get(_insights_key(self, table, index), "DISABLED")
    out = {"TableName": table, "ContributorInsightsStatus": status, "ContributorInsightsRuleList": []}
    if index:
        out["IndexName"] = index
    if status == "ENABLED":
        out["ContributorInsightsRuleList"] = [f"DynamoDBContributorInsights-PKC-{table}-{index or ''}".rstrip("-")]
        out["LastUpdateDateTime"] = time.time()
    return DynamoResult(out)


def update_contributor_insights(self):
    table = self.body["TableName"]
    index = self.body.get("IndexName")
    action = self.body["ContributorInsightsAction"]
    self.dynamodb_backend.get_table(table)
    if action not in ("ENABLE", "DISABLE"):
        from moto.dynamodb.exceptions import MockValidationException

        raise MockValidationException(f"Invalid ContributorInsightsAction: {action}")
    _insights[_insights_key(self, table, index)] = "ENABLED" if action == "ENABLE" else "DISABLED"
    out = {"TableName": table, "ContributorInsightsStatus": "ENABLING" if action == "ENABLE" else "DISABLING"}
    if index:
        out["IndexName"] = index
    return DynamoResult(out)


DynamoHandler.describe_contributor_insights = describe_contributor_insights
DynamoHandler.update_contributor_insights = update_contributor_insights

# ---- 2. CREATING first, 3. TableClass ---------------------------------------------------------
_plain_describe = Table.describe


def _describe(self, base_key="TableDescription"):
    out = _plain_describe(self, base_key)
    body = out[base_key]
    creating = getattr(self, "_kddb_creating_answers", 0)
    if creating > 0:
        self._kddb_creating_answers = creating - 1
        body["TableStatus"] = "CREATING"
    table_class = getattr(self, "_kddb_table_class", None)
    if table_class:
        body["TableClassSummary"] = {"TableClass": table_class}
    return out


Table.describe = _describe

_plain_create = DynamoHandler.create_table
_plain_update = DynamoHandler.update_table


def create_table(self):
    name = self.body["TableName"]
    table_class = self.body.get("TableClass")
    result = None
    # The table exists once moto's create returns: mark it before its answer is rendered again.
    _pending_create[(self.current_account, self.region, name)] = table_class
    try:
        result = _plain_create(self)
    finally:
        _pending_create.pop((self.current_account, self.region, name), None)
    return result


_pending_create: dict = {}
_plain_init = Table.__init__


def _init(self, *args, **kwargs):
    _plain_init(self, *args, **kwargs)
    key = (self.account_id, self.region_name, self.name)
    if key in _pending_create:
        # CreateTable's own answer (rendered from this object) and the next DescribeTable.
        self._kddb_creating_answers = 2
        if _pending_create[key]:
            self._kddb_table_class = _pending_create[key]


def update_table(self):
    table_class = self.body.get("TableClass")
    if table_class:
        self.dynamodb_backend.get_table(self.body["TableName"])._kddb_table_class = table_class
    return _plain_update(self)


Table.__init__ = _init
DynamoHandler.create_table = create_table
DynamoHandler.update_table = update_table


# ---- 4. IAM per resource ---------------------------------------------------------------------
def _determine_resource(self):
    body = self.body if isinstance(self.body, dict) else {}
    if body.get("ResourceArn"):
        return body["ResourceArn"]
    name = body.get("TableName")
    if not name:
        return "*"  # ListTables, DescribeLimits, DescribeEndpoints: no resource on AWS either
    if name.startswith("arn:"):
        return name
    partition = "aws-cn" if self.region.startswith("cn-") else "aws"
    arn = f"arn:{partition}:dynamodb:{self.region}:{self.current_account}:table/{name}"
    return f"{arn}/index/{body['IndexName']}" if body.get("IndexName") else arn


DynamoHandler._determine_resource = _determine_resource

_plain_authorize = DynamoHandler._authenticate_and_authorize_normal_action


def _authorize(self, resource="*"):
    try:
        _plain_authorize(self, resource)
    except AccessDeniedError as denied:
        raise JsonRESTError(
            "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
            f"{denied.message} on resource: {resource} because no identity-based policy allows the action or an explicit deny applies",
        ) from None


DynamoHandler._authenticate_and_authorize_normal_action = _authorize


# ---- IAM --------------------------------------------------------------------------------------
def make_users(policies: list[str], out: str) -> None:
    iam = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    creds = {}
    for spec in policies:
        name, _, file = spec.partition("=")
        with open(file, encoding="utf8") as f:
            document = f.read()
        iam.create_user(region_name="us-east-1", user_name=name)
        iam.put_user_policy(name, f"{name}-policy", document)
        key = iam.create_access_key(name)
        creds[name] = {"accessKeyId": key.access_key_id, "secretAccessKey": key.secret_access_key}
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf8") as f:
        json.dump(creds, f)
    os.replace(tmp, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--policy", action="append", default=[], help="NAME=FILE: a user with that inline policy")
    parser.add_argument("--credentials-out", required=True)
    args = parser.parse_args()
    make_users(args.policy, args.credentials_out)
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    moto.server.main(["--host", "127.0.0.1", "--port", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
