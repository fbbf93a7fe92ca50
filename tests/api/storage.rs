//! The S3-compatible file store against a real S3 server: s3s-fs, an implementation of the S3
//! REST API on a directory, which checks every request's AWS Signature Version 4.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use finai::config::{S3Settings, Secret};
use finai::storage::s3::S3Store;
use finai::storage::{FileKey, FileStore};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{blank_png, spawn_app_with, temp_dir};
use crate::receipts::upload;

const BUCKET: &str = "finai-files";

/// Serves an S3 API on a new directory (one bucket, [`BUCKET`]) on a free port, for as long
/// as the test's runtime lives; returns the directory and how to reach the bucket.
async fn s3_server() -> (PathBuf, S3Settings) {
    let root = temp_dir("finai-s3");
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
    let mut service = s3s::service::S3ServiceBuilder::new(s3s_fs::FileSystem::new(&root).unwrap());
    service.set_auth(s3s::auth::SimpleAuth::from_single(
        "finai-test",
        "finai-test-secret",
    ));
    let service = service.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let http =
            hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
        while let Ok((socket, _)) = listener.accept().await {
            let connection = http
                .serve_connection(hyper_util::rt::TokioIo::new(socket), service.clone())
                .into_owned();
            tokio::spawn(async move {
                let _ = connection.await;
            });
        }
    });
    let settings = S3Settings {
        endpoint: format!("http://{address}"),
        bucket: BUCKET.into(),
        region: "us-east-1".into(),
        access_key_id: "finai-test".into(),
        secret_access_key: Secret::new("finai-test-secret"),
    };
    (root, settings)
}

/// The keys `store` lists as written before `cutoff`.
fn listed(store: &S3Store, cutoff: SystemTime) -> Vec<FileKey> {
    let mut keys = Vec::new();
    store
        .each_written_before(cutoff, &mut |key| keys.push(key))
        .unwrap();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_store_keeps_lists_and_deletes_files_on_a_real_s3_server() {
    let (_root, settings) = s3_server().await;
    tokio::task::spawn_blocking(move || {
        let store = S3Store::new(settings.clone()).unwrap();
        let ledger = uuid::Uuid::new_v4();
        let bytes = b"%PDF-1.4 a receipt".to_vec();
        let key = FileKey::of(ledger, &bytes);
        store.put(&key, &bytes).unwrap();
        // A repeated write of the same content is harmless.
        store.put(&key, &bytes).unwrap();
        assert_eq!(store.get(&key).unwrap(), bytes);
        let other = FileKey::of(ledger, b"another");
        assert_eq!(
            store.get(&other).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        let keys = listed(&store, SystemTime::now() + Duration::from_secs(60));
        assert_eq!(keys, std::slice::from_ref(&key));
        assert!(listed(&store, SystemTime::now() - Duration::from_secs(3600)).is_empty());
        store.delete(&key).unwrap();
        // Deleting what is gone is not an error.
        store.delete(&key).unwrap();
        assert_eq!(
            store.get(&key).unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
        // A request signed with another secret is refused, and says so.
        let forged = S3Store::new(S3Settings {
            secret_access_key: Secret::new("not-the-secret"),
            ..settings
        })
        .unwrap();
        let refused = forged.put(&key, &bytes).unwrap_err();
        assert!(refused.to_string().contains("403"), "{refused}");
        assert!(listed(&store, SystemTime::now() + Duration::from_secs(60)).is_empty());
    })
    .await
    .unwrap();
}

/// An attachment uploaded through the API is kept in the bucket (not on the server's disk),
/// downloads as it was sent, and leaves the bucket when its transaction goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_live_in_the_s3_store_when_one_is_configured() {
    let (_root, settings) = s3_server().await;
    let configured = settings.clone();
    let app = spawn_app_with(move |s| s.file_store = Some(configured)).await;
    let user = app.register("s3@example.com").await;
    let wallet = app.create_wallet(&user, "Cash", "USD").await;
    let food = app.category_id(&user, "Food & Dining").await;
    let tx = app
        .create_transaction(
            &user,
            json!({"type": "expense", "amount": 5, "wallet_id": wallet, "category_id": food,
                   "description": "Lunch"}),
        )
        .await;
    let tx = tx["id"].as_str().unwrap().to_owned();
    let png = blank_png(40, 30);
    let (status, body) = upload(
        &app,
        &user,
        &format!("/api/v1/transactions/{tx}/attachments"),
        png.clone(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    let sha = body["data"]["sha256"].as_str().unwrap().to_owned();
    let download = app
        .get_as(&format!("/api/v1/attachments/{id}"), &user.access_token)
        .await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap().to_vec(), png);
    assert!(!app.data_dir.join("files").exists());

    let store_settings = settings.clone();
    let keys = tokio::task::spawn_blocking(move || {
        listed(
            &S3Store::new(store_settings).unwrap(),
            SystemTime::now() + Duration::from_secs(60),
        )
    })
    .await
    .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].sha256, sha);

    let response = app
        .send_as(
            Method::DELETE,
            &format!("/api/v1/transactions/{tx}"),
            &user.access_token,
            None,
        )
        .await;
    assert_eq!(response.status(), 200);
    let db_url = app.db.url.clone();
    let left = tokio::task::spawn_blocking(move || {
        let store = S3Store::new(settings).unwrap();
        let mut conn = diesel::Connection::establish(&db_url).unwrap();
        finai::services::attachments::sweep(&mut conn, &store, 100).unwrap();
        listed(&store, SystemTime::now() + Duration::from_secs(60))
    })
    .await
    .unwrap();
    assert!(left.is_empty(), "{left:?}");
}
