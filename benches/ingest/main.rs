//! Ingest benchmark: the raw IMAPS limit, mbsync and slushpile against the
//! same private Dovecot mailbox contents, plus IDLE arrival-to-draft
//! latency. Run with `scripts/bench [--messages N] [--runs R]`; writes
//! bench/results.md.

#[path = "../../tests/support/mod.rs"]
mod support;

mod corpus;
mod floor;
mod latency;
mod raw;
mod report;
mod tools;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use corpus::Corpus;

const SLUSHPILE: &str = env!("CARGO_BIN_EXE_slushpile");

struct Args {
    messages: usize,
    runs: usize,
    latency: usize,
    out: PathBuf,
    command: String,
    /// An earlier slushpile binary, run alternately with this one.
    baseline: Option<PathBuf>,
    /// `KEY=VALUE` set for the baseline run only, e.g.
    /// `SLUSHPILE_EXTRACT__ENABLED=false` to compare this build with a
    /// setting off (the baseline binary is then this one unless given).
    baseline_env: Vec<(String, String)>,
}

fn parse_args() -> Args {
    let mut args = Args {
        messages: 10_000,
        runs: 3,
        latency: 200,
        out: Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/results.md"),
        command: String::from("scripts/bench"),
        baseline: None,
        baseline_env: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    let number = |v: Option<String>, name: &str| -> usize {
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} needs a number"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--messages" => {
                args.messages = number(it.next(), "--messages");
                let _ = write!(args.command, " --messages {}", args.messages);
            }
            "--runs" => {
                args.runs = number(it.next(), "--runs").max(1);
                let _ = write!(args.command, " --runs {}", args.runs);
            }
            "--latency" => {
                args.latency = number(it.next(), "--latency");
                let _ = write!(args.command, " --latency {}", args.latency);
            }
            "--out" => args.out = it.next().expect("--out needs a path").into(),
            "--baseline" => {
                let path: PathBuf = it.next().expect("--baseline needs a binary").into();
                let _ = write!(args.command, " --baseline {}", path.display());
                args.baseline = Some(path);
            }
            "--baseline-env" => {
                let pair = it.next().expect("--baseline-env needs KEY=VALUE");
                let (key, value) = pair
                    .split_once('=')
                    .expect("--baseline-env needs KEY=VALUE");
                let _ = write!(args.command, " --baseline-env {pair}");
                args.baseline_env.push((key.to_string(), value.to_string()));
                args.baseline
                    .get_or_insert_with(|| PathBuf::from(SLUSHPILE));
            }
            // cargo bench passes --bench to harness = false targets.
            "--bench" => {}
            other => panic!(
                "unknown argument {other:?}; usage: ingest [--messages N] [--runs R] [--latency N] [--out FILE] [--baseline BIN] [--baseline-env KEY=VALUE]"
            ),
        }
    }
    args
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--raw-client") {
        let [port, ca, user, password] = [2, 3, 4, 5].map(|i| argv[i].clone());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (messages, bytes) = rt.block_on(raw::fetch_all(
            port.parse().unwrap(),
            Path::new(&ca),
            &user,
            &password,
        ));
        println!("{messages} {bytes}");
        return;
    }
    // `ingest --dump FIRST COUNT DIR`: the corpus messages as .eml files, to
    // look at or feed to `slushpile ingest`.
    if argv.get(1).map(String::as_str) == Some("--dump") {
        let [first, count] = [2, 3].map(|i| argv[i].parse::<usize>().expect("a number"));
        let dir = Path::new(&argv[4]);
        fs::create_dir_all(dir).unwrap();
        for i in first..first + count {
            let (kind, raw) = corpus::message(i);
            fs::write(dir.join(format!("{i:06}-{kind:?}.eml")), raw).unwrap();
        }
        return;
    }
    // `ingest --floor DIR`: the CPU floor (floor.rs) of the .eml files in
    // DIR, to compare parser changes without a whole benchmark run.
    if argv.get(1).map(String::as_str) == Some("--floor") {
        let mut files: Vec<PathBuf> = fs::read_dir(&argv[2])
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let f = floor::measure(&files);
        println!(
            "{} messages: hash {:.3} s, parse {:.3} s (mail-parser {:.3} s), write {:.3} s",
            files.len(),
            f.hash,
            f.parse,
            f.mail_parser,
            f.write
        );
        return;
    }
    // `cargo bench` passes --bench; `cargo test --all-targets` runs bench
    // targets too, without it, and must not start a ten-minute benchmark.
    if !argv.iter().any(|a| a == "--bench") {
        println!("benchmark skipped: run it with scripts/bench");
        return;
    }
    let args = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench(args));
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Raw,
    Mbsync,
    /// `--baseline`: an earlier slushpile binary, for before/after pairs.
    Baseline,
    Slushpile,
}

impl Tool {
    const ALL: [Tool; 3] = [Tool::Raw, Tool::Mbsync, Tool::Slushpile];

