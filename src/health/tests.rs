use super::*;

#[test]
fn status_readiness_and_metrics_follow_the_sources() {
    let health = Health::default();
    let hour = Duration::from_secs(3600);
    health.track([
        ("submissions".to_string(), hour),
        ("standby-box".to_string(), hour),
    ]);
    assert!(!health.all_attempted());
    health.connected("submissions");
    health.standby("standby-box");
    assert!(health.all_attempted());
    assert!(health.readiness().unwrap_err().contains("submissions"));
    health.phase("submissions", "idle");
    health.synced(
        "submissions",
        &Tally {
            ingested: 3,
            seen_again: 1,
            ..Tally::default()
        },
    );
    assert_eq!(health.readiness(), Ok(()));
    assert_eq!(
        health.status_line(),
        "standby-box: standby, 0 ingested; submissions: idle, 3 ingested"
    );
    let metrics = health.metrics(&[("new".into(), 3)], 1);
    assert!(
        metrics
            .contains("slushpile_messages_total{mailbox=\"submissions\",outcome=\"ingested\"} 3")
    );
    assert!(
        metrics
            .contains("slushpile_messages_total{mailbox=\"submissions\",outcome=\"duplicate\"} 1")
    );
    assert!(metrics.contains("slushpile_drafts{status=\"new\"} 3"));
    assert!(metrics.contains("slushpile_outbox_backlog 1"));
    assert!(metrics.contains("slushpile_mailbox_stalled{mailbox=\"submissions\"} 0"));
    assert!(health.new_stalls().is_empty());
}

#[test]
fn a_stall_is_reported_once_with_the_last_error_until_a_sync() {
    let health = Health::default();
    health.track([
        ("quiet".to_string(), Duration::ZERO),
        ("standby-box".to_string(), Duration::ZERO),
    ]);
    health.standby("standby-box");
    health.failed("quiet", "cannot connect to imap.example.org:993: refused");
    std::thread::sleep(Duration::from_millis(2));

    let stalls = health.new_stalls();
    assert_eq!(stalls.len(), 1, "{stalls:?}");
    assert_eq!(stalls[0].source, "quiet");
    assert_eq!(
        stalls[0].last_error.as_deref(),
        Some("cannot connect to imap.example.org:993: refused")
    );
    assert!(health.new_stalls().is_empty(), "reported once");
    let why = health.readiness().unwrap_err();
    assert!(
        why.contains("quiet: stalled: no successful sync for"),
        "{why}"
    );
    assert!(why.contains("last error: cannot connect"), "{why}");
    assert!(!why.contains("standby-box"), "{why}");
    assert!(
        health
            .status_line()
            .contains("quiet: failing, 0 ingested, STALLED: ")
    );
    let metrics = health.metrics(&[], 0);
    assert!(metrics.contains("slushpile_mailbox_stalled{mailbox=\"quiet\"} 1"));
    assert!(metrics.contains("slushpile_mailbox_stalled{mailbox=\"standby-box\"} 0"));

    // A sync ends the stall; the next one is reported again.
    health.synced("quiet", &Tally::default());
    health.track([("quiet".to_string(), Duration::from_secs(3600))]);
    assert!(health.new_stalls().is_empty());
    assert_eq!(health.readiness(), Ok(()));
    health.track([("quiet".to_string(), Duration::ZERO)]);
    std::thread::sleep(Duration::from_millis(2));
    assert_eq!(health.new_stalls().len(), 1);
}

#[test]
fn the_desks_gauges_name_each_editor_safely() {
    use crate::store::statistics::{EditorLoad, Percentiles, Statistics, WeekIntake};
    let stats = Statistics {
        weeks: vec![WeekIntake {
            week_start: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            people: 7,
            automated: 2,
        }],
        decided: 4,
        decision_days: Some(Percentiles {
            median: 3.5,
            p90: 9.0,
        }),
        accepted: 1,
        rejected: 3,
        editors: vec![EditorLoad {
            name: "li \"the\" editor".into(),
            holding: 5,
            decisions: 2,
        }],
        overdue: 0,
    };
    let text = super::desk_metrics(&stats);
    for line in [
        "slushpile_intake_this_week{kind=\"people\"} 7",
        "slushpile_first_decision_days{quantile=\"0.9\"} 9",
        "slushpile_acceptance_ratio 0.25",
        "slushpile_drafts_held{editor=\"li \\\"the\\\" editor\"} 5",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
}
