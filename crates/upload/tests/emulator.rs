//! Presigned uploads against the local AWS emulator (moto's server), which `cargo xtask test`
//! starts. Where moto does not enforce a rule that S3 does (signatures, expiry, POST policy
//! conditions), the request is also checked with `lambdakit_test_support::s3_rules`, which
//! recomputes the signature with the AWS SDK's own signer; see `docs/testing.md`.

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use lambdakit_test_support::s3_rules::{Refusal, check_body, check_post, check_presigned};
use lambdakit_test_support::{emulator, fixture, http};
use lambdakit_upload::{
    ContentTypes, Credentials, Error, Presigner, UploadRequest, UploadedPart, Uploader,
};
use sha2::{Digest, Sha256};

const SECRET: &str = emulator::SECRET_ACCESS_KEY;

fn creds() -> Credentials {
    Credentials::new(emulator::ACCESS_KEY_ID, SECRET)
}

fn uploader(bucket: &str, max: u64) -> Uploader {
    Uploader::builder()
        .presigner(
            Presigner::builder()
                .bucket(bucket)
                .region(emulator::REGION)
                .endpoint_url(emulator::url())
                .force_path_style(true)
                .build()
                .expect("presigner"),
        )
        .content_types(
            ContentTypes::new()
                .allow("image/jpeg")
                .and_then(|t| t.allow("application/octet-stream"))
                .expect("types"),
        )
        .prefix("uploads/")
        .size_range(1, max)
        .part_size(5 * 1024 * 1024)
        .credentials(creds())
        .build()
        .expect("uploader")
}

fn pairs(map: &std::collections::BTreeMap<String, String>) -> Vec<(&str, &str)> {
    map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn photo() -> Vec<u8> {
    fixture("fixtures/images/grace_hopper.jpg")
}

/// A presigned PUT of `photo` with its size and SHA-256 signed; also the base64 SHA-256.
async fn presign_photo(bucket: &str, photo: &[u8]) -> (lambdakit_upload::PresignedUpload, String) {
    let sum = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(photo));
    let up = uploader(bucket, 1 << 20)
        .presign_put(
            &UploadRequest::new("image/jpeg")
                .size(photo.len() as u64)
                .checksum_sha256(sum.clone()),
        )
        .await
        .expect("presigned");
    (up, sum)
}

#[tokio::test]
async fn presigned_put_stores_exactly_the_bytes_sent() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "put").await;
    let photo = photo();
    let (up, sum) = presign_photo(&bucket, &photo).await;
    assert_eq!(up.headers["content-type"], "image/jpeg");
    assert_eq!(up.headers["content-length"], photo.len().to_string());
    assert_eq!(up.headers["x-amz-checksum-sha256"], sum);

    let headers = pairs(&up.headers);
    assert_eq!(
        check_presigned("PUT", &up.upload_url, &headers, SECRET, SystemTime::now()),
        Ok(())
    );
    let response = http::put(&up.upload_url, headers.clone(), &photo);
    assert_eq!(response.status, 200, "{}", response.text());

    assert_eq!(emulator::object(&s3, &bucket, &up.key).await, Some(photo));
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key(&up.key)
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_type(), Some("image/jpeg"));
}

