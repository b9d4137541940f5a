"""Golden vectors for lambdakit-upload's presigned POST policies, produced by boto3.

What it does: for each case below, calls boto3's `generate_presigned_post` with fixed
credentials and a fixed clock, and writes the inputs (as data) and boto3's output (URL,
form fields in order, decoded policy document) to `post_vectors.json` next to this file.
`crates/upload/tests/golden_post.rs` replays every case through `PostPolicy` and asserts
the policy and signature are byte for byte boto3's.

Run it from the workspace root (after `cargo xtask setup`, which installs the pinned
boto3/botocore 1.43.11 into `.venv`):

    .venv/bin/python crates/upload/tests/golden/generate.py

Its output is checked in: the Rust tests need neither Python nor boto3. Re-run it only to
add cases or to check a new botocore; the vectors must not change for the same inputs.

A case's `ops` are `PostPolicy` builder calls, in order. The equivalent boto3 call is
`Fields` = the fields those calls add, in order, and `Conditions` = the conditions they
add, in order (an exact-match dict for each field), which is what `op_to_boto3` builds.

Credentials are AWS's documented example keys or obviously fake ones.
"""

import base64
import datetime
import json
import os
import pathlib
import sys

# Keep the developer's AWS configuration (profiles, regional-endpoint settings, endpoint
# overrides, real credentials) out of the vectors: only what a case says may matter.
for name in list(os.environ):
    if name.startswith("AWS_"):
        del os.environ[name]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import boto3  # noqa: E402
import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.signers  # noqa: E402
from botocore.config import Config  # noqa: E402

BOTOCORE_VERSION = "1.43.11"

AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
# Obviously fake temporary credentials, shaped like STS's (the token holds '/', '+', '=').
STS_AKID = "ASIAIOSFODNN7EXAMPLE"
STS_SECRET = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
STS_TOKEN = "FwoGZXIvYXdzEXAMPLE//////////wEaDFAKE+SESSION+TOKEN/ONLY/FOR/TESTS=="

# botocore 1.43 reads the clock in exactly two places on this path, both through
# `botocore.compat.get_current_datetime()` (a naive UTC `datetime.datetime.now(timezone.utc)`)
# imported by name: `botocore.signers.S3PostPresigner.generate_presigned_post` (the policy's
# `expiration`) and `botocore.auth.S3SigV4PostAuth.add_auth` (`x-amz-date` and the credential
# scope). Patching those two names fixes the clock; `check_clock` below proves it took.
_FIXED_NOW = None


def _fixed_current_datetime(remove_tzinfo=True):
    if _FIXED_NOW is None:
        raise RuntimeError("the fixed clock is not set")
    if remove_tzinfo:
        return _FIXED_NOW
    return _FIXED_NOW.replace(tzinfo=datetime.timezone.utc)


botocore.signers.get_current_datetime = _fixed_current_datetime
botocore.auth.get_current_datetime = _fixed_current_datetime


def op_to_boto3(op, fields, conditions):
    """Appends what one builder call adds to boto3's `Fields` and `Conditions`."""
    kind = op["op"]

    def field(name, value):
        if name in fields:
            raise ValueError(f"field {name!r} set twice")
        fields[name] = value
        conditions.append({name: value})

    if kind == "field":
        field(op["name"], op["value"])
    elif kind == "content_type":
        field("Content-Type", op["value"])
    elif kind == "acl":
        field("acl", op["value"])
    elif kind == "success_action_status":
        field("success_action_status", str(op["status"]))
    elif kind == "success_action_redirect":
        field("success_action_redirect", op["url"])
    elif kind == "metadata":
        field("x-amz-meta-" + op["name"], op["value"])
    elif kind == "starts_with":
        conditions.append(["starts-with", "$" + op["field"].removeprefix("$"), op["prefix"]])
    elif kind == "content_length_range":
        conditions.append(["content-length-range", op["min"], op["max"]])
    else:
        raise ValueError(f"unknown op {kind!r}")


def case(
    name,
    *,
    bucket,
    region,
    epoch_seconds,
    ops,
    key=None,
    filename_prefix=None,
    expires_in=None,
    subsec_micros=0,
    temporary=False,
):
    assert (key is None) != (filename_prefix is None), name
    return {
        "name": name,
        "bucket": bucket,
        "region": region,
        "access_key_id": STS_AKID if temporary else AKID,
        "secret_access_key": STS_SECRET if temporary else SECRET,
        "session_token": STS_TOKEN if temporary else None,
        "epoch_seconds": epoch_seconds,
        "subsec_micros": subsec_micros,
        # null: neither side is told an expiry, so both defaults (3600 s) are compared too.
        "expires_in": expires_in,
        "key": key,
        "filename_prefix": filename_prefix,
        "ops": ops,
    }


