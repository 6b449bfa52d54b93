//! Raw bytes written once: pack files beside SQLite (appended, committed,
//! cut back after a crash, compacted after a purge), the bytes in the
//! database on PostgreSQL, and a purge that leaves no trace in any file of
//! the store on either.

use std::path::{Path, PathBuf};
use std::process::Command;

use slushpile::draft::DraftView;
use slushpile::ingest::{Fetched, FetchedBody, Settings, prepare};
use slushpile::store::{DraftFilter, DraftKey, SourceLocation, Store};
use slushpile::workflow::{Actor, Role};

mod support;

const PURGED: &str = "PURGED-MARKER-7f3a91";
const KEPT: &str = "KEPT-MARKER-19c2e4";

/// A submission whose marker is in the subject, the body, an attachment's
/// name and its text, and a header nothing derived repeats.
fn submission(marker: &str, n: u32) -> Vec<u8> {
    format!(
        "From: Writer {n} <writer{n}@example.org>\r\nTo: submissions@example.org\r\n\
         Subject: {marker} 投稿\r\nMessage-ID: <{marker}.{n}@example.org>\r\nX-Raw: raw-{marker}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n正文 {marker} 正文\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8; name=\"{marker}.txt\"\r\n\
         Content-Disposition: attachment; filename=\"{marker}.txt\"\r\n\r\n附件 {marker}\r\n--b--\r\n"
    )
    .into_bytes()
}

async fn ingest(store: &Store, raw: &[u8], uid: u32) -> DraftView {
    let fetched = Fetched {
        location: SourceLocation::Imap {
            uidvalidity: 1,
            uid,
        },
        internal_date: None,
        body: FetchedBody::Full(raw.to_vec()),
    };
    let item = prepare("INBOX", fetched, &Settings::default(), chrono::Utc::now());
    store.commit_batch(&[item], None).await.unwrap();
    let drafts = store.list_drafts(&DraftFilter::default()).await.unwrap();
    drafts.into_iter().max_by_key(|d| d.id).unwrap()
}

fn sha(raw: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(raw))
}

/// Every regular file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if path.is_file() {
            found.push(path);
        }
    }
    found
}

/// The files under `dir` whose bytes contain `marker`.
fn holding(dir: &Path, marker: &str) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|f| {
            let bytes = std::fs::read(f).unwrap_or_default();
            bytes.windows(marker.len()).any(|w| w == marker.as_bytes())
        })
        .collect()
}

/// Where the store's bytes are on disk: the SQLite file's directory, or the
/// PostgreSQL database's own directory after a checkpoint.
async fn store_files(url: &str, dir: &Path) -> PathBuf {
    if url.starts_with("sqlite:") {
        return dir.to_path_buf();
    }
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    sqlx::query("CHECKPOINT").execute(&pool).await.unwrap();
    let oid: sqlx::postgres::types::Oid =
        sqlx::query_scalar("SELECT oid FROM pg_database WHERE datname = current_database()")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    let cluster = support::postgres::shared().await.dir().join("data");
    cluster.join("base").join(oid.0.to_string())
}

