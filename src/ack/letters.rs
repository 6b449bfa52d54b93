//! Letters to contributors (pure): the decisions (accept, revise,
//! decline), status answers and withdrawal confirmations, in the
//! contributor's language, from the templates or as the editors wrote
//! them, threaded to the submission and our acknowledgement.

use chrono::{DateTime, FixedOffset};
use lettre::Message;

use super::compose::{self, ComposeError, Sender, date, language_for};
use super::template::{TemplateKind, Templates};
use crate::config::ack::Language;
use crate::draft::{DraftStatus, DraftView, LetterKind};
use crate::store::Recipient;

/// What the editors leave to the template, and what they wrote.
#[derive(Debug, Clone, Default)]
pub struct LetterText {
    pub subject: Option<String>,
    pub body: Option<String>,
    pub note: Option<String>,
}

/// Where a draft stands, in the contributor's words (the template's
/// `{status}`: "目前{status}。", "It {status}.").
pub fn status_phrase(lang: Language, status: DraftStatus) -> &'static str {
    use DraftStatus::*;
    match (status, lang) {
        (SignedOff, Language::ZhHant) => "已決定錄用，刊出前編輯部會再與您聯繫",
        (SignedOff, Language::ZhHans) => "已决定录用，刊出前编辑部会再与您联系",
        (SignedOff, Language::En) => {
            "has been accepted for publication; we will be in touch before it appears"
        }
        (Rejected, Language::ZhHant) => "審閱已有結果，很遺憾未能採用，通知已另函寄出",
        (Rejected, Language::ZhHans) => "审阅已有结果，很遗憾未能采用，通知已另函寄出",
        (Rejected, Language::En) => {
            "has been read; we are sorry that we could not accept it, and have written to you separately"
        }
        (RevisionRequested, Language::ZhHant) => "正等待您寄回修改稿",
        (RevisionRequested, Language::ZhHans) => "正等待您寄回修改稿",
        (RevisionRequested, Language::En) => "is waiting for your revised version",
        (WithdrawalRequested, Language::ZhHant) => "您的撤稿要求已轉交編輯部，確認後另函通知",
        (WithdrawalRequested, Language::ZhHans) => "您的撤稿要求已转交编辑部，确认后另函通知",
        (WithdrawalRequested, Language::En) => {
            "is being withdrawn at your request; we will confirm it separately"
        }
        (Withdrawn | Purged, Language::ZhHant) => "已依您的要求撤回",
        (Withdrawn | Purged, Language::ZhHans) => "已按您的要求撤回",
        (Withdrawn | Purged, Language::En) => "has been withdrawn at your request",
        (Archived, Language::ZhHant) => "已處理完畢",
        (Archived, Language::ZhHans) => "已处理完毕",
        (Archived, Language::En) => "has been dealt with",
        (_, Language::ZhHant) => "正在審閱中",
        (_, Language::ZhHans) => "正在审阅中",
        (_, Language::En) => "is being read by the editors",
    }
}

/// Who writes to contributors, and from which templates.
pub struct Office<'a> {
    pub sender: &'a Sender,
    pub templates: &'a Templates,
}

/// One letter about a draft, as the decision left it.
pub struct Letter<'a> {
    pub draft: &'a DraftView,
    pub kind: LetterKind,
    pub to: &'a Recipient,
    pub text: &'a LetterText,
    /// When the decision was made (the letter queued).
    pub decided_at: DateTime<FixedOffset>,
}

