//! The Prometheus text exposition of what the daemon knows about itself.

use std::fmt::Write;

use super::Health;

impl Health {
    /// Prometheus text exposition of the counters, plus the store gauges given.
    pub fn metrics(&self, drafts_by_status: &[(String, i64)], outbox_backlog: i64) -> String {
        let inner = self.lock();
        let mut out = String::new();
        family(
            &mut out,
            "slushpile_build_info",
            "gauge",
            "Version of the running binary.",
        );
        let _ = writeln!(
            out,
            "slushpile_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        family(
            &mut out,
            "slushpile_messages_total",
            "counter",
            "Messages handled per source and outcome.",
        );
        for (name, s) in &inner.sources {
            for (outcome, n) in [
                ("ingested", s.tally.ingested),
                ("quarantined", s.tally.quarantined),
                ("duplicate", s.tally.seen_again),
                ("follow_up", s.tally.follow_ups),
            ] {
                let _ = writeln!(
                    out,
                    "slushpile_messages_total{{mailbox=\"{name}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        family(
            &mut out,
            "slushpile_imap_connects_total",
            "counter",
            "Successful connections per source.",
        );
        for (name, s) in &inner.sources {
            let _ = writeln!(
                out,
                "slushpile_imap_connects_total{{mailbox=\"{name}\"}} {}",
                s.connects
            );
        }
        family(
            &mut out,
            "slushpile_imap_failures_total",
            "counter",
            "Failed connections or syncs per source.",
        );
        for (name, s) in &inner.sources {
            let _ = writeln!(
                out,
                "slushpile_imap_failures_total{{mailbox=\"{name}\"}} {}",
                s.failures
            );
        }
        family(
            &mut out,
            "slushpile_oauth_refresh_failures_total",
            "counter",
            "OAuth2 access-token refreshes that failed, per source.",
        );
        for (name, s) in &inner.sources {
            let _ = writeln!(
                out,
                "slushpile_oauth_refresh_failures_total{{mailbox=\"{name}\"}} {}",
                s.oauth_failures
            );
        }
        family(
            &mut out,
            "slushpile_seconds_since_last_poll",
            "gauge",
            "Seconds since the last successful sync per source.",
        );
        for (name, s) in &inner.sources {
            if let Some(t) = s.last_success {
                let _ = writeln!(
                    out,
                    "slushpile_seconds_since_last_poll{{mailbox=\"{name}\"}} {:.3}",
                    t.elapsed().as_secs_f64()
                );
            }
        }
        family(
            &mut out,
            "slushpile_mailbox_stalled",
            "gauge",
            "1 when a source has had no successful sync for its stall_after.",
        );
        for (name, s) in &inner.sources {
            let _ = writeln!(
                out,
                "slushpile_mailbox_stalled{{mailbox=\"{name}\"}} {}",
                u8::from(s.stalled_for().is_some())
            );
        }
        family(
            &mut out,
            "slushpile_acks_total",
            "counter",
            "Acknowledgements by outcome since start.",
        );
        for (outcome, n) in [
            ("sent", inner.acks_sent),
            ("failed", inner.acks_failed),
            ("suppressed", inner.acks_suppressed),
        ] {
            let _ = writeln!(out, "slushpile_acks_total{{outcome=\"{outcome}\"}} {n}");
        }
        family(
            &mut out,
            "slushpile_drafts",
            "gauge",
            "Drafts in the queue by status.",
        );
        for (status, n) in drafts_by_status {
            let _ = writeln!(out, "slushpile_drafts{{status=\"{status}\"}} {n}");
        }
        family(
            &mut out,
            "slushpile_outbox_backlog",
            "gauge",
            "Acknowledgements waiting to be sent.",
        );
        let _ = writeln!(out, "slushpile_outbox_backlog {outbox_backlog}");
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The desk's gauges (`store::statistics`): this week's intake, time to the
/// first decision, acceptance, open drafts per editor.
pub fn desk_metrics(stats: &crate::store::statistics::Statistics) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "slushpile_intake_this_week",
        "gauge",
        "Drafts received since Monday 00:00 (general.time_zone), by kind of mail.",
    );
    if let Some(week) = stats.weeks.last() {
        let _ = writeln!(
            out,
            "slushpile_intake_this_week{{kind=\"people\"}} {}",
            week.people
        );
        let _ = writeln!(
            out,
            "slushpile_intake_this_week{{kind=\"automated\"}} {}",
            week.automated
        );
    }
    family(
        &mut out,
        "slushpile_first_decision_days",
        "gauge",
        "Days from receipt to the first decision, over the last twelve weeks.",
    );
    if let Some(p) = stats.decision_days {
        let _ = writeln!(
            out,
            "slushpile_first_decision_days{{quantile=\"0.5\"}} {}",
            p.median
        );
        let _ = writeln!(
            out,
            "slushpile_first_decision_days{{quantile=\"0.9\"}} {}",
            p.p90
        );
    }
    family(
        &mut out,
        "slushpile_acceptance_ratio",
        "gauge",
        "Signed off among signed off and rejected, over the last twelve weeks.",
    );
    if let Some(rate) = stats.acceptance_rate() {
        let _ = writeln!(out, "slushpile_acceptance_ratio {rate}");
    }
    family(
        &mut out,
        "slushpile_drafts_held",
        "gauge",
        "Open drafts each editor holds.",
    );
    for editor in &stats.editors {
        let _ = writeln!(
            out,
            "slushpile_drafts_held{{editor=\"{}\"}} {}",
            label_value(&editor.name),
            editor.holding
        );
    }
    out
}

/// A label value as the exposition format escapes it.
fn label_value(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