#[tokio::test]
async fn put_with_another_body_than_signed_is_refused_by_its_checksum() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "put-digest").await;
    let photo = photo();
    let (up, _) = presign_photo(&bucket, &photo).await;
    // Same length, other bytes: S3 refuses them (BadDigest) because the signed checksum no
    // longer matches. moto does not check checksums, so the rule is checked here.
    let mut forged = photo.clone();
    forged[1000] ^= 0xff;
    let headers = pairs(&up.headers);
    assert_eq!(check_body(&headers, &photo), Ok(()));
    assert_eq!(check_body(&headers, &forged), Err(Refusal::BadDigest));
    assert_eq!(
        check_body(&headers, &photo[1..]),
        Err(Refusal::LengthMismatch)
    );
    // The signature still covers the checksum header: dropping or changing it is refused.
    let without: Vec<(&str, &str)> = headers
        .iter()
        .copied()
        .filter(|(k, _)| *k != "x-amz-checksum-sha256")
        .collect();
    assert_eq!(
        check_presigned("PUT", &up.upload_url, &without, SECRET, SystemTime::now()),
        Err(Refusal::MissingSignedHeader("x-amz-checksum-sha256".into()))
    );
    let forged_sum = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&forged));
    let mut swapped = headers.clone();
    for h in &mut swapped {
        if h.0 == "x-amz-checksum-sha256" {
            h.1 = &forged_sum;
        }
    }
    assert_eq!(
        check_presigned("PUT", &up.upload_url, &swapped, SECRET, SystemTime::now()),
        Err(Refusal::SignatureDoesNotMatch)
    );
    // What S3 accepts, the emulator stores.
    let response = http::put(&up.upload_url, headers, &photo);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(emulator::object(&s3, &bucket, &up.key).await, Some(photo));
}

#[tokio::test]
async fn put_with_another_content_type_or_size_is_refused() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "put-type").await;
    let up = uploader(&bucket, 1 << 20)
        .presign_put(&UploadRequest::new("image/jpeg").size(100))
        .await
        .expect("presigned");
    let now = SystemTime::now();
    let signed = pairs(&up.headers);
    assert_eq!(
        check_presigned("PUT", &up.upload_url, &signed, SECRET, now),
        Ok(())
    );
    // A browser sending text/html (to get a stored page served from the bucket's origin).
    let html = [
        ("content-type", "text/html"),
        ("content-length", "100"),
        ("if-none-match", "*"),
    ];
    assert_eq!(
        check_presigned("PUT", &up.upload_url, &html, SECRET, now),
        Err(Refusal::SignatureDoesNotMatch)
    );
    // A larger body than signed.
    let big = [
        ("content-type", "image/jpeg"),
        ("content-length", "5000000"),
        ("if-none-match", "*"),
    ];
    assert_eq!(
        check_presigned("PUT", &up.upload_url, &big, SECRET, now),
        Err(Refusal::SignatureDoesNotMatch)
    );
    // No content type at all.
    let none = [("content-length", "100"), ("if-none-match", "*")];
    assert_eq!(
        check_presigned("PUT", &up.upload_url, &none, SECRET, now),
        Err(Refusal::MissingSignedHeader("content-type".into()))
    );
    // Another key in the same URL.
    let moved = up.upload_url.replacen("/uploads/", "/uploads/x", 1);
    assert_eq!(
        check_presigned("PUT", &moved, &signed, SECRET, now),
        Err(Refusal::SignatureDoesNotMatch)
    );
}

#[tokio::test]
async fn expired_url_is_refused() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "put-expired").await;
    let u = uploader(&bucket, 1 << 20);
    let ten_minutes_ago = SystemTime::now() - Duration::from_secs(600);
    let up = u
        .presign_put_with(
            &UploadRequest::new("image/jpeg").size(3),
            &creds(),
            ten_minutes_ago,
        )
        .expect("presigned");
    let headers = pairs(&up.headers);
    assert!(up.expires_at < SystemTime::now());
    assert_eq!(
        check_presigned("PUT", &up.upload_url, &headers, SECRET, SystemTime::now()),
        Err(Refusal::Expired)
    );
    // Still valid one second before it expires.
    assert_eq!(
        check_presigned(
            "PUT",
            &up.upload_url,
            &headers,
            SECRET,
            up.expires_at - Duration::from_secs(1)
        ),
        Ok(())
    );
}

