//! Proves the private-PostgreSQL harness itself: if these fail, store tests
//! run with SLUSHPILE_TEST_BACKEND=postgres would fail for reasons unrelated
//! to the store.

mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::future::join_all;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use support::postgres::{SUPERUSER, shared};
use support::{Backend, Postgres, test_backend, test_store_url};

/// Set in the child process of `shared_server_is_stopped_when_the_test_process_dies`.
const CHILD_VAR: &str = "SLUSHPILE_PG_HARNESS_CHILD";
const GONE_TIMEOUT: Duration = Duration::from_secs(15);

async fn pool(url: &str, max: u32) -> PgPool {
    PgPoolOptions::new()
        .max_connections(max)
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

async fn current_database(pool: &PgPool) -> String {
    sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .expect("SELECT current_database()")
}

#[tokio::test]
async fn private_server_serves_separate_databases_and_stops_on_drop() {
    let pg = Postgres::start().await;
    eprintln!(
        "PostgreSQL ready in {:?} (initdb included)",
        pg.startup_time()
    );
    let port = pg.port();
    let (a, b) = (pg.create_database().await, pg.create_database().await);
    assert_ne!(a, b);
    let prefix = format!("postgres://{SUPERUSER}@127.0.0.1:{port}/");
    assert!(a.starts_with(&prefix), "{a}");
    assert_eq!(a, pg.url_for(a.rsplit('/').next().unwrap()));

    let (pa, pb) = (pool(&a, 2).await, pool(&b, 2).await);
    assert_eq!(current_database(&pa).await, a.rsplit('/').next().unwrap());
    assert_eq!(current_database(&pb).await, b.rsplit('/').next().unwrap());

    sqlx::raw_sql("CREATE TABLE t (id bigint PRIMARY KEY, s text); INSERT INTO t VALUES (1, 'å')")
        .execute(&pa)
        .await
        .expect("create and fill t");
    let s: String = sqlx::query_scalar("SELECT s FROM t WHERE id = 1")
        .fetch_one(&pa)
        .await
        .unwrap();
    assert_eq!(s, "å");
    let in_b: Option<String> = sqlx::query_scalar("SELECT to_regclass('t')::text")
        .fetch_one(&pb)
        .await
        .unwrap();
    assert_eq!(in_b, None, "databases are separate");

    for (setting, want) in [
        ("server_encoding", "UTF8"),
        ("listen_addresses", "127.0.0.1"),
        ("fsync", "off"),
    ] {
        let sql = format!("SHOW {setting}");
        let got: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&pa)
            .await
            .unwrap();
        assert_eq!(got, want, "{setting}");
    }

    // Not `SHOW lc_collate`: PostgreSQL 16 dropped that setting.
    let collate: String = sqlx::query_scalar(
        "SELECT datcollate::text FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(&pa)
    .await
    .unwrap();
    assert_eq!(collate, "C.UTF-8");

    let postmaster = pg.postmaster_pid().expect("running");
    let reaper = pg.reaper_pid() as i32;
    let data = pg.dir().canonicalize().unwrap().join("data");
    let dir = pg.dir().to_path_buf();
    assert!(
        !processes_in(&data).is_empty(),
        "postmaster chdirs to its data dir"
    );
    // Open connections must not keep the server (or its backends) alive.
    let began = Instant::now();
    drop(pg);
    eprintln!("stopped in {:?}", began.elapsed());
    assert!(gone(postmaster) && gone(reaper));
    assert!(!dir.exists(), "temp dir removed");
    assert_eq!(
        processes_in(&data),
        Vec::<i32>::new(),
        "no server process left"
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    pa.close().await;
    pb.close().await;
}

#[tokio::test]
async fn shared_returns_the_same_instance() {
    let (one, two) = (shared().await, shared().await);
    assert!(std::ptr::eq(one, two));
    let url = one.create_database().await;
    assert!(url.contains(&format!(":{}/", two.port())));
}

/// Several tests, each with several databases and pools, against the one
/// shared server at once (libtest runs these in parallel threads).
async fn exercise_shared(tag: &str) {
    let pg = shared().await;
    let started = Instant::now();
    let jobs = (0..6).map(|i| async move {
        let url = pg.create_database().await;
        let pool = pool(&url, 3).await;
        sqlx::raw_sql("CREATE TABLE n (v int)")
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}\n{}", pg.log()));
        // Concurrent statements on several connections of each pool.
        let inserts = (0..9).map(|v| {
            sqlx::query("INSERT INTO n SELECT $1 FROM pg_sleep(0.01)")
                .bind(v)
                .execute(&pool)
        });
        for r in join_all(inserts).await {
            r.unwrap_or_else(|e| panic!("{tag}/{i}: {e}"));
        }
        let sum: i64 = sqlx::query_scalar("SELECT sum(v) FROM n")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(sum, 36);
        pool.close().await;
        url
    });
    let urls = join_all(jobs).await;
    let mut unique = urls.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), urls.len(), "every database is new");
    eprintln!("{tag}: {} databases in {:?}", urls.len(), started.elapsed());
}

