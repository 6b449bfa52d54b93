//! bench/results.md from the measured samples.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::corpus::{Corpus, Kind};
use super::floor::Floor;
use super::latency::Latency;
use super::{Args, Sample, Tool, mb, median, percentile};

#[derive(Clone, Copy)]
struct Row {
    wall: f64,
    rate: f64,
    mbps: f64,
    rss_mb: f64,
    cpu: f64,
    server_cpu: f64,
}

pub fn report(
    args: &Args,
    machine: &str,
    started: chrono::DateTime<chrono::Utc>,
    corpus: &Corpus,
    samples: &HashMap<&str, Vec<Sample>>,
    floor: &Floor,
    latency: Option<&Latency>,
) -> String {
    let n = args.messages as f64;
    let total_mb = mb(corpus.bytes);
    let row = |tool: Tool| {
        let s = &samples[tool.label()];
        Row {
            wall: median(s.iter().map(|s| s.wall).collect()),
            rate: median(s.iter().map(|s| n / s.wall).collect()),
            mbps: median(s.iter().map(|s| total_mb / s.wall).collect()),
            rss_mb: median(s.iter().map(|s| s.rss_kb as f64 / 1024.0).collect()),
            cpu: median(s.iter().map(|s| s.cpu).collect()),
            server_cpu: median(s.iter().map(|s| s.server_cpu).collect()),
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let (raw, mbsync, slush) = (row(Tool::Raw), row(Tool::Mbsync), row(Tool::Slushpile));
    let vs_raw = slush.rate / raw.rate;
    let vs_mbsync = slush.rate / mbsync.rate;

    let mut r = String::new();
    let _ = writeln!(r, "# slushpile ingest benchmark\n");
    let _ = writeln!(
        r,
        "Last measured {} with `{}` (medians of {} runs; each run starts from a fresh \
         Dovecot holding the same corpus, already indexed, and a fresh store or Maildir).\n",
        started.format("%Y-%m-%d %H:%M UTC"),
        args.command,
        args.runs
    );
    let _ = writeln!(r, "## Machine\n\n{machine}\n");
    let _ = writeln!(
        r,
        "## Corpus\n\n{} messages, {:.1} MB (MB = 10^6 bytes), deterministic \
         (benches/ingest/corpus.rs), CRLF, served by Dovecot over IMAPS on 127.0.0.1.\n",
        args.messages, total_mb
    );
    let _ = writeln!(r, "| kind | messages | MB |\n| --- | ---: | ---: |");
    for (k, kind) in Kind::ALL.iter().enumerate() {
        let _ = writeln!(
            r,
            "| {} | {} | {:.1} |",
            kind.describe(),
            corpus.counts[k],
            mb(corpus.kind_bytes[k])
        );
    }
    let _ = writeln!(r, "\n## Bulk ingest (medians)\n");
    let _ = writeln!(
        r,
        "| tool | wall s | messages/s | MB/s | peak RSS MB | tool CPU s | CPU ÷ raw | Dovecot CPU s | wall floor s |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let baseline = args
        .baseline
        .as_ref()
        .map(|_| (Tool::Baseline, row(Tool::Baseline)));
    let rows = [(Tool::Raw, raw), (Tool::Mbsync, mbsync)]
        .into_iter()
        .chain(baseline)
        .chain([(Tool::Slushpile, slush)]);
    for (tool, row) in rows {
        let _ = writeln!(
            r,
            "| {} | {:.2} | {:.0} | {:.1} | {:.1} | {:.2} | {:.2}× | {:.2} | {:.2} |",
            tool.label(),
            row.wall,
            row.rate,
            row.mbps,
            row.rss_mb,
            row.cpu,
            row.cpu / raw.cpu,
            row.server_cpu,
            (row.cpu + row.server_cpu) / cores
        );
    }
    let _ = writeln!(
        r,
        "\nRatios (messages/s): slushpile/raw = **{vs_raw:.2}**, slushpile/mbsync = **{vs_mbsync:.2}**.\n"
    );
    let store = median(
        samples[Tool::Slushpile.label()]
            .iter()
            .map(|s| mb(s.store_bytes))
            .collect(),
    );
    let _ = writeln!(
        r,
        "Wall time is from spawning the process to its exit (connect, login, and for \
         slushpile opening and migrating the store included); peak RSS is the child's \
         `ru_maxrss` from `wait4`. The slushpile store after a run: {store:.1} MB (SQLite, WAL and packs).\n"
    );
    let _ = writeln!(
        r,
        "Tool CPU is the child's user + system time (`wait4`); Dovecot CPU is what every \
         Dovecot process (its TLS proxy `imap-login` and the `imap` sessions) used during \
         the run. Server and tool share this machine's {cores} cores, so no run can take \
         less than the wall floor, (tool + Dovecot CPU) / {cores} seconds. The raw limit keeps \
         Dovecot {:.1} cores busy on its own; whatever CPU a tool spends on top of \
         serving comes out of the same cores.\n",
        raw.server_cpu / raw.wall
    );
    floor_section(&mut r, floor, raw.cpu, slush.cpu);
    let _ = writeln!(r, "Per run (wall s / peak RSS MB):\n");
    let _ = writeln!(
        r,
        "| tool | {} |",
        (1..=args.runs)
            .map(|i| format!("run {i}"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(r, "| --- |{}", " ---: |".repeat(args.runs));
    for tool in Tool::ALL
        .into_iter()
        .chain(args.baseline.as_ref().map(|_| Tool::Baseline))
    {
        let cells: Vec<String> = samples[tool.label()]
            .iter()
            .map(|s| format!("{:.2} / {:.1}", s.wall, s.rss_kb as f64 / 1024.0))
            .collect();
        let _ = writeln!(r, "| {} | {} |", tool.label(), cells.join(" | "));
    }

    let least = raw.cpu + floor.total();
    let mut targets = vec![
        (
            "ingest ≥ 1.5× mbsync (messages/s)".to_string(),
            format!("{vs_mbsync:.2}×"),
            vs_mbsync >= 1.5,
        ),
        (
            "slushpile CPU ≤ 1.5× the floor's sum".to_string(),
            format!("{:.2}×", slush.cpu / least),
            slush.cpu <= 1.5 * least,
        ),
        (
            format!("peak RSS ≤ 64 MB ({} messages)", args.messages),
            format!("{:.1} MB", slush.rss_mb),
            slush.rss_mb <= 64.0,
        ),
    ];
    if args.baseline.is_some() {
        let base = row(Tool::Baseline);
        let against = if args.baseline_env.is_empty() {
            "the baseline".to_string()
        } else {
            let settings: Vec<String> = args
                .baseline_env
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("itself with {}", settings.join(" "))
        };
        targets.push((
            format!("this build ≥ 0.90× {against} (messages/s)"),
            format!("{:.2}×", slush.rate / base.rate),
            slush.rate >= 0.9 * base.rate,
        ));
    }
    if let Some(l) = latency {
        let (p50, p95, p99) = (
            percentile(&l.seconds, 50.0),
            percentile(&l.seconds, 95.0),
            percentile(&l.seconds, 99.0),
        );
        let mean = l.seconds.iter().sum::<f64>() / l.seconds.len() as f64;
        let _ = writeln!(r, "\n## Arrival-to-draft latency (IDLE)\n");
        let _ = writeln!(
            r,
            "`slushpile run` idling on an empty INBOX; {} messages from the same mix \
             delivered one at a time (write in tmp/, fsync, rename into new/) 50–400 ms \
             apart (seeded). Latency runs from the rename to the first 5 ms poll of the \
             store that sees the committed draft.\n",
            l.seconds.len()
        );
        let _ = writeln!(
            r,
            "| p50 s | p95 s | p99 s | max s | mean s | daemon peak RSS MB |\n| ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        let _ = writeln!(
            r,
            "| {p50:.3} | {p95:.3} | {p99:.3} | {:.3} | {mean:.3} | {:.1} |",
            l.seconds.last().unwrap(),
            l.rss_kb as f64 / 1024.0
        );
        targets.push((
            "IDLE latency p99 ≤ 1.0 s".into(),
            format!("{p99:.3} s"),
            p99 <= 1.0,
        ));
    }
    let _ = writeln!(
        r,
        "\n## Targets\n\n| target | measured | met |\n| --- | ---: | :---: |"
    );
    for (target, measured, met) in targets {
        let _ = writeln!(
            r,
            "| {target} | {measured} | {} |",
            if met { "yes" } else { "**no**" }
        );
    }
    r
}

/// What the invariants make every ingest pay beside the fetch, against what
/// slushpile spends: the gap is what a different store could still save.
fn floor_section(r: &mut String, floor: &Floor, raw_cpu: f64, slush_cpu: f64) {
    let least = raw_cpu + floor.total();
    let strict = raw_cpu + floor.hash + floor.mail_parser + floor.write;
    let _ = writeln!(r, "## The CPU floor\n");
    let _ = writeln!(
        r,
        "Each step the invariants require, timed alone in the benchmark process over the \
         same corpus (`benches/ingest/floor.rs`: this thread's CPU clock, user + system, \
         file reads left out), added to the raw client's fetch.\n"
    );
    let _ = writeln!(r, "| step | CPU s | ÷ raw client |\n| --- | ---: | ---: |");
    let rows = [
        ("fetch: TLS + pipelined UID FETCH (the raw client)", raw_cpu),
        ("sha256 of every message (the content address)", floor.hash),
        (
            "mail-parser: MIME structure, base64, charsets",
            floor.mail_parser,
        ),
        (
            "the rest of `message::parse`: attachment sha256, article extraction, HTML to text, title, search text",
            floor.parse - floor.mail_parser,
        ),
        (
            "one durable write of the bytes (append, fdatasync per 2 MiB)",
            floor.write,
        ),
        ("**floor: the sum**", least),
        ("slushpile run --once", slush_cpu),
        (
            "above the floor: SQLite (rows, indexes), thread hand-offs, allocation, copies",
            slush_cpu - least,
        ),
    ];
    for (step, cpu) in rows {
        let _ = writeln!(r, "| {step} | {cpu:.2} | {:.2}× |", cpu / raw_cpu);
    }
    let _ = writeln!(
        r,
        "\nFetching, hashing, mail-parser and one write alone come to {:.2}× the raw \
         client's CPU: no store, however lean, meets a target below that.\n",
        strict / raw_cpu
    );
}