#[tokio::test]
async fn post_policy_accepts_sizes_in_range_and_refuses_others() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "post").await;
    let photo = photo();
    let max = photo.len() as u64;
    let form = uploader(&bucket, max)
        .presign_post(&UploadRequest::new("image/jpeg"))
        .await
        .expect("presigned");
    let fields: Vec<(&str, &str)> = form.post.fields.iter().collect();
    let now = SystemTime::now();

    // At the limit: S3 accepts, and the emulator stores exactly the file.
    assert_eq!(check_post(&fields, &bucket, max, SECRET, now), Ok(()));
    let response = http::post_form(
        &form.post.url,
        fields.clone(),
        "photo.jpg",
        "image/jpeg",
        &photo,
    );
    assert_eq!(response.status, 201, "{}", response.text());
    assert_eq!(emulator::object(&s3, &bucket, &form.key).await, Some(photo));

    // One byte over, and empty: outside content-length-range.
    assert_eq!(
        check_post(&fields, &bucket, max + 1, SECRET, now),
        Err(Refusal::ContentLength(max + 1))
    );
    assert_eq!(
        check_post(&fields, &bucket, 0, SECRET, now),
        Err(Refusal::ContentLength(0))
    );
    // A tampered field, another bucket, an added field, a late upload.
    let mut tampered = fields.clone();
    for f in &mut tampered {
        if f.0 == "Content-Type" {
            f.1 = "text/html";
        }
    }
    assert!(matches!(
        check_post(&tampered, &bucket, 10, SECRET, now),
        Err(Refusal::PolicyCondition(_))
    ));
    assert!(matches!(
        check_post(&fields, "other-bucket", 10, SECRET, now),
        Err(Refusal::PolicyCondition(_))
    ));
    let mut extra = fields.clone();
    extra.push(("x-amz-meta-owner", "mallory"));
    assert!(matches!(
        check_post(&extra, &bucket, 10, SECRET, now),
        Err(Refusal::PolicyCondition(_))
    ));
    assert_eq!(
        check_post(
            &fields,
            &bucket,
            10,
            SECRET,
            form.post.expires_at + Duration::from_secs(1)
        ),
        Err(Refusal::Expired)
    );
    assert_eq!(
        check_post(&fields, &bucket, 10, "another secret", now),
        Err(Refusal::SignatureDoesNotMatch)
    );
}

#[tokio::test]
async fn concurrent_uploads_never_overwrite_each_other() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "many").await;
    let u = uploader(&bucket, 1 << 20);
    let mut handles = Vec::new();
    for i in 0..32u32 {
        let up = u
            .presign_put(&UploadRequest::new("image/jpeg").size(4))
            .await
            .expect("presigned");
        handles.push(std::thread::spawn(move || {
            let body = i.to_be_bytes();
            let r = http::put(&up.upload_url, pairs(&up.headers), &body);
            (up.key, body, r.status)
        }));
    }
    let mut keys = std::collections::BTreeSet::new();
    for h in handles {
        let (key, body, status) = h.join().expect("thread");
        assert_eq!(status, 200);
        assert_eq!(
            emulator::object(&s3, &bucket, &key).await,
            Some(body.to_vec())
        );
        keys.insert(key);
    }
    assert_eq!(keys.len(), 32);
}

#[tokio::test]
async fn multipart_upload_round_trip() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "multipart").await;
    let u = uploader(&bucket, 64 << 20);
    let size: usize = 5 * 1024 * 1024 + 1234;
    let file: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let created = u
        .create_multipart(
            &s3,
            &UploadRequest::new("application/octet-stream").size(size as u64),
        )
        .await
        .expect("created");
    let plan = created.plan.expect("a plan for a known size");
    assert_eq!(plan.part_count, 2);
    assert_eq!(plan.last_part_size, 1234);
    let signed = u
        .sign_parts(&created.key, &created.upload_id, &[1, 2], None)
        .await
        .expect("signed");
    let mut parts = Vec::new();
    for (part, chunk) in signed.iter().zip(file.chunks(plan.part_size as usize)) {
        let r = http::put(&part.url, [], chunk);
        assert_eq!(r.status, 200, "{}", r.text());
        parts.push(UploadedPart {
            part_number: part.part_number,
            etag: r.headers.get("etag").cloned().expect("etag"),
            size: None,
        });
    }
    let listed = u
        .list_parts(&s3, &created.key, &created.upload_id, None)
        .await
        .expect("listed");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1].size, Some(1234));
    let done = u
        .complete_multipart(&s3, &created.key, &created.upload_id, &parts, None)
        .await
        .expect("completed");
    assert_eq!(done.key, created.key);
    assert_eq!(
        emulator::object(&s3, &bucket, &created.key).await,
        Some(file)
    );
}

