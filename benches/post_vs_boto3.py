"""Presigned POST policies per second: lambdakit-upload against boto3's generate_presigned_post.

Run with `cargo xtask bench`, or by hand:

    cargo build --release -p lambdakit-benches --bin post-policies
    .venv/bin/python benches/post_vs_boto3.py target/release/post-policies

Both sides sign in-process, in a loop, with the same inputs (those of
`lambdakit_benches::post_policy` in benches/src/lib.rs): one client created once, fixed static
credentials, us-east-1, SigV4, and no network (presigning never sends). Before printing the
rates, the script checks that both produced the same form fields and the same policy
conditions, so the ratio compares the same work.
"""

import argparse
import base64
import datetime
import json
import subprocess
import sys
import time

import boto3
import botocore
from botocore.config import Config

# Keep in step with benches/src/lib.rs.
BUCKET = "lambdakit-bench-uploads"
REGION = "us-east-1"
KEY = "uploads/3f9c2b7e8a1d4c6f9e0b5a7d2c8e1f4a.jpg"
CONTENT_TYPE = "image/jpeg"
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXPIRES_IN = 3600
CONTENT_LENGTH_RANGE = (1, 10 * 1024 * 1024)

WARM_UP = 200


def boto3_client():
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        region_name=REGION,
    )
    return session.client("s3", config=Config(signature_version="s3v4"))


def sign_once(client):
    return client.generate_presigned_post(
        Bucket=BUCKET,
        Key=KEY,
        Fields={"Content-Type": CONTENT_TYPE},
        Conditions=[
            {"Content-Type": CONTENT_TYPE},
            ["content-length-range", *CONTENT_LENGTH_RANGE],
        ],
        ExpiresIn=EXPIRES_IN,
    )


def run_boto3(n):
    client = boto3_client()
    for _ in range(WARM_UP):
        sign_once(client)
    start = time.perf_counter()
    for _ in range(n):
        last = sign_once(client)
    elapsed = time.perf_counter() - start
    return {"n": n, "elapsed_s": elapsed, "per_second": n / elapsed, "url": last["url"], "fields": last["fields"]}


def run_rust(binary, n):
    out = subprocess.run([binary, str(n)], check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["fields"] = dict(result["fields"])
    return result


def policy_shape(fields):
    """The decoded policy without what depends on the signing time: its conditions without
    `x-amz-date` and `x-amz-credential` (which holds the date), and its lifetime in seconds."""
    policy = json.loads(base64.b64decode(fields["policy"]))
    timed = {"x-amz-date", "x-amz-credential"}
    conditions = [c for c in policy["conditions"] if not (isinstance(c, dict) and timed & c.keys())]
    signed_at = datetime.datetime.strptime(fields["x-amz-date"], "%Y%m%dT%H%M%SZ")
    expires_at = datetime.datetime.strptime(policy["expiration"], "%Y-%m-%dT%H:%M:%SZ")
    return {"conditions": conditions, "lifetime_s": (expires_at - signed_at).total_seconds()}


def check_same_work(ours, theirs):
    problems = []
    if list(ours["fields"]) != list(theirs["fields"]):
        problems.append(f"field names differ: {list(ours['fields'])} vs {list(theirs['fields'])}")
    # boto3 still posts to the legacy global endpoint for us-east-1; lambdakit uses the
    # regional one. Both reach the same bucket, and the URL is not signed.
    if ours["url"] != theirs["url"].replace(".s3.amazonaws.com", f".s3.{REGION}.amazonaws.com"):
        problems.append(f"URLs differ: {ours['url']} vs {theirs['url']}")
    if policy_shape(ours["fields"]) != policy_shape(theirs["fields"]):
        problems.append(
            f"policy conditions differ: {policy_shape(ours['fields'])} vs {policy_shape(theirs['fields'])}"
        )
    if problems:
        sys.exit("lambdakit and boto3 did not sign the same policy:\n  " + "\n  ".join(problems))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", help="path to the post-policies binary (built with --release)")
    parser.add_argument("--boto3-n", type=int, default=20_000, help="policies boto3 signs (default 20000)")
    parser.add_argument("--rust-n", type=int, default=200_000, help="policies lambdakit signs (default 200000)")
    args = parser.parse_args()

    theirs = run_boto3(args.boto3_n)
    ours = run_rust(args.binary, args.rust_n)
    check_same_work(ours, theirs)

    ratio = ours["per_second"] / theirs["per_second"]
    print(
        f"presigned POST: lambdakit {ours['per_second']:.0f}/s, boto3 {theirs['per_second']:.0f}/s, "
        f"ratio {ratio:.1f}x (n: lambdakit {ours['n']} in {ours['elapsed_s']:.2f} s, "
        f"boto3 {theirs['n']} in {theirs['elapsed_s']:.2f} s; boto3 {boto3.__version__}, "
        f"botocore {botocore.__version__}, Python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    main()