CASES = [
    case(
        "exact key, content type and size range (us-east-1)",
        bucket="lambdakit-uploads",
        region="us-east-1",
        epoch_seconds=1_700_000_000,
        key="uploads/3f2a9c1e0b7d4e6f8a5b2c1d0e9f8a7b.jpg",
        ops=[
            {"op": "content_type", "value": "image/jpeg"},
            {"op": "content_length_range", "min": 1, "max": 10 * 1024 * 1024},
        ],
    ),
    case(
        "default expiry",
        bucket="lambdakit-uploads",
        region="eu-west-1",
        epoch_seconds=1_700_000_000,
        key="a.txt",
        ops=[{"op": "content_type", "value": "text/plain"}],
    ),
    case(
        "${filename} key prefix (eu-west-1)",
        bucket="lambdakit-uploads",
        region="eu-west-1",
        epoch_seconds=1_709_251_199,  # 2024-02-29T23:59:59Z, a leap day
        expires_in=900,
        filename_prefix="uploads/user-42/",
        ops=[
            {"op": "starts_with", "field": "Content-Type", "prefix": "image/"},
            {"op": "content_length_range", "min": 0, "max": 5 * 1024 * 1024},
        ],
    ),
    case(
        "empty ${filename} prefix",
        bucket="lambdakit-uploads",
        region="eu-west-1",
        epoch_seconds=1_700_000_000,
        expires_in=60,
        filename_prefix="",
        ops=[{"op": "starts_with", "field": "$Content-Type", "prefix": ""}],
    ),
    case(
        "STS session token",
        bucket="lambdakit-uploads",
        region="eu-west-1",
        epoch_seconds=1_700_000_000,
        expires_in=300,
        key="uploads/from-lambda.png",
        temporary=True,
        ops=[
            {"op": "content_type", "value": "image/png"},
            {"op": "content_length_range", "min": 1, "max": 1_000_000},
        ],
    ),
    case(
        "STS session token (us-east-1)",
        bucket="lambdakit-uploads",
        region="us-east-1",
        epoch_seconds=1_700_000_000,
        expires_in=300,
        filename_prefix="tmp/",
        temporary=True,
        ops=[],
    ),
    case(
        "ACL, success_action_status, redirect and metadata",
        bucket="lambdakit-uploads",
        region="eu-west-1",
        epoch_seconds=1_712_345_678,
        expires_in=1800,
        key="public/avatars/alice.webp",
        ops=[
            {"op": "acl", "value": "public-read"},
            {"op": "success_action_status", "status": 201},
            {"op": "success_action_redirect", "url": "https://app.example.com/done?upload=1&next=%2Fhome"},
            {"op": "metadata", "name": "owner", "value": "alice"},
            {"op": "metadata", "name": "note", "value": "say \"hi\" \\ back/slash 'single'"},
            {"op": "content_type", "value": "image/webp"},
            {"op": "content_length_range", "min": 100, "max": 2_000_000},
        ],
    ),
    case(
        "non-ASCII values, escapes and a unicode key (ensure_ascii)",
        bucket="lambdakit-uploads",
        region="us-east-1",
        epoch_seconds=1_700_000_000,
        key="photos/été 2024/ça + ñ 😀.jpg",
        ops=[
            {"op": "field", "name": "x-amz-meta-title", "value": "Crème brûlée 😀 \u2028 日本"},
            {"op": "field", "name": "Content-Disposition", "value": "attachment; filename=\"résumé.pdf\""},
            {"op": "field", "name": "x-amz-meta-escapes", "value": "tab\tnl\ncr\rbs\bff\f\u0001\u001f\u007f\\\"/<>&"},
            {"op": "starts_with", "field": "x-amz-meta-tag", "prefix": "été/"},
            {"op": "content_type", "value": "image/jpeg"},
        ],
    ),
    case(
        "long expiry across a year boundary (7 days)",
        bucket="lambdakit-uploads",
        region="eu-west-1",
        epoch_seconds=1_735_689_599,  # 2024-12-31T23:59:59Z
        expires_in=7 * 24 * 3600,
        key="archive/2024.tar.gz",
        ops=[
            {"op": "content_type", "value": "application/gzip"},
            {"op": "content_length_range", "min": 1, "max": 5 * 1024 * 1024 * 1024},
        ],
    ),
    case(
        "sub-second clock",
        bucket="lambdakit-uploads",
        region="eu-west-1",
        epoch_seconds=1_700_000_000,
        subsec_micros=999_999,
        expires_in=3599,
        key="k",
        ops=[{"op": "content_type", "value": "application/octet-stream"}],
    ),
    case(
        "another region (ap-southeast-2)",
        bucket="lambdakit-uploads-syd",
        region="ap-southeast-2",
        epoch_seconds=1_700_000_000,
        expires_in=600,
        key="uploads/x.pdf",
        ops=[
            {"op": "field", "name": "x-amz-server-side-encryption", "value": "AES256"},
            {"op": "field", "name": "Cache-Control", "value": "max-age=31536000, immutable"},
            {"op": "content_type", "value": "application/pdf"},
        ],
    ),
    case(
        # Dotted names do not match S3's wildcard certificate: both sides use the path.
        "dotted bucket name",
        bucket="uploads.example.com",
        region="eu-west-1",
        epoch_seconds=1_700_000_000,
        expires_in=600,
        key="a/b.png",
        ops=[{"op": "content_type", "value": "image/png"}],
    ),
    case(
        # "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)"
        # in the S3 API reference, built with the builder (boto3's order, not AWS's).
        "AWS documentation example conditions",
        bucket="sigv4examplebucket",
        region="us-east-1",
        epoch_seconds=1_451_347_200,  # 2015-12-29T00:00:00Z
        expires_in=36 * 3600,
        filename_prefix="user/user1/",
        ops=[
            {"op": "acl", "value": "public-read"},
            {
                "op": "success_action_redirect",
                "url": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
            },
            {"op": "starts_with", "field": "Content-Type", "prefix": "image/"},
            {"op": "metadata", "name": "uuid", "value": "14365123651274"},
            {"op": "field", "name": "x-amz-server-side-encryption", "value": "AES256"},
            {"op": "starts_with", "field": "$x-amz-meta-tag", "prefix": ""},
        ],
    ),
]


