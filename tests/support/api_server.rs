//! The editors' API and web page served for real on 127.0.0.1:0 over a
//! real store (SQLite or PostgreSQL, see `backend`), as the daemon serves
//! them.

use slushpile::config::Config;
use slushpile::ingest::{Fetched, FetchedBody, Settings, prepare};
use slushpile::store::{Incoming, IngestOutcome, SourceLocation, Store};
use slushpile::workflow::Role;
use tokio::sync::watch;

pub struct ApiServer {
    pub dir: tempfile::TempDir,
    pub store: Store,
    /// e.g. `http://127.0.0.1:41234`
    pub base: String,
    stop: watch::Sender<bool>,
    next_uid: std::sync::atomic::AtomicU32,
}

impl ApiServer {
    /// Serves with `general.claim_lease = lease` (e.g. "2h", "1s").
    pub async fn start(lease: &str) -> ApiServer {
        Self::start_with(lease, "").await
    }

    /// Serves with letters to contributors on: the shipped templates, and
    /// the file transport (nothing is sent: the outbox does not run here).
    pub async fn start_with_letters(lease: &str) -> ApiServer {
        let templates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
        let extra = format!(
            "[smtp]\ntransport = \"file\"\ndirectory = \"outbox\"\n\
             from = \"submissions@example.org\"\nfrom_name = \"《旗幟》編輯部\"\n\
             [ack]\ntemplates = \"{}\"\n",
            templates.display()
        );
        Self::start_with(lease, &extra).await
    }

    /// Serves with `extra_toml` after the `[api]` section's `listen`: keys of
    /// `[api]` first, then any other sections.
    pub async fn start_with(lease: &str, extra_toml: &str) -> ApiServer {
        let dir = tempfile::tempdir().unwrap();
        let url = super::test_store_url(dir.path()).await;
        Self::start_on(dir, &url, lease, extra_toml).await
    }

    /// Serves the store at `url` (kept with `dir`, the server's own files).
    pub async fn start_on(
        dir: tempfile::TempDir,
        url: &str,
        lease: &str,
        extra_toml: &str,
    ) -> ApiServer {
        let store = Store::open_migrated(url, chrono_tz::Asia::Shanghai, "test")
            .await
            .unwrap();
        let toml = format!(
            "[general]\nclaim_lease = \"{lease}\"\n[store]\nurl = \"{url}\"\n\
             [api]\nlisten = \"127.0.0.1:0\"\n{extra_toml}"
        );
        let config = Config::from_toml(&dir.path().join("slushpile.toml"), &toml, []).unwrap();
        let listener = slushpile::api::bind("127.0.0.1:0".parse().unwrap(), "api.listen")
            .await
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = slushpile::api::router(slushpile::api::Api::new(store.clone(), &config));
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(slushpile::api::serve(listener, router, stopped));
        ApiServer {
            dir,
            store,
            base,
            stop,
            next_uid: 1.into(),
        }
    }

    /// Stores `raw` as the ingester would; returns the draft's reference.
    pub async fn ingest(&self, raw: &[u8]) -> String {
        match self.ingest_outcome(raw).await {
            IngestOutcome::Created { reference, .. } => reference,
            other => panic!("expected a new draft, got {other:?}"),
        }
    }

    /// Stores `raw` as the ingester would: a new draft, a follow-up, …
    pub async fn ingest_outcome(&self, raw: &[u8]) -> IngestOutcome {
        self.store
            .commit_batch(&[self.prepared(raw)], None)
            .await
            .unwrap()
            .remove(0)
    }

    /// Stores many messages as the ingester would, a hundred per commit.
    pub async fn ingest_all(&self, raws: &[Vec<u8>]) {
        for chunk in raws.chunks(100) {
            let items: Vec<Incoming> = chunk.iter().map(|raw| self.prepared(raw)).collect();
            self.store.commit_batch(&items, None).await.unwrap();
        }
    }

    /// `raw` as fetched from the next UID and parsed.
    fn prepared(&self, raw: &[u8]) -> Incoming {
        let uid = self
            .next_uid
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let fetched = Fetched {
            location: SourceLocation::Imap {
                uidvalidity: 1,
                uid,
            },
            internal_date: None,
            body: FetchedBody::Full(raw.to_vec()),
        };
        prepare(
            "submissions",
            fetched,
            &Settings::default(),
            chrono::Utc::now(),
        )
    }

    pub async fn add_editor(&self, name: &str, role: Role) -> String {
        self.store
            .add_editor(name, role, chrono::Utc::now())
            .await
            .unwrap()
    }

    /// Posts the login form as a browser does: with the form's own CSRF
    /// cookie and field from `GET /login` first.
    pub async fn post_login(&self, http: &reqwest::Client, token: &str) -> reqwest::Response {
        let form = http.get(self.url("/login")).send().await.unwrap();
        let cookie = form.headers()["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_string();
        let page = form.text().await.unwrap();
        let field = page
            .split("name=\"login_csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the login form's CSRF field")
            .to_string();
        http.post(self.url("/login"))
            .header("cookie", cookie)
            .form(&[("token", token), ("login_csrf", &field)])
            .send()
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A plain-text submission with an optional attachment whose name travels
/// as RFC 2231 (`filename*=UTF-8''…`).
pub fn submission(
    n: usize,
    subject: &str,
    body: &str,
    attachment: Option<(&str, &[u8])>,
) -> Vec<u8> {
    let mut text = format!(
        "From: Writer {n} <writer{n}@example.org>\r\nTo: submissions@example.org\r\n\
         Subject: =?UTF-8?B?{}?=\r\nDate: Sat, 28 Nov 2026 09:{:02}:00 +0800\r\n\
         Message-ID: <api-{n}@mail.example.org>\r\nMIME-Version: 1.0\r\n",
        b64(subject.as_bytes()),
        n % 60
    );
    match attachment {
        None => text.push_str(&format!(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            b64(body.as_bytes())
        )),
        Some((name, bytes)) => {
            let encoded: String = name
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b == b'.' {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            text.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"b{n}\"\r\n\r\n--b{n}\r\n\
                 Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n\
                 --b{n}\r\nContent-Type: application/octet-stream\r\n\
                 Content-Disposition: attachment; filename*=UTF-8''{encoded}\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b{n}--\r\n",
                b64(body.as_bytes()),
                b64(bytes)
            ));
        }
    }
    text.into_bytes()
}

pub fn b64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for group in data.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            out.push(if k <= group.len() {
                ALPHABET[(n >> (18 - 6 * k)) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    out
}
