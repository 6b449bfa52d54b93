use std::path::Path;

use mail_parser::MessageParser;

use super::*;

const TAG: &str = "0123456789abcdef0123456789abcdef";

fn templates() -> Templates {
    Templates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates")).unwrap()
}

fn sender() -> Sender {
    Sender::sample()
}

fn draft(title: &str, body: &str) -> DraftView {
    DraftView::sample(title, body)
}

fn to() -> Recipient {
    Recipient {
        address: "li.ming@example.org".into(),
        name: Some("李明".into()),
    }
}

fn compose_bytes(d: &DraftView, to: &Recipient) -> Vec<u8> {
    compose(d, to, &sender(), &templates(), TAG)
        .unwrap()
        .formatted()
}

#[test]
fn a_traditional_submission_gets_a_traditional_acknowledgement_marked_automatic() {
    let bytes = compose_bytes(
        &draft(
            "上好戰“疫”這堂課",
            "新冠肺炎疫情發生以來，教育部教師司黨支部認真學習。",
        ),
        &to(),
    );
    let parsed = MessageParser::default().parse(&bytes).unwrap();
    let subject = parsed.subject().unwrap();
    assert!(
        subject == "來稿已收到：〈上好戰“疫”這堂課〉（SP-20261128-0007）",
        "{subject}"
    );
    let body = parsed.body_text(0).unwrap();
    assert!(body.contains("李明您好"), "{body}");
    assert!(body.contains("2026年11月28日 09:15（北京時間）"), "{body}");
    assert!(body.contains("上好戰疫這堂課.docx（12.5 KB）"), "{body}");
    // The processing period, and the date it ends.
    assert!(body.contains("2026年12月28日前（收稿後30日內）"), "{body}");
    assert!(body.contains("《旗幟》編輯部"), "{body}");
    assert_eq!(
        parsed.message_id(),
        Some("ack.SP-20261128-0007.0123456789abcdef0123456789abcdef@example.org")
    );
    assert_eq!(
        parsed.in_reply_to().as_text(),
        Some("sub-1@mail.example.org")
    );
    assert_eq!(
        parsed.references().as_text(),
        Some("sub-1@mail.example.org")
    );
    assert_eq!(
        parsed.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-replied")
    );
    assert_eq!(
        parsed.header_raw("X-Auto-Response-Suppress").map(str::trim),
        Some("All")
    );
    // Non-ASCII headers are RFC 2047-encoded on the wire, never raw UTF-8.
    let head = String::from_utf8_lossy(crate::message::header_section(&bytes));
    assert!(head.is_ascii(), "{head}");
}

#[test]
fn an_english_submission_gets_an_english_acknowledgement() {
    let d = draft(
        "Teaching online",
        "Dear editors, please find my essay on teaching online attached.",
    );
    let to = Recipient {
        address: "ada@example.org".into(),
        name: None,
    };
    let parsed_bytes = compose_bytes(&d, &to);
    let parsed = MessageParser::default().parse(&parsed_bytes).unwrap();
    assert_eq!(
        parsed.subject(),
        Some("Submission received: \"Teaching online\" (SP-20261128-0007)")
    );
    let body = parsed.body_text(0).unwrap();
    assert!(body.starts_with("Dear contributor,"), "{body}");
    assert!(
        body.contains("28 November 2026, 09:15 (Asia/Shanghai)"),
        "{body}"
    );
}

#[test]
fn the_message_id_is_the_same_on_every_attempt() {
    let d = draft("诗", "诗");
    let first = compose(&d, &to(), &sender(), &templates(), TAG).unwrap();
    let second = compose(&d, &to(), &sender(), &templates(), TAG).unwrap();
    let id = |m: &lettre::Message| {
        MessageParser::default()
            .parse(&m.formatted())
            .unwrap()
            .message_id()
            .map(str::to_string)
    };
    assert_eq!(id(&first), id(&second));
}

#[test]
fn line_breaks_in_title_or_name_cannot_inject_headers() {
    let d = draft("Poem\r\nBcc: victim@example.net\r\nX-Injected: yes", "body");
    let to = Recipient {
        address: "li.ming@example.org".into(),
        name: Some("Evil\r\nCc: other@example.net".into()),
    };
    let bytes = compose_bytes(&d, &to);
    let parsed = MessageParser::default().parse(&bytes).unwrap();
    for name in ["Bcc", "Cc", "X-Injected"] {
        assert!(
            parsed.header_raw(name).is_none(),
            "{name} injected:\n{}",
            String::from_utf8_lossy(&bytes)
        );
    }
    assert_eq!(parsed.to().unwrap().iter().count(), 1);
    assert!(
        parsed.subject().unwrap().contains("Bcc: victim"),
        "kept as text in the subject"
    );
}

#[test]
fn a_simplified_submission_gets_a_simplified_acknowledgement() {
    let bytes = compose_bytes(
        &draft(
            "上好战“疫”这堂课",
            "新冠肺炎疫情发生以来，教育部教师司党支部认真学习。",
        ),
        &to(),
    );
    let parsed = MessageParser::default().parse(&bytes).unwrap();
    assert_eq!(
        parsed.subject(),
        Some("来稿已收到：〈上好战“疫”这堂课〉（SP-20261128-0007）")
    );
    let body = parsed.body_text(0).unwrap();
    assert!(body.contains("2026年11月28日 09:15（北京时间）"), "{body}");
}

#[test]
fn a_title_or_name_of_any_length_keeps_header_lines_within_rfc_5322() {
    let mut d = draft(&"長".repeat(10_000), "正文");
    d.message_id = Some(format!("{}@example.org", "x".repeat(5_000)));
    let to = Recipient {
        address: "li.ming@example.org".into(),
        name: Some("名".repeat(10_000)),
    };
    let bytes = compose_bytes(&d, &to);
    let head = crate::message::header_section(&bytes);
    for line in head.split(|&b| b == b'\n') {
        assert!(line.len() <= 998, "a header line of {} bytes", line.len());
    }
    let parsed = MessageParser::default().parse(&bytes).unwrap();
    let subject = parsed.subject().unwrap();
    assert!(
        subject.chars().count() <= 161 && subject.contains('…'),
        "{subject}"
    );
    assert!(parsed.in_reply_to().as_text().is_none());
}

#[test]
fn a_bidi_override_in_a_title_is_not_sent_on() {
    let bytes = compose_bytes(&draft("invoice\u{202E}txt.exe", "正文"), &to());
    let parsed = MessageParser::default().parse(&bytes).unwrap();
    assert!(!parsed.subject().unwrap().contains('\u{202E}'));
}
