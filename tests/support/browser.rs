//! Headless Chromium driven over WebDriver (fantoccini and a private
//! chromedriver), for end-to-end tests of the editors' web page.
//!
//! Each [`Browser`] runs its own chromedriver on a free loopback port, with a
//! fresh profile, `$HOME` and empty download directory in one temp dir.
//! Dropping it kills chromedriver and every Chromium process it started and
//! removes the temp dir; if the test process dies without unwinding
//! (SIGKILL, Ctrl-C), a small reaper process does the same.
//!
//! ```ignore
//! let browser = Browser::start().await;
//! browser.client.goto(&url).await.unwrap();
//! browser.client.find(Locator::Id("export")).await.unwrap().click().await.unwrap();
//! let file = browser.wait_for_download(Duration::from_secs(10)).await;
//! browser.close().await;
//! ```

use std::collections::HashSet;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::free_port;

use fantoccini::elements::Element;
use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::sleep;

use super::dovecot::{become_subreaper, reap_group, signal};
use super::process::Guarded;

/// Debian's chromium-driver; scripts/test installs it.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's chromium launcher; scripts/test installs it.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long chromedriver may take to answer `GET /status`.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(20);
/// WebDriver's page-load and script timeouts. chromedriver's default page
/// load timeout is 300 s, which turns a stuck page into a five-minute hang.
const WEBDRIVER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the downloads dir must stay unchanged, with no `.crdownload`
/// in it, before a file there counts as a finished download.
pub const DOWNLOAD_QUIET: Duration = Duration::from_millis(300);