#[tokio::test]
async fn a_purged_submission_leaves_no_byte_in_any_file_of_the_store() {
    for backend in ["sqlite", "postgres"] {
        let dir = tempfile::tempdir().unwrap();
        let url = match backend {
            "sqlite" => format!("sqlite://{}/slushpile.db", dir.path().display()),
            _ => support::postgres::shared().await.create_database().await,
        };
        let store = Store::open_migrated(&url, chrono_tz::UTC, "test")
            .await
            .unwrap();
        let purged_raw = submission(PURGED, 1);
        let kept_raw = submission(KEPT, 2);
        let purged = ingest(&store, &purged_raw, 1).await;
        let kept = ingest(&store, &kept_raw, 2).await;

        let where_to_look = store_files(&url, dir.path()).await;
        assert!(
            !holding(&where_to_look, PURGED).is_empty(),
            "{backend}: the marker is on disk before the purge (the search works)"
        );
        let signer = Actor {
            name: "wang".into(),
            role: Role::Signer,
        };
        store
            .purge(&DraftKey::Id(purged.id), &signer, chrono::Utc::now())
            .await
            .unwrap();

        let where_to_look = store_files(&url, dir.path()).await;
        assert_eq!(
            holding(&where_to_look, PURGED),
            Vec::<PathBuf>::new(),
            "{backend}: purged bytes left in the store's files"
        );
        assert!(
            !holding(&where_to_look, KEPT).is_empty(),
            "{backend}: the other submission is still there"
        );
        assert_eq!(store.raw(kept.id).await.unwrap(), Some(kept_raw));
        let report = store.verify(&mut |_, _, _| {}).await.unwrap();
        assert_eq!((report.messages, report.damaged), (1, vec![]), "{backend}");
        store.close().await;
    }
}

fn pack_dir(dir: &Path) -> PathBuf {
    dir.join("slushpile.db-packs")
}

async fn sqlite(dir: &Path) -> (String, Store) {
    let url = format!("sqlite://{}/slushpile.db", dir.display());
    let store = Store::open_migrated(&url, chrono_tz::UTC, "test")
        .await
        .unwrap();
    (url, store)
}

#[tokio::test]
async fn what_a_killed_process_left_in_the_packs_is_gone_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let (url, store) = sqlite(dir.path()).await;
    let first = submission("FIRST", 1);
    let draft = ingest(&store, &first, 1).await;
    store.close().await;
    let pack = pack_dir(dir.path()).join("000001.pack");
    let committed = std::fs::metadata(&pack).unwrap().len();
    assert_eq!(committed, first.len() as u64, "one message, written once");

    // A batch killed after its fdatasync, before its commit.
    let mut bytes = std::fs::read(&pack).unwrap();
    bytes.extend_from_slice(b"UNCOMMITTED-BATCH");
    std::fs::write(&pack, &bytes).unwrap();
    // A compaction killed after its commit, before deleting the old pack.
    std::fs::write(pack_dir(dir.path()).join("000007.pack"), b"REPLACED-PACK").unwrap();
    // A purge killed before its compaction: committed bytes no row uses.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query("INSERT INTO packs (id, length) VALUES (2, 10)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    std::fs::write(pack_dir(dir.path()).join("000002.pack"), b"DEAD-BYTES").unwrap();

    let (_, store) = sqlite(dir.path()).await;
    for marker in ["UNCOMMITTED-BATCH", "REPLACED-PACK", "DEAD-BYTES"] {
        assert_eq!(
            holding(dir.path(), marker),
            Vec::<PathBuf>::new(),
            "{marker}"
        );
    }
    assert_eq!(std::fs::metadata(&pack).unwrap().len(), committed);
    assert_eq!(store.raw(draft.id).await.unwrap(), Some(first));

    // The next batch appends where the committed bytes end.
    let second = submission("SECOND", 2);
    let later = ingest(&store, &second, 2).await;
    assert_eq!(store.raw(later.id).await.unwrap(), Some(second));
    let report = store.verify(&mut |_, _, _| {}).await.unwrap();
    assert_eq!((report.messages, report.damaged), (2, vec![]));
}