#[tokio::test]
async fn multipart_over_the_limit_is_aborted_not_stored() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "multipart-big").await;
    let max = 6 * 1024 * 1024;
    let u = uploader(&bucket, max);
    let created = u
        .create_multipart(
            &s3,
            &UploadRequest::new("application/octet-stream").size(max),
        )
        .await
        .expect("created");
    // The client ignores the plan and sends two full 5 MiB parts (10 MiB > 6 MiB).
    let signed = u
        .sign_parts(&created.key, &created.upload_id, &[1, 2], None)
        .await
        .expect("signed");
    let chunk = vec![7u8; 5 * 1024 * 1024];
    let mut parts = Vec::new();
    for part in &signed {
        let r = http::put(&part.url, [], &chunk);
        parts.push(UploadedPart {
            part_number: part.part_number,
            etag: r.headers.get("etag").cloned().expect("etag"),
            size: None,
        });
    }
    let err = u
        .complete_multipart(&s3, &created.key, &created.upload_id, &parts, None)
        .await
        .expect_err("too large");
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
    assert_eq!(emulator::object(&s3, &bucket, &created.key).await, None);
    // The upload was aborted: its parts are gone.
    let gone = u
        .list_parts(&s3, &created.key, &created.upload_id, None)
        .await;
    assert!(matches!(gone, Err(Error::NoSuchUpload)), "{gone:?}");
}

#[tokio::test]
async fn multipart_abort_and_foreign_keys() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "multipart-abort").await;
    let u = uploader(&bucket, 64 << 20);
    let created = u
        .create_multipart(
            &s3,
            &UploadRequest::new("application/octet-stream")
                .size(10)
                .scope("alice"),
        )
        .await
        .expect("created");
    assert!(created.key.starts_with("uploads/alice/"));
    // Bob may not sign, list, complete or abort Alice's upload.
    let bob = Some("bob");
    assert_eq!(
        u.sign_parts(&created.key, &created.upload_id, &[1], bob)
            .await
            .map(|_| ())
            .expect_err("bob")
            .status(),
        403
    );
    assert_eq!(
        u.abort_multipart(&s3, &created.key, &created.upload_id, bob)
            .await
            .expect_err("bob")
            .status(),
        403
    );
    u.abort_multipart(&s3, &created.key, &created.upload_id, Some("alice"))
        .await
        .expect("aborted");
    let again = u
        .abort_multipart(&s3, &created.key, &created.upload_id, Some("alice"))
        .await;
    assert!(matches!(again, Err(Error::NoSuchUpload)), "{again:?}");
}

#[tokio::test]
async fn credentials_come_from_the_sdk_provider() {
    let config = emulator::sdk_config();
    let u = Uploader::builder()
        .presigner(
            Presigner::builder()
                .bucket("provider-bucket")
                .region(emulator::REGION)
                .build()
                .expect("presigner"),
        )
        .credentials_provider(config.credentials_provider().expect("provider"))
        .build()
        .expect("uploader");
    let up = u
        .presign_put(&UploadRequest::new("image/jpeg").size(1))
        .await
        .expect("presigned");
    assert!(
        up.upload_url.contains("X-Amz-Credential=testing%2F"),
        "{}",
        up.upload_url
    );
    assert_eq!(
        check_presigned(
            "PUT",
            &up.upload_url,
            &pairs(&up.headers),
            SECRET,
            SystemTime::now()
        ),
        Ok(())
    );
}

