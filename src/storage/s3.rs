//! [`FileStore`] on an S3-compatible object store (Amazon S3, MinIO, Ceph RGW, Garage, ...):
//! one object per file, `<ledger>/<aa>/<sha256>` in one bucket, over the S3 REST API with
//! path-style addresses (`<endpoint>/<bucket>/<key>`) and AWS Signature Version 4.
//!
//! A PUT is whole or not at all on every S3 store, so there are no temporary objects to
//! sweep; the garbage collector lists the bucket with ListObjectsV2.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{hex, FileKey, FileStore};
use crate::config::S3Settings;
use crate::domain::statement::camt::resolve_reference;

/// The largest object a GET reads (files are at most 10 MB; bank files queued for import a
/// little more).
const MAX_OBJECT: u64 = 64 * 1024 * 1024;

pub struct S3Store {
    settings: S3Settings,
    /// `host[:port]` as the requests send it (part of what is signed).
    host: String,
    agent: ureq::Agent,
}

impl S3Store {
    pub fn new(settings: S3Settings) -> io::Result<S3Store> {
        let invalid = |why: &str| io::Error::new(io::ErrorKind::InvalidInput, why.to_owned());
        let endpoint = url::Url::parse(&settings.endpoint)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // Only the path is signed, and errors name the address: an endpoint is a scheme, a host
        // and a port, nothing more.
        if !endpoint.username().is_empty() || endpoint.password().is_some() {
            return Err(invalid(
                "the S3 endpoint must not carry credentials (give FINAI_S3_ACCESS_KEY_ID and \
                 FINAI_S3_SECRET_ACCESS_KEY)",
            ));
        }
        if !matches!(endpoint.path(), "" | "/")
            || endpoint.query().is_some()
            || endpoint.fragment().is_some()
        {
            return Err(invalid(
                "the S3 endpoint must be a scheme, a host and a port only (the bucket is \
                 FINAI_S3_BUCKET)",
            ));
        }
        let host = match (endpoint.host_str(), endpoint.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "the S3 endpoint names no host",
                ))
            }
        };
        let tls = native_tls::TlsConnector::new().map_err(io::Error::other)?;
        // A redirect is an error: ureq follows none of a PUT or DELETE, and one without a
        // `Location` (S3's answer from the wrong region) would read as success.
        let agent = ureq::AgentBuilder::new()
            .redirects(0)
            .timeout_connect(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .tls_connector(Arc::new(tls))
            .build();
        Ok(S3Store {
            settings,
            host,
            agent,
        })
    }

    fn object_path(&self, key: &FileKey) -> String {
        format!(
            "/{}/{}/{}/{}",
            self.settings.bucket,
            key.ledger_id,
            &key.sha256[..2],
            key.sha256
        )
    }

    /// Sends one signed request (`what` names it in errors): `path` is absolute and already in
    /// canonical form (the keys and the bucket are of characters that need no escaping),
    /// `query` is given unescaped.
    fn send(
        &self,
        what: &str,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<ureq::Response> {
        let now = Utc::now();
        let signed = sign(
            &self.settings,
            &Request {
                method,
                host: &self.host,
                path,
                query,
                body,
            },
            now,
        );
        let mut url = format!("{}{path}", self.settings.endpoint.trim_end_matches('/'));
        if !signed.query.is_empty() {
            url.push('?');
            url.push_str(&signed.query);
        }
        let request = self
            .agent
            .request(method, &url)
            .set("x-amz-date", &signed.date)
            .set("x-amz-content-sha256", &signed.payload_hash)
            .set("authorization", &signed.authorization);
        let response = if body.is_empty() && method != "PUT" {
            request.call()
        } else {
            request.send_bytes(body)
        }
        .map_err(|e| failure(what, e))?;
        // Below 400 ureq answers `Ok`: only a 2xx is one.
        match response.status() {
            200..=299 => Ok(response),
            status => Err(io::Error::other(format!(
                "S3 {what}: unexpected {status} {}",
                response.status_text()
            ))),
        }
    }
}