/// A headless Chromium session with its own chromedriver, profile and
/// download directory.
pub struct Browser {
    /// The WebDriver session: use it directly (`goto`, `find`, `form`, ...).
    pub client: Client,
    /// Where downloads land, without a prompt. Starts empty.
    pub downloads: PathBuf,
    /// chromedriver's base URL, `http://127.0.0.1:PORT`.
    pub webdriver_url: String,
    /// Downloads already returned by [`Browser::wait_for_download`].
    seen: Mutex<HashSet<PathBuf>>,
    /// Dropped before `dir`: nothing may write into it while it goes.
    processes: Processes,
    /// The profile, `$HOME`, the downloads and chromedriver's logs.
    dir: TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session. Panics with
    /// chromedriver's log if either does not come up.
    pub async fn start() -> Browser {
        for binary in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: scripts/test installs the Debian packages \
                 chromium and chromium-driver"
            );
        }
        // Chromium's processes are reparented to us when their parents die,
        // so they can be reaped (see `Processes::drop`).
        become_subreaper();
        let dir = tempfile::Builder::new()
            .prefix("slushbrowser")
            .tempdir()
            .expect("create browser temp dir");
        let profile = dir.path().join("profile");
        let downloads = dir.path().join("downloads");
        fs::create_dir(&profile).expect("create profile dir");
        fs::create_dir(&downloads).expect("create downloads dir");

        // The free port can be taken between our probe and chromedriver's
        // bind: then chromedriver exits, and we try another port.
        let mut attempt = 0;
        let (mut processes, port) = loop {
            attempt += 1;
            let port = free_port();
            let mut processes = Processes::spawn(dir.path(), port);
            match processes.wait_ready(port).await {
                Ok(()) => break (processes, port),
                Err(why) if attempt < 3 => {
                    eprintln!("chromedriver on port {port}: {why}; trying another port");
                }
                Err(why) => panic!(
                    "chromedriver did not start: {why}\n{}",
                    driver_log(dir.path())
                ),
            }
        };
        let webdriver_url = format!("http://127.0.0.1:{port}");

        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities(&profile, &downloads))
            .connect(&webdriver_url)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start a Chromium session through chromedriver: {e}\n{}",
                    driver_log(dir.path())
                )
            });
        // Fail here, with the log, rather than in the test's first step if
        // the browser does not answer.
        if let Err(e) = client.current_url().await {
            panic!(
                "the new Chromium session does not answer: {e}\n{}",
                driver_log(dir.path())
            );
        }
        processes.note_crashpad();

        // Nothing more is needed for downloads: with the download prefs in
        // the capabilities, headless Chromium saves into `downloads` without
        // a prompt, without CDP's Browser.setDownloadBehavior.
        Browser {
            client,
            downloads,
            webdriver_url,
            seen: Mutex::new(HashSet::new()),
            processes,
            dir,
        }
    }

    /// Runs a Chrome DevTools Protocol command on the current page through
    /// chromedriver and returns its result. Panics if it fails.
    pub async fn cdp(&self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.client
            .issue_cmd(SendCdp {
                cmd: method.to_owned(),
                params: params.clone(),
            })
            .await
            .unwrap_or_else(|e| panic!("CDP {method} {params}: {e}"))
    }

    /// Waits for a download to finish and returns its path: a file in
    /// [`Browser::downloads`] not returned by an earlier call. Panics with
    /// the directory listing after `timeout`.
    ///
    /// Chromium writes into a hidden `.org.chromium.Chromium.XXXXXX`, moves
    /// that to `NAME.crdownload`, at times next to an empty placeholder
    /// `NAME`, and finally renames it to `NAME`. So a file counts as
    /// finished only while no hidden or `.crdownload` file is left and the
    /// directory has not changed for [`DOWNLOAD_QUIET`].
    pub async fn wait_for_download(&self, timeout: Duration) -> PathBuf {
        let deadline = Instant::now() + timeout;
        let mut stable_since: Option<(Vec<Entry>, Instant)> = None;
        loop {
            let entries = snapshot(&self.downloads);
            // In flight: Chromium's hidden temp file or a .crdownload.
            let busy = entries
                .iter()
                .any(|e| e.name.starts_with('.') || e.name.ends_with(".crdownload"));
            let candidate = {
                let seen = self.seen.lock().unwrap();
                entries
                    .iter()
                    .find(|e| e.is_file && !e.name.starts_with('.') && !seen.contains(&e.path))
                    .map(|e| e.path.clone())
            };
            match &stable_since {
                Some((before, since)) if *before == entries => {
                    if let Some(path) = candidate
                        && !busy
                        && since.elapsed() >= DOWNLOAD_QUIET
                    {
                        self.seen.lock().unwrap().insert(path.clone());
                        return path;
                    }
                }
                _ => stable_since = Some((entries.clone(), Instant::now())),
            }
            if Instant::now() > deadline {
                let names: Vec<(&str, u64)> =
                    entries.iter().map(|e| (e.name.as_str(), e.len)).collect();
                panic!(
                    "no finished download in {} after {timeout:?}; it holds {names:?}",
                    self.downloads.display()
                );
            }
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// Finds an element, retrying until `timeout` while it is missing or
    /// the page is being replaced: right after a click that submits a form
    /// or follows a link, a plain `find` can fail with "aborted by
    /// navigation" or find the old page's element. Panics with the last
    /// error after `timeout`, or at once on an error that waiting cannot
    /// fix (an invalid selector, a lost session).
    pub async fn wait_for_element(&self, locator: Locator<'_>, timeout: Duration) -> Element {
        let deadline = Instant::now() + timeout;
        loop {
            let error = match self.client.find(locator).await {
                Ok(element) => return element,
                Err(e) => e,
            };
            let transient = match &error {
                CmdError::Standard(w) => {
                    matches!(
                        w.error,
                        ErrorStatus::NoSuchElement | ErrorStatus::StaleElementReference
                    ) || w.message.contains("navigation")
                }
                // chromedriver answers "aborted by navigation" this way.
                CmdError::NotW3C(_) => true,
                _ => false,
            };
            if !transient || Instant::now() > deadline {
                panic!("cannot find {locator:?} within {timeout:?}: {error}");
            }
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// chromedriver's log so far, for failure messages.
    pub fn driver_log(&self) -> String {
        driver_log(self.dir.path())
    }

    /// Ends the WebDriver session (Chromium quits), then drops the browser,
    /// which kills whatever is left.
    pub async fn close(mut self) {
        // While the crash handlers still run: once they exit their command
        // lines are gone.
        self.processes.note_crashpad();
        self.client
            .clone()
            .close()
            .await
            .unwrap_or_else(|e| panic!("end the WebDriver session: {e}\n{}", self.driver_log()));
    }
}

/// chromedriver and everything it starts, plus the reaper for when this
/// process dies without dropping them.
struct Processes {
    /// Leader of a process group that Chromium and its helpers inherit.
    driver: Guarded,
    reaper: Guarded,
    /// Chromium's crashpad handlers. They daemonize into their own sessions,
    /// out of the group, and exit by themselves once Chromium is gone; as
    /// our children (we are a subreaper) they must still be reaped.
    crashpad: HashSet<i32>,
    /// The temp dir, which the crashpad handlers' command lines name.
    dir: PathBuf,
}

impl Processes {
    fn spawn(dir: &Path, port: u16) -> Processes {
        let log =
            fs::File::create(dir.join("chromedriver.stderr")).expect("create chromedriver log");
        let driver = Command::new(CHROMEDRIVER)
            // Without --allowed-ips chromedriver listens on 127.0.0.1 and
            // ::1 only and accepts only local clients.
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.join("chromedriver.log").display()
            ))
            // Chromium keeps crash reports, NSS databases and caches under
            // $HOME and the XDG dirs: keep them in the temp dir too.
            .env("HOME", dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup chromedriver log"))
            .stderr(log)
            .current_dir(dir)
            // Own process group: Chromium inherits it, so one signal ends
            // (nearly) all.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {CHROMEDRIVER}: {e} (scripts/test installs chromium-driver)")
            });
        let driver = Guarded(driver);
        let reaper = spawn_reaper(driver.id(), dir);
        Processes {
            driver,
            reaper,
            crashpad: HashSet::new(),
            dir: dir.to_owned(),
        }
    }

    /// Waits until chromedriver answers `GET /status` with `"ready": true`.
    async fn wait_ready(&mut self, port: u16) -> Result<(), String> {
        let deadline = Instant::now() + DRIVER_READY_TIMEOUT;
        loop {
            if let Some(status) = self.driver.try_wait().expect("poll chromedriver") {
                return Err(format!("chromedriver exited ({status})"));
            }
            if let Ok(Some(true)) = tokio::time::timeout(Duration::from_secs(2), ready(port)).await
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no ready answer on port {port} within {DRIVER_READY_TIMEOUT:?}"
                ));
            }
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// Records the crashpad handlers: our children named chrome_crashpad
    /// whose command line names our temp dir (their database is under
    /// `$HOME`); chromedriver and the reaper name it too, hence the name
    /// check. A recorded child stays ours until reaped, so its PID cannot be
    /// reused meanwhile.
    fn note_crashpad(&mut self) {
        let me = std::process::id();
        let needle = self.dir.as_os_str().as_bytes();
        let Ok(entries) = fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<i32>().ok())
            else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // "PID (COMM) STATE PPID ...": COMM may hold spaces and parens.
            let Some((head, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let comm = head.split_once('(').map_or("", |(_, comm)| comm);
            let ppid = rest
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok());
            if ppid != Some(me) || !comm.starts_with("chrome_crashpad") {
                continue;
            }
            let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
            if cmdline.windows(needle.len()).any(|w| w == needle) {
                self.crashpad.insert(pid);
            }
        }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        // First the reaper (and anything it runs), so it cannot act on a
        // process group we reap.
        let reaper = self.reaper.id() as i32;
        signal(-reaper, libc::SIGKILL);
        let _ = self.reaper.wait();
        reap_group(reaper);
        // Before the group goes: once the handlers exit, their command lines
        // are gone.
        self.note_crashpad();
        let pgid = self.driver.id() as i32;
        signal(-pgid, libc::SIGKILL);
        // Through Child, so std knows chromedriver is reaped and `Guarded`
        // never signals its PID again.
        let _ = self.driver.wait();
        // Chromium and helpers, reparented to us as chromedriver died.
        reap_group(pgid);
        for &pid in &self.crashpad {
            signal(pid, libc::SIGKILL);
            // SAFETY: waitpid on one PID of our own child, null status.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
        }
    }
}

