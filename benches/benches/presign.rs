//! Presigning throughput: lambdakit-upload against aws-sdk-s3's own `.presigned()`.
//!
//! Run with `cargo bench --package lambdakit-benches --bench presign` (or `cargo xtask bench`).
//!
//! Both sides sign the same PutObject (bucket, us-east-1, `uploads/<32 hex>.jpg`,
//! `image/jpeg`, 300 s, fixed static credentials, fixed signing time). The SDK client is
//! built once, outside the timed loop; presigning never sends a request, so no network is
//! involved. Throughput is in elements: URLs per second.

use std::hint::black_box;

use aws_sdk_s3::presigning::PresigningConfig;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lambdakit_benches::{
    BUCKET, CONTENT_TYPE, KEY, PARTS_PER_BATCH, PUT_EXPIRY, UPLOAD_ID, credentials, key,
    post_policy, presigner, sdk_client, signing_time,
};

fn presigning_config() -> PresigningConfig {
    PresigningConfig::builder()
        .start_time(signing_time())
        .expires_in(PUT_EXPIRY)
        .build()
        .expect("300 s is a valid expiry")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The URL's address and query parameters, sorted, without the signature and without the
/// SDK's `x-id` routing parameter (signed, so the signatures differ; S3 ignores it). Query
/// order does not matter to S3: SigV4 signs the parameters sorted.
fn unsigned_parts(url: &str) -> (String, Vec<String>) {
    let (address, query) = url.split_once('?').expect("a presigned URL has a query");
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.starts_with("x-id=") && !p.starts_with("X-Amz-Signature="))
        .map(str::to_owned)
        .collect();
    params.sort();
    (address.to_owned(), params)
}

fn presign_put(c: &mut Criterion) {
    let presigner = presigner();
    let key = key();
    let creds = credentials();
    let now = signing_time();
    let client = sdk_client();
    let rt = runtime();

    // Both sides must sign the same request, or the ratio means nothing.
    let ours = presigner
        .put(&key, CONTENT_TYPE)
        .expires_in(PUT_EXPIRY)
        .sign(&creds, now)
        .expect("lambdakit presigns");
    let theirs = rt
        .block_on(
            client
                .put_object()
                .bucket(BUCKET)
                .key(KEY)
                .content_type(CONTENT_TYPE)
                .presigned(presigning_config()),
        )
        .expect("aws-sdk-s3 presigns");
    assert_eq!(unsigned_parts(&ours.url), unsigned_parts(theirs.uri()));

    let mut group = c.benchmark_group("presign_put");
    group.throughput(Throughput::Elements(1));
    group.bench_function("lambdakit-upload", |b| {
        b.iter(|| {
            presigner
                .put(black_box(&key), black_box(CONTENT_TYPE))
                .expires_in(PUT_EXPIRY)
                .sign(&creds, black_box(now))
                .expect("lambdakit presigns")
        });
    });
    group.bench_function("aws-sdk-s3", |b| {
        b.to_async(&rt).iter(|| async {
            client
                .put_object()
                .bucket(black_box(BUCKET))
                .key(black_box(KEY))
                .content_type(black_box(CONTENT_TYPE))
                .presigned(presigning_config())
                .await
                .expect("aws-sdk-s3 presigns")
        });
    });
    group.finish();
}

fn presign_post(c: &mut Criterion) {
    let presigner = presigner();
    let creds = credentials();
    let now = signing_time();
    let policy = post_policy();

    let mut group = c.benchmark_group("presign_post");
    group.throughput(Throughput::Elements(1));
    group.bench_function("lambdakit-upload", |b| {
        b.iter(|| {
            black_box(&policy)
                .sign(&presigner, &creds, black_box(now))
                .expect("lambdakit signs the policy")
        });
    });
    group.finish();
}

fn upload_part(c: &mut Criterion) {
    let presigner = presigner();
    let key = key();
    let creds = credentials();
    let now = signing_time();
    let client = sdk_client();
    let rt = runtime();

    let ours = presigner
        .upload_part(&key, UPLOAD_ID, 1, PUT_EXPIRY, &creds, now)
        .expect("lambdakit presigns");
    let theirs = rt
        .block_on(
            client
                .upload_part()
                .bucket(BUCKET)
                .key(KEY)
                .upload_id(UPLOAD_ID)
                .part_number(1)
                .presigned(presigning_config()),
        )
        .expect("aws-sdk-s3 presigns");
    assert_eq!(unsigned_parts(&ours.url), unsigned_parts(theirs.uri()));

    let mut group = c.benchmark_group("upload_part");
    group.throughput(Throughput::Elements(u64::from(PARTS_PER_BATCH)));
    group.bench_function("lambdakit-upload", |b| {
        b.iter(|| {
            (1..=PARTS_PER_BATCH)
                .map(|part| {
                    presigner
                        .upload_part(&key, UPLOAD_ID, part, PUT_EXPIRY, &creds, black_box(now))
                        .expect("lambdakit presigns")
                })
                .collect::<Vec<_>>()
        });
    });
    group.bench_function("aws-sdk-s3", |b| {
        b.to_async(&rt).iter(|| async {
            let mut urls = Vec::with_capacity(PARTS_PER_BATCH as usize);
            for part in 1..=PARTS_PER_BATCH {
                let signed = client
                    .upload_part()
                    .bucket(BUCKET)
                    .key(KEY)
                    .upload_id(UPLOAD_ID)
                    .part_number(black_box(part) as i32)
                    .presigned(presigning_config())
                    .await
                    .expect("aws-sdk-s3 presigns");
                urls.push(signed);
            }
            urls
        });
    });
    group.finish();
}

criterion_group!(benches, presign_put, presign_post, upload_part);
criterion_main!(benches);