impl Office<'_> {
    /// Subject and body: the editors' text where they wrote one, the
    /// template's for the rest.
    pub fn render(&self, letter: &Letter<'_>) -> (String, String) {
        let lang = language_for(letter.draft, self.sender.default_language);
        let mut values = compose::values(letter.draft, letter.to, self.sender, lang);
        let note = letter.text.note.as_deref().unwrap_or_default();
        values.insert("note", note.trim().to_string());
        values.insert("decided_at", date(lang, letter.decided_at));
        values.insert(
            "status",
            status_phrase(lang, letter.draft.status).to_string(),
        );
        let (subject, body) = self
            .templates
            .get(TemplateKind::Letter(letter.kind), lang)
            .render(&values);
        let given = |t: &Option<String>| {
            t.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        (
            given(&letter.text.subject).unwrap_or(subject),
            given(&letter.text.body).unwrap_or(body),
        )
    }

    /// Letter `id` as mail, threaded to the submission and to our
    /// acknowledgement; `tag` is the draft's thread tag.
    pub fn compose(
        &self,
        letter: &Letter<'_>,
        id: i64,
        tag: &str,
    ) -> Result<Message, ComposeError> {
        let reference = &letter.draft.reference;
        let domain = &self.sender.domain;
        let message_id = compose::letter_message_id(reference, id, tag, domain);
        let ack = compose::ack_message_id(reference, tag, domain);
        let rendered = self.render(letter);
        compose::message(
            letter.draft,
            letter.to,
            self.sender,
            rendered,
            message_id,
            Some(ack),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::TimeZone;
    use mail_parser::MessageParser;

    use super::*;

    /// The shipped templates, signed by the sample office.
    fn with_office<T>(run: impl FnOnce(&Office<'_>) -> T) -> T {
        let templates =
            Templates::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates"))
                .unwrap();
        let sender = Sender::sample();
        run(&Office {
            sender: &sender,
            templates: &templates,
        })
    }

    fn letter<'a>(
        draft: &'a DraftView,
        kind: LetterKind,
        to: &'a Recipient,
        text: &'a LetterText,
    ) -> Letter<'a> {
        Letter {
            draft,
            kind,
            to,
            text,
            decided_at: decided(),
        }
    }

    fn to() -> Recipient {
        Recipient {
            address: "li.ming@example.org".into(),
            name: Some("李明".into()),
        }
    }

    fn decided() -> DateTime<FixedOffset> {
        FixedOffset::east_opt(8 * 3600)
            .and_then(|z| z.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).single())
            .unwrap()
    }

    #[test]
    fn a_traditional_submission_gets_a_traditional_decision_with_the_editors_note() {
        let draft = DraftView::sample(
            "上好戰疫這堂課",
            "新冠肺炎疫情發生以來，教育部教師司黨支部認真學習。",
        );
        let text = LetterText {
            note: Some("請將第三節壓縮至八百字。".into()),
            ..Default::default()
        };
        let (subject, body) =
            with_office(|office| office.render(&letter(&draft, LetterKind::Revise, &to(), &text)));
        assert_eq!(subject, "修改意見：〈上好戰疫這堂課〉（SP-20261128-0007）");
        assert!(body.starts_with("李明您好："), "{body}");
        assert!(body.contains("請將第三節壓縮至八百字。"), "{body}");
        assert!(body.contains("2026年12月4日"), "{body}");
    }

    #[test]
    fn status_answers_say_where_the_draft_stands_and_by_when() {
        let mut draft = DraftView::sample(
            "上好战疫这堂课",
            "新冠肺炎疫情发生以来，教育部教师司党支部认真学习。",
        );
        draft.status = DraftStatus::Claimed;
        let (_, body) = with_office(|office| {
            office.render(&letter(
                &draft,
                LetterKind::Status,
                &to(),
                &LetterText::default(),
            ))
        });
        assert!(body.contains("目前正在审阅中。"), "{body}");
        assert!(body.contains("2026年11月28日 09:15（北京时间）"), "{body}");
        assert!(body.contains("30天内，即2026年12月28日前"), "{body}");
    }

    #[test]
    fn the_editors_text_replaces_the_templates_and_the_letter_is_threaded() {
        let draft = DraftView::sample("Teaching online", "An essay on teaching online.");
        let text = LetterText {
            subject: Some("About your essay".into()),
            body: Some("Dear Ada,\n\nWe love it.".into()),
            note: None,
        };
        let message = with_office(|office| {
            office.compose(
                &letter(&draft, LetterKind::Accept, &to(), &text),
                12,
                "ab12",
            )
        })
        .unwrap()
        .formatted();
        let parsed = MessageParser::default().parse(&message).unwrap();
        assert_eq!(parsed.subject(), Some("About your essay"));
        assert_eq!(
            parsed.body_text(0).unwrap().trim_end(),
            "Dear Ada,\r\n\r\nWe love it."
        );
        assert_eq!(
            parsed.message_id(),
            Some("letter.SP-20261128-0007.12.ab12@example.org")
        );
        assert_eq!(
            parsed.in_reply_to().as_text(),
            Some("sub-1@mail.example.org")
        );
        let references = parsed.references().as_text_list().unwrap();
        assert_eq!(
            references,
            [
                "sub-1@mail.example.org",
                "ack.SP-20261128-0007.ab12@example.org"
            ]
        );
    }
}