/// Kills chromedriver's process group and removes `dir` once this process
/// is gone, however it goes: a `sh` whose stdin is a pipe only we hold (as
/// in tests/support/postgres.rs). `Processes::drop` kills it first on the
/// normal path. Own process group, so Ctrl-C does not take it down too.
fn spawn_reaper(pgid: u32, dir: &Path) -> Guarded {
    const SCRIPT: &str = r#"
# The shell's own read: no child process to leave behind when killed.
while read -r _; do :; done
kill -s KILL -- "-$1" 2>/dev/null
sleep 0.2
rm -rf -- "$2"
"#;
    let child = Command::new("/bin/sh")
        .args(["-c", SCRIPT, "slushpile-browser-reaper"])
        .arg(pgid.to_string())
        .arg(dir)
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn browser reaper");
    Guarded(child)
}

/// Whether chromedriver on `port` says it is ready. It speaks HTTP/1.1 only
/// and may keep the connection open, so read only until the answer shows.
async fn ready(port: u16) -> Option<bool> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    tcp.write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut response = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        let n = tcp.read(&mut chunk).await.ok()?;
        response.extend_from_slice(&chunk[..n]);
        let text: String = String::from_utf8_lossy(&response)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if text.contains("\"ready\":true") {
            return Some(true);
        }
        if n == 0 || text.contains("\"ready\":false") {
            return Some(false);
        }
    }
}