/// An S3 answer as an `io::Error`: a missing object is `NotFound`, like a missing file.
fn failure(what: &str, error: ureq::Error) -> io::Error {
    match error {
        ureq::Error::Status(404, _) => io::Error::new(io::ErrorKind::NotFound, what.to_owned()),
        ureq::Error::Status(status, response) => {
            let mut detail = String::new();
            let _ = response
                .into_reader()
                .take(2048)
                .read_to_string(&mut detail);
            io::Error::other(format!("S3 {what}: {status} {}", detail.trim()))
        }
        ureq::Error::Transport(transport) => io::Error::other(format!("S3 {what}: {transport}")),
    }
}

impl FileStore for S3Store {
    fn put(&self, key: &FileKey, bytes: &[u8]) -> io::Result<()> {
        self.send("PUT", "PUT", &self.object_path(key), &[], bytes)
            .map(drop)
    }

    fn get(&self, key: &FileKey) -> io::Result<Vec<u8>> {
        let response = self.send("GET", "GET", &self.object_path(key), &[], &[])?;
        let mut bytes = Vec::new();
        response
            .into_reader()
            .take(MAX_OBJECT + 1)
            .read_to_end(&mut bytes)?;
        // The key is the content's hash: anything else (cut short, or not ours) is not the file.
        if bytes.len() as u64 > MAX_OBJECT || hex(&Sha256::digest(&bytes)) != key.sha256 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "S3 GET: the object is not the file its key names",
            ));
        }
        Ok(bytes)
    }

    fn delete(&self, key: &FileKey) -> io::Result<()> {
        match self.send("DELETE", "DELETE", &self.object_path(key), &[], &[]) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn each_written_before(
        &self,
        cutoff: SystemTime,
        visit: &mut dyn FnMut(FileKey),
    ) -> io::Result<()> {
        let bucket = format!("/{}", self.settings.bucket);
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("list-type", "2")];
            if let Some(token) = &token {
                query.push(("continuation-token", token.as_str()));
            }
            let response = self.send("ListObjectsV2", "GET", &bucket, &query, &[])?;
            let mut body = String::new();
            response
                .into_reader()
                .take(MAX_OBJECT)
                .read_to_string(&mut body)?;
            let page = parse_listing(&body)?;
            for (name, written) in page.objects {
                if written >= cutoff {
                    continue;
                }
                if let Some(key) = key_of(&name) {
                    visit(key);
                }
            }
            match page.next {
                Some(next) => token = Some(next),
                None => return Ok(()),
            }
        }
    }
}

/// The key of an object named `<ledger>/<aa>/<sha256>`; anything else in the bucket is not
/// ours.
fn key_of(name: &str) -> Option<FileKey> {
    let mut parts = name.split('/');
    let (ledger, prefix, sha256) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let key = FileKey::new(ledger.parse().ok()?, sha256)?;
    (key.sha256[..2] == *prefix).then_some(key)
}

/// One page of a ListObjectsV2 answer.
#[derive(Debug, Default, PartialEq)]
struct Listing {
    objects: Vec<(String, SystemTime)>,
    /// The continuation token, while the listing is truncated.
    next: Option<String>,
}