def check_clock(case_, fields, policy):
    """Fails if the fixed clock did not reach botocore (a botocore upgrade could move it)."""
    now = datetime.datetime.fromtimestamp(case_["epoch_seconds"], datetime.timezone.utc)
    expires = datetime.timedelta(seconds=case_["expires_in"] or 3600)
    want_date = now.strftime("%Y%m%dT%H%M%SZ")
    want_expiration = (now + expires).strftime("%Y-%m-%dT%H:%M:%SZ")
    if fields["x-amz-date"] != want_date or policy["expiration"] != want_expiration:
        raise SystemExit(
            f"{case_['name']}: botocore did not use the fixed clock "
            f"({fields['x-amz-date']}, {policy['expiration']}); see the comment on _FIXED_NOW"
        )


def generate(case_):
    global _FIXED_NOW
    _FIXED_NOW = datetime.datetime.fromtimestamp(
        case_["epoch_seconds"], datetime.timezone.utc
    ).replace(tzinfo=None, microsecond=case_["subsec_micros"])

    fields = {}
    conditions = []
    for op in case_["ops"]:
        op_to_boto3(op, fields, conditions)
    key = case_["key"] if case_["key"] is not None else case_["filename_prefix"] + "${filename}"

    def presign(s3_config):
        client = boto3.session.Session(
            aws_access_key_id=case_["access_key_id"],
            aws_secret_access_key=case_["secret_access_key"],
            aws_session_token=case_["session_token"],
            region_name=case_["region"],
        ).client("s3", config=Config(signature_version="s3v4", s3=s3_config))
        # boto3 keeps the dict and list it is given: give each call its own copies.
        kwargs = {
            "Bucket": case_["bucket"],
            "Key": key,
            "Fields": dict(fields),
            "Conditions": list(conditions),
        }
        if case_["expires_in"] is not None:
            kwargs["ExpiresIn"] = case_["expires_in"]
        return client.generate_presigned_post(**kwargs)

    # boto3's default client posts to the global `bucket.s3.amazonaws.com` in every region
    # of the aws partition. With virtual addressing and regional us-east-1 endpoints it uses
    # the regional host, as lambdakit does. The URL is not signed: the two calls must give
    # the same fields, and both URLs are recorded.
    post = presign(None)
    regional = presign({"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"})
    if regional["fields"] != post["fields"]:
        raise SystemExit(f"{case_['name']}: the endpoint changed the signed fields")

    policy_text = base64.b64decode(post["fields"]["policy"]).decode("utf-8")
    check_clock(case_, post["fields"], json.loads(policy_text))
    return {
        **case_,
        "boto3": {
            "url": post["url"],
            "regional_url": regional["url"],
            "fields": [[k, v] for k, v in post["fields"].items()],
            "policy": policy_text,
        },
    }


def main():
    if botocore.__version__ != BOTOCORE_VERSION:
        sys.exit(f"botocore {botocore.__version__} found, {BOTOCORE_VERSION} expected (cargo xtask setup)")
    out = pathlib.Path(__file__).with_name("post_vectors.json")
    vectors = {
        "generator": "crates/upload/tests/golden/generate.py",
        "botocore": botocore.__version__,
        "boto3": boto3.__version__,
        "cases": [generate(c) for c in CASES],
    }
    out.write_text(json.dumps(vectors, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(CASES)} cases to {out}")


if __name__ == "__main__":
    main()