#[tokio::test]
async fn shared_serves_parallel_tests_1() {
    exercise_shared("1").await;
}

#[tokio::test]
async fn shared_serves_parallel_tests_2() {
    exercise_shared("2").await;
}

#[tokio::test]
async fn shared_serves_parallel_tests_3() {
    exercise_shared("3").await;
}

#[tokio::test]
async fn shared_serves_parallel_tests_4() {
    exercise_shared("4").await;
}

#[tokio::test]
async fn test_store_url_follows_the_backend_variable() {
    let dir = tempfile::tempdir().unwrap();
    let url = test_store_url(dir.path()).await;
    match test_backend() {
        Backend::Sqlite => {
            assert_eq!(
                url,
                format!("sqlite://{}/slushpile.db", dir.path().display())
            )
        }
        Backend::Postgres => {
            assert!(url.starts_with("postgres://"), "{url}");
            let pool = pool(&url, 1).await;
            current_database(&pool).await;
            assert_ne!(url, test_store_url(dir.path()).await, "fresh each time");
        }
    }
}

/// The shared server is in a static, never dropped: its reaper must stop it
/// and remove its files when the test process dies, even by SIGKILL with
/// connections open.
#[test]
fn shared_server_is_stopped_when_the_test_process_dies() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["shared_server_child", "--exact", "--ignored", "--nocapture"])
        .env(CHILD_VAR, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run this test binary again");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let line = stdout
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("PG "))
        .expect("child reports its server");
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGKILL),
        "{status}"
    );

    let fields: Vec<&str> = line.split(' ').collect();
    let [_, postmaster, reaper, port, data] = fields[..] else {
        panic!("bad report {line:?}");
    };
    let (postmaster, reaper) = (postmaster.parse().unwrap(), reaper.parse().unwrap());
    let data = PathBuf::from(data);
    assert!(
        gone(postmaster),
        "postmaster {postmaster} outlived the test process"
    );
    assert!(gone(reaper), "reaper {reaper} did not finish");
    assert_eq!(
        processes_in(&data),
        Vec::<i32>::new(),
        "no server process left"
    );
    assert!(!data.parent().unwrap().exists(), "temp dir removed");
    assert!(TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_err());
}

#[tokio::test]
#[ignore = "run in a child process by shared_server_is_stopped_when_the_test_process_dies"]
async fn shared_server_child() {
    if std::env::var_os(CHILD_VAR).is_none() {
        return;
    }
    let pg = shared().await;
    let url = pg.create_database().await;
    let pool = pool(&url, 2).await;
    current_database(&pool).await;
    let data = pg.dir().canonicalize().unwrap().join("data");
    assert!(processes_in(&data).len() > 1, "postmaster and a backend");
    println!(
        "PG {} {} {} {}",
        pg.postmaster_pid().unwrap(),
        pg.reaper_pid(),
        pg.port(),
        data.display()
    );
    // No unwinding, no atexit: as when a CI timeout kills the tests.
    // SAFETY: kill(2) on ourselves; it does not return.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
}

/// Whether `pid` exits within GONE_TIMEOUT. Our own subreaped orphans are
/// reaped; a zombie someone else has yet to reap counts as gone.
fn gone(pid: i32) -> bool {
    let deadline = Instant::now() + GONE_TIMEOUT;
    loop {
        // SAFETY: waitpid on one PID, null status allowed; ECHILD if it is
        // not our child.
        if unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) } == pid {
            return true;
        }
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return true,
            // State follows the parenthesised command name.
            Ok(stat) if stat.rsplit(") ").next().is_some_and(|s| s.starts_with('Z')) => {
                return true;
            }
            Ok(_) => {}
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Processes whose working directory is `data`: the postmaster and every
/// backend chdir there.
fn processes_in(data: &Path) -> Vec<i32> {
    let mut pids: Vec<i32> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == data))
        .collect();
    pids.sort();
    pids
}