fn parse_listing(xml: &str) -> io::Result<Listing> {
    use quick_xml::events::Event;
    let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut listing = Listing::default();
    let (mut path, mut text) = (Vec::<String>::new(), String::new());
    let (mut key, mut modified) = (None, None);
    let (mut truncated, mut next) = (false, None);
    loop {
        match reader.read_event().map_err(|e| invalid(e.to_string()))? {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                if name == "Contents" {
                    (key, modified) = (None, None);
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| invalid(e.to_string()))?),
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(reference) => text.push_str(
                &resolve_reference(&reference)
                    .ok_or_else(|| invalid("an undeclared entity".into()))?,
            ),
            Event::End(_) => {
                let value = std::mem::take(&mut text);
                let element = path.pop();
                match (path.last().map(String::as_str), element.as_deref()) {
                    (Some("Contents"), Some("Key")) => key = Some(value),
                    (Some("Contents"), Some("LastModified")) => {
                        let at = DateTime::parse_from_rfc3339(value.trim())
                            .map_err(|e| invalid(format!("LastModified {value}: {e}")))?;
                        modified = Some(SystemTime::from(at));
                    }
                    (_, Some("Contents")) => {
                        if let (Some(key), Some(modified)) = (key.take(), modified.take()) {
                            listing.objects.push((key, modified));
                        }
                    }
                    (_, Some("IsTruncated")) => truncated = value.trim() == "true",
                    (_, Some("NextContinuationToken")) => next = Some(value),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    listing.next = next.filter(|_| truncated);
    Ok(listing)
}

/// What is signed of a request.
struct Request<'a> {
    method: &'a str,
    host: &'a str,
    /// Canonical already (see [`S3Store::send`]).
    path: &'a str,
    query: &'a [(&'a str, &'a str)],
    body: &'a [u8],
}

/// The headers and query string a request carries to be accepted.
#[derive(Debug, PartialEq)]
struct Signed {
    /// `x-amz-date`.
    date: String,
    /// `x-amz-content-sha256`.
    payload_hash: String,
    authorization: String,
    /// The query, escaped and sorted as signed.
    query: String,
}

/// AWS Signature Version 4 for the `s3` service, signing `host`, `x-amz-content-sha256` and
/// `x-amz-date`.
fn sign(settings: &S3Settings, request: &Request<'_>, now: DateTime<Utc>) -> Signed {
    let date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let day = &date[..8];
    let payload_hash = hex(&Sha256::digest(request.body));
    let mut query: Vec<(String, String)> = request
        .query
        .iter()
        .map(|(k, v)| (escape(k), escape(v)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let signed_headers = "host;x-amz-content-sha256;x-amz-date";
    let canonical = format!(
        "{}\n{}\n{query}\nhost:{}\nx-amz-content-sha256:{payload_hash}\nx-amz-date:{date}\n\n\
         {signed_headers}\n{payload_hash}",
        request.method, request.path, request.host
    );
    let scope = format!("{day}/{}/s3/aws4_request", settings.region);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let secret = format!("AWS4{}", settings.secret_access_key.expose());
    let key = [day, settings.region.as_str(), "s3", "aws4_request"]
        .iter()
        .fold(secret.into_bytes(), |key, part| hmac(&key, part.as_bytes()));
    let signature = hex(&hmac(&key, to_sign.as_bytes()));
    Signed {
        authorization: format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, \
             Signature={signature}",
            settings.access_key_id
        ),
        date,
        payload_hash,
        query,
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Every byte but RFC 3986's unreserved ones (`A-Z a-z 0-9 - _ . ~`).
const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// URI-encodes as SigV4 asks: every reserved byte, upper-case hex.
fn escape(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    /// The "GET Bucket (List Objects)" example of the S3 documentation ("Signature Calculations
    /// for the Authorization Header: Transferring Payload in a Single Chunk"), with the
    /// signature it publishes.
    #[test]
    fn signs_as_the_s3_documentation_does() {
        let settings = S3Settings {
            endpoint: "https://examplebucket.s3.amazonaws.com".into(),
            bucket: "examplebucket".into(),
            region: "us-east-1".into(),
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        };
        let now = DateTime::parse_from_rfc3339("2013-05-24T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let signed = sign(
            &settings,
            &Request {
                method: "GET",
                host: "examplebucket.s3.amazonaws.com",
                path: "/",
                query: &[("max-keys", "2"), ("prefix", "J")],
                body: &[],
            },
            now,
        );
        assert_eq!(signed.query, "max-keys=2&prefix=J");
        assert_eq!(
            signed.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, \
             Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    #[test]
    fn query_values_are_escaped_and_sorted() {
        assert_eq!(escape("a/b+c=d e~"), "a%2Fb%2Bc%3Dd%20e~");
    }

    #[test]
    fn a_listing_gives_its_objects_and_where_to_go_on() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>files</Name><IsTruncated>true</IsTruncated>
  <Contents><Key>a/b/c</Key><LastModified>2026-12-07T10:00:00.000Z</LastModified></Contents>
  <Contents><Key>x&amp;y</Key><LastModified>2026-12-07T11:00:00Z</LastModified></Contents>
  <NextContinuationToken>1/2+3=</NextContinuationToken>
</ListBucketResult>"#;
        let listing = parse_listing(xml).unwrap();
        assert_eq!(listing.objects.len(), 2);
        assert_eq!(listing.objects[1].0, "x&y");
        assert_eq!(
            listing.objects[0].1,
            SystemTime::from(DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z").unwrap())
        );
        assert_eq!(listing.next.as_deref(), Some("1/2+3="));
        let last = xml.replace("<IsTruncated>true", "<IsTruncated>false");
        assert_eq!(parse_listing(&last).unwrap().next, None);
    }

    fn settings(endpoint: &str) -> S3Settings {
        S3Settings {
            endpoint: endpoint.into(),
            bucket: "files".into(),
            region: "us-east-1".into(),
            access_key_id: "id".into(),
            secret_access_key: Secret::new("secret"),
        }
    }

    #[test]
    fn an_endpoint_is_a_scheme_a_host_and_a_port() {
        assert!(S3Store::new(settings("http://127.0.0.1:9000")).is_ok());
        assert!(S3Store::new(settings("https://s3.example.com/")).is_ok());
        for endpoint in [
            "https://user:pass@s3.example.com",
            "https://s3.example.com/gateway",
            "https://s3.example.com/?x=1",
            "https://s3.example.com/#top",
        ] {
            let error = S3Store::new(settings(endpoint)).err().unwrap();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{endpoint}");
            assert!(!error.to_string().contains("pass"), "{error}");
        }
    }

    /// An HTTP server on a free port that reads each request and answers it with `answer`.
    fn answering(answer: String) -> String {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut seen = Vec::new();
                let mut buffer = [0u8; 4096];
                // The head, then as many bytes as it says the body has.
                let body_at = loop {
                    let Ok(n @ 1..) = stream.read(&mut buffer) else {
                        break None;
                    };
                    seen.extend_from_slice(&buffer[..n]);
                    if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        break Some(at + 4);
                    }
                };
                let Some(body_at) = body_at else { continue };
                let head = String::from_utf8_lossy(&seen[..body_at]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                let mut rest = seen.len() - body_at;
                while rest < length {
                    let Ok(n @ 1..) = stream.read(&mut buffer) else {
                        break;
                    };
                    rest += n;
                }
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        format!("http://{address}")
    }

    fn answer(status: &str, headers: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[test]
    fn a_redirect_is_not_a_success() {
        let key = FileKey::of(uuid::Uuid::new_v4(), b"receipt");
        // Gateways answer 307 to a PUT (ureq follows none); S3 answers a request sent to the
        // wrong region 301 without a `Location`.
        let moved = answering(answer(
            "307 Temporary Redirect",
            "Location: http://127.0.0.1:1/elsewhere\r\n",
            "",
        ));
        let store = S3Store::new(settings(&moved)).unwrap();
        assert!(store.put(&key, b"receipt").is_err());
        assert!(store.delete(&key).is_err());
        let wrong_region = answering(answer(
            "301 Moved Permanently",
            "",
            "<Error><Code>PermanentRedirect</Code></Error>",
        ));
        let store = S3Store::new(settings(&wrong_region)).unwrap();
        assert!(store.get(&key).is_err());
        assert!(store
            .each_written_before(SystemTime::now(), &mut |_| {})
            .is_err());
    }

    #[test]
    fn a_get_gives_only_the_file_its_key_names() {
        let key = FileKey::of(uuid::Uuid::new_v4(), b"receipt");
        let store = S3Store::new(settings(&answering(answer("200 OK", "", "receipt")))).unwrap();
        assert_eq!(store.get(&key).unwrap(), b"receipt");
        let store = S3Store::new(settings(&answering(answer(
            "200 OK",
            "",
            "<html>login</html>",
        ))))
        .unwrap();
        let error = store.get(&key).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn only_content_addresses_are_keys() {
        let ledger = uuid::Uuid::new_v4();
        let sha = "ab".repeat(32);
        assert!(key_of(&format!("{ledger}/ab/{sha}")).is_some());
        assert!(key_of(&format!("{ledger}/cd/{sha}")).is_none());
        assert!(key_of(&format!("{ledger}/ab/{sha}/more")).is_none());
        assert!(key_of(&format!("notes/ab/{sha}")).is_none());
    }
}