#[tokio::test]
async fn raw_messages_an_older_store_kept_in_the_database_move_into_packs() {
    let dir = tempfile::tempdir().unwrap();
    let (url, store) = sqlite(dir.path()).await;
    let raws = [submission("OLD-ONE", 1), submission("OLD-TWO", 2)];
    let mut drafts = Vec::new();
    for (i, raw) in raws.iter().enumerate() {
        drafts.push(ingest(&store, raw, i as u32 + 1).await);
    }
    store.close().await;
    // What migration 0010 leaves of an older store: every row holding its
    // bytes, no pack.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    for raw in &raws {
        sqlx::query(
            "UPDATE raw_messages SET bytes = $2, pack = NULL, pack_offset = NULL WHERE sha256 = $1",
        )
        .bind(sha(raw))
        .bind(raw)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query("DELETE FROM packs")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    std::fs::remove_dir_all(pack_dir(dir.path())).unwrap();
    assert_eq!(
        holding(dir.path(), "raw-OLD-ONE").len(),
        1,
        "in the database"
    );

    let (_, store) = sqlite(dir.path()).await;
    for (draft, raw) in drafts.iter().zip(&raws) {
        assert_eq!(store.raw(draft.id).await.unwrap().as_ref(), Some(raw));
    }
    assert_eq!(
        holding(dir.path(), "raw-OLD-ONE"),
        vec![pack_dir(dir.path()).join("000001.pack")],
        "moved out of the database, its freed pages zeroed"
    );
    store.close().await;
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let in_table: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM raw_messages WHERE pack IS NULL OR length(bytes) > 0",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(in_table, 0);
}

fn slushpile(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_slushpile"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn config(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let store = dir.join(name).join("slushpile.db");
    std::fs::write(
        &path,
        format!("[store]\nurl = 'sqlite://{}'\n", store.display()),
    )
    .unwrap();
    path
}

#[test]
fn backup_restore_and_verify_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let live = config(dir.path(), "live");
    let messages: Vec<PathBuf> = (0..5)
        .map(|i| {
            let path = dir.path().join(format!("{i}.eml"));
            std::fs::write(&path, submission(&format!("BACKUP-{i}"), i)).unwrap();
            path
        })
        .collect();
    let mut ingest = vec!["ingest"];
    ingest.extend(messages.iter().map(|p| p.to_str().unwrap()));
    assert!(slushpile(&live, &ingest).status.success());

    let backup = dir.path().join("backup");
    let made = slushpile(&live, &["backup", backup.to_str().unwrap()]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(String::from_utf8_lossy(&made.stdout).contains("1 pack(s)"));
    let again = slushpile(&live, &["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));

    let verified = slushpile(&live, &["verify"]);
    assert!(verified.status.success());
    assert!(
        String::from_utf8_lossy(&verified.stdout).contains("verified 5 raw messages"),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );

    // One flipped byte in the live pack: verify names the message.
    let pack = dir.path().join("live/slushpile.db-packs/000001.pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    let at = bytes.windows(8).position(|w| w == b"BACKUP-3").unwrap();
    bytes[at] = b'b';
    std::fs::write(&pack, &bytes).unwrap();
    let damaged = slushpile(&live, &["verify"]);
    assert_eq!(damaged.status.code(), Some(1));
    let report = String::from_utf8_lossy(&damaged.stdout);
    let damaged_sha = sha(&submission("BACKUP-3", 3));
    assert!(
        report.contains(&format!("damaged: {damaged_sha}")),
        "{report}"
    );
    assert!(report.contains("1 damaged"), "{report}");

    // The backup is whole: restored elsewhere it verifies and shows the same.
    let restored = config(dir.path(), "restored");
    let back = slushpile(&restored, &["restore", backup.to_str().unwrap()]);
    assert!(
        back.status.success(),
        "{}",
        String::from_utf8_lossy(&back.stderr)
    );
    assert!(String::from_utf8_lossy(&back.stdout).contains("verified 5 raw messages"));
    let raw = slushpile(&restored, &["drafts", "list", "--status", "all", "--json"]);
    assert_eq!(
        String::from_utf8_lossy(&raw.stdout)
            .matches("BACKUP-")
            .count(),
        String::from_utf8_lossy(
            &slushpile(&live, &["drafts", "list", "--status", "all", "--json"]).stdout
        )
        .matches("BACKUP-")
        .count()
    );
    let refused = slushpile(&restored, &["restore", backup.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("exists"));
}