fn capabilities(profile: &Path, downloads: &Path) -> Capabilities {
    // Not --disable-crashpad-for-testing: with it the first page never
    // finishes loading for chromedriver, and every command times out.
    let args = [
        "--headless".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-quic".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let timeout = WEBDRIVER_TIMEOUT.as_millis() as u64;
    let caps = json!({
        "browserName": "chrome",
        "timeouts": { "pageLoad": timeout, "script": timeout, "implicit": 0 },
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": args,
            "prefs": {
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
            },
        },
    });
    match caps {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    }
}

/// chromedriver's `POST /session/{id}/chromium/send_command_and_get_result`:
/// a CDP command run against the session's current page.
#[derive(Debug)]
struct SendCdp {
    cmd: String,
    params: serde_json::Value,
}

impl WebDriverCompatibleCommand for SendCdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a WebDriver session");
        base_url.join(&format!(
            "session/{session}/chromium/send_command_and_get_result"
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// One file in the downloads dir, as [`Browser::wait_for_download`] polls it.
#[derive(Clone, PartialEq)]
struct Entry {
    name: String,
    path: PathBuf,
    is_file: bool,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

fn snapshot(dir: &Path) -> Vec<Entry> {
    let mut entries: Vec<Entry> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let meta = e.metadata().ok();
                    Entry {
                        name: e.file_name().to_string_lossy().into_owned(),
                        path: e.path(),
                        is_file: meta.as_ref().is_some_and(|m| m.is_file()),
                        len: meta.as_ref().map_or(0, |m| m.len()),
                        modified: meta.and_then(|m| m.modified().ok()),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    entries
}

/// The tails of chromedriver's stderr and log: a failure is at the end.
fn driver_log(dir: &Path) -> String {
    let mut out = String::new();
    for name in ["chromedriver.stderr", "chromedriver.log"] {
        let text = fs::read_to_string(dir.join(name)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(80)..];
        out.push_str(&format!("--- {name} (last {} lines)\n", tail.len()));
        for line in tail {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