    fn label(self) -> &'static str {
        match self {
            Tool::Raw => "raw limit (one pipelined UID FETCH 1:*)",
            Tool::Mbsync => "mbsync (isync, default fsync)",
            Tool::Baseline => "slushpile baseline (--baseline)",
            Tool::Slushpile => "slushpile run --once (SQLite, move)",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: f64,
    rss_kb: i64,
    /// The tool's own CPU seconds (user + system, its children included).
    cpu: f64,
    /// Dovecot's CPU seconds during the run: on a loopback benchmark the
    /// server shares the machine's cores with the tool.
    server_cpu: f64,
    /// slushpile only: SQLite file + WAL after the run.
    store_bytes: u64,
}

async fn bench(args: Args) {
    let started = chrono::Utc::now();
    let machine = machine();
    eprintln!("{machine}");
    let owner = support::user::running_as_root().then(|| {
        let o = support::user::mail_owner();
        (o.uid, o.gid)
    });
    let t = Instant::now();
    let corpus = tokio::task::block_in_place(|| Corpus::write(args.messages, owner));
    eprintln!(
        "corpus: {} messages, {:.1} MB in {:.1}s at {}",
        args.messages,
        mb(corpus.bytes),
        t.elapsed().as_secs_f64(),
        corpus.path().display()
    );

    let mut samples: HashMap<&str, Vec<Sample>> = HashMap::new();
    let mut floors = Vec::new();
    for round in 1..=args.runs {
        // The baseline runs right before this build in every round, so a
        // drift in the machine's speed hits both alike.
        let tools: &[Tool] = if args.baseline.is_some() {
            &[Tool::Raw, Tool::Mbsync, Tool::Baseline, Tool::Slushpile]
        } else {
            &Tool::ALL
        };
        for &tool in tools {
            let sample = tools::run_tool(tool, &corpus, &args).await;
            eprintln!(
                "run {round}/{}: {:<40} {:>8.2}s {:>8.0} msg/s {:>7.1} MB/s {:>7.1} MB RSS",
                args.runs,
                tool.label(),
                sample.wall,
                args.messages as f64 / sample.wall,
                mb(corpus.bytes) / sample.wall,
                sample.rss_kb as f64 / 1024.0
            );
            samples.entry(tool.label()).or_default().push(sample);
        }
        floors.push(tokio::task::block_in_place(|| {
            tools::settle_writeback();
            floor::measure(&corpus.files)
        }));
        let f = floors.last().unwrap();
        eprintln!(
            "run {round}/{}: floor: hash {:.2} s, parse {:.2} s (mail-parser {:.2} s), write {:.2} s",
            args.runs, f.hash, f.parse, f.mail_parser, f.write
        );
    }
    let floor = floor::Floor::median(&floors);
    let latency = if args.latency > 0 {
        Some(latency::latency(args.latency).await)
    } else {
        None
    };
    let report = report::report(
        &args,
        &machine,
        started,
        &corpus,
        &samples,
        &floor,
        latency.as_ref(),
    );
    println!("{report}");
    if let Some(dir) = args.out.parent() {
        fs::create_dir_all(dir).unwrap();
    }
    fs::write(&args.out, &report).unwrap();
    eprintln!("wrote {}", args.out.display());
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn shell(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
            s.push_str(&String::from_utf8_lossy(&o.stderr));
            s.lines().next().unwrap_or("").trim().to_string()
        })
        .unwrap_or_default()
}

fn machine() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_string();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let os = fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .unwrap_or("?")
        .trim_matches('"')
        .to_string();
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    // findmnt names ext4 as such; `stat -f` reports every ext as "ext2/ext3".
    let tmp = std::env::temp_dir().to_string_lossy().into_owned();
    let fs_type = Some(shell("findmnt", &["-n", "-o", "FSTYPE", "-T", &tmp]))
        .filter(|t| !t.is_empty() && !t.contains(' '))
        .unwrap_or_else(|| shell("stat", &["-f", "-c", "%T", &tmp]));
    format!(
        "- CPU: {cpu}, {cores} cores available\n\
         - Memory: {:.1} GiB\n\
         - OS: {os}, kernel {}\n\
         - Scratch (mailboxes, Maildir, SQLite): {} ({fs_type})\n\
         - Load average at start: {} (other jobs may share the machine)\n\
         - Dovecot {}, {}, {}\n\
         - slushpile commit {}",
        mem_kb as f64 / 1024.0 / 1024.0,
        shell("uname", &["-r"]),
        std::env::temp_dir().display(),
        load.join(" "),
        shell("/usr/sbin/dovecot", &["--version"]),
        shell("mbsync", &["--version"]),
        shell("rustc", &["--version"]),
        shell(
            "git",
            &[
                "-C",
                env!("CARGO_MANIFEST_DIR"),
                "describe",
                "--always",
                "--dirty"
            ]
        ),
    )
}