#[tokio::test]
async fn multipart_with_parts_s3_cannot_assemble_is_a_client_error() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "multipart-bad").await;
    let u = uploader(&bucket, 64 << 20);
    let created = u
        .create_multipart(&s3, &UploadRequest::new("application/octet-stream"))
        .await
        .expect("created");
    assert!(created.plan.is_none(), "no size, no plan");
    let signed = u
        .sign_parts(&created.key, &created.upload_id, &[1], None)
        .await
        .expect("signed");
    let r = http::put(&signed[0].url, [], b"part one");
    assert_eq!(r.status, 200, "{}", r.text());
    // An ETag S3 never gave out.
    let forged = [UploadedPart {
        part_number: 1,
        etag: "\"0123456789abcdef0123456789abcdef\"".into(),
        size: None,
    }];
    let err = u
        .complete_multipart(&s3, &created.key, &created.upload_id, &forged, None)
        .await
        .expect_err("refused");
    assert_eq!(err.status(), 400, "{err:?}");
    assert_eq!(emulator::object(&s3, &bucket, &created.key).await, None);
}

#[tokio::test]
async fn a_replayed_put_url_cannot_overwrite_the_upload() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "put-replay").await;
    let up = uploader(&bucket, 1 << 20)
        .presign_put(&UploadRequest::new("image/jpeg").size(5))
        .await
        .expect("presigned");
    assert_eq!(up.headers["if-none-match"], "*");
    let first = http::put(&up.upload_url, pairs(&up.headers), b"first");
    assert_eq!(first.status, 200, "{}", first.text());
    // The same URL again (within its expiry), with other bytes: S3 refuses (412).
    let second = http::put(&up.upload_url, pairs(&up.headers), b"later");
    assert_eq!(second.status, 412, "{}", second.text());
    assert_eq!(
        emulator::object(&s3, &bucket, &up.key).await.as_deref(),
        Some(&b"first"[..])
    );
    // Dropping the header breaks the signature.
    let without: Vec<(&str, &str)> = pairs(&up.headers)
        .into_iter()
        .filter(|(k, _)| *k != "if-none-match")
        .collect();
    assert_eq!(
        check_presigned("PUT", &up.upload_url, &without, SECRET, SystemTime::now()),
        Err(Refusal::MissingSignedHeader("if-none-match".into()))
    );
}

#[tokio::test]
async fn multipart_never_completes_over_an_existing_object() {
    let s3 = emulator::s3();
    let bucket = emulator::bucket(&s3, "multipart-exists").await;
    let u = uploader(&bucket, 64 << 20);
    let key = lambdakit_upload::ObjectKey::parse("uploads/taken.bin").expect("key");
    let created = u
        .create_multipart(
            &s3,
            &UploadRequest::new("application/octet-stream").key(key.clone()),
        )
        .await
        .expect("created");
    let signed = u
        .sign_parts(&created.key, &created.upload_id, &[1], None)
        .await
        .expect("signed");
    let r = http::put(&signed[0].url, [], b"new bytes");
    let parts = [UploadedPart {
        part_number: 1,
        etag: r.headers.get("etag").cloned().expect("etag"),
        size: None,
    }];
    // Meanwhile someone stores an object under the same key.
    s3.put_object()
        .bucket(&bucket)
        .key(key.as_str())
        .body(b"already here".to_vec().into())
        .send()
        .await
        .expect("put");
    let result = u
        .complete_multipart(&s3, &created.key, &created.upload_id, &parts, None)
        .await;
    assert!(matches!(result, Err(Error::Conflict(_))), "{result:?}");
    assert_eq!(
        emulator::object(&s3, &bucket, key.as_str())
            .await
            .as_deref(),
        Some(&b"already here"[..])
    );
}
