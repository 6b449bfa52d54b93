//! The contributor's side of the draft page (pure HTML): their later mail
//! as a thread, with attachments, article versions and downloads, and the
//! letters written to them.

use super::{Lang, Text};
use crate::draft::{DraftView, FollowUpView, LetterView};
use crate::export::escape;

/// The thread, oldest mail first; empty when the contributor never wrote again.
pub fn thread(lang: Lang, draft: &DraftView) -> String {
    if draft.thread.is_empty() {
        return String::new();
    }
    let reference = escape(&draft.reference);
    let items: String = draft
        .thread
        .iter()
        .map(|f| follow_up(lang, &reference, f))
        .collect();
    format!(
        "<h2 id=\"thread-title\">{}</h2><div id=\"thread\" data-live>{items}</div>",
        lang.t(Text::Thread)
    )
}

fn follow_up(lang: Lang, reference: &str, f: &FollowUpView) -> String {
    let n = f.number;
    let from = f
        .from
        .as_ref()
        .map(crate::export::sender_line)
        .unwrap_or_default();
    let attachments: String = f
        .attachments
        .iter()
        .map(|a| {
            format!(
                "<li><a class=\"attachment\" href=\"/drafts/{reference}/thread/{n}/attachments/{path}\">{name}</a>{note}</li>",
                path = escape(&a.path),
                name = escape(a.filename.as_deref().unwrap_or(&a.content_type)),
                note = a
                    .extraction_note
                    .as_deref()
                    .map(|n| format!(" <em class=\"extraction-note\">{}</em>", lang.extraction_note(n)))
                    .unwrap_or_default(),
            )
        })
        .collect();
    let attachments = if attachments.is_empty() {
        String::new()
    } else {
        format!("<ul class=\"attachments\">{attachments}</ul>")
    };
    let articles: String = f
        .attachments
        .iter()
        .filter_map(|a| {
            let text = a.article_text.as_deref()?;
            let version = f
                .article_version
                .map(|v| lang.t(Text::Version).replace("{}", &v.to_string()))
                .unwrap_or_default();
            Some(format!(
                "<section class=\"article\" data-version=\"{v}\"><h3>{label} · {version} · {name}</h3>\
                 <div class=\"body\">{text}</div></section>",
                v = f.article_version.unwrap_or(0),
                label = lang.t(Text::ArticleIn),
                name = escape(a.filename.as_deref().unwrap_or("")),
                text = escape(text),
            ))
        })
        .collect();
    format!(
        "<article class=\"follow-up\" data-number=\"{n}\" data-intent=\"{intent_code}\">\
         <p class=\"follow-up-meta\"><strong>{from}</strong> · {at} · <span class=\"intent\">{intent}</span> · \
         <a href=\"/drafts/{reference}/thread/{n}/raw\">{raw}</a></p>\
         <p class=\"follow-up-subject\">{subject}</p><div class=\"body\">{body}</div>{attachments}{articles}</article>",
        from = escape(&from),
        at = f.received_at.format("%Y-%m-%d %H:%M"),
        intent_code = f.intent.as_str(),
        intent = lang.intent(f.intent),
        raw = lang.t(Text::RawMessage),
        subject = escape(f.subject.as_deref().unwrap_or("")),
        body = escape(&f.body_text),
    )
}

/// Every letter, oldest first: what, to whom, its state, and the editors'
/// text where they wrote one.
pub fn letters(lang: Lang, draft: &DraftView) -> String {
    if draft.letters.is_empty() {
        return String::new();
    }
    let rows: String = draft.letters.iter().map(|l| letter(lang, l)).collect();
    format!(
        "<h2>{}</h2><table id=\"letters\"><tbody>{rows}</tbody></table>",
        lang.t(Text::Letters)
    )
}

fn letter(lang: Lang, l: &LetterView) -> String {
    let when = l
        .sent_at
        .unwrap_or(l.created_at)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let text = match (&l.subject, &l.body) {
        (None, None) => format!("<small>{}</small>", lang.t(Text::LetterFromTemplate)),
        (subject, body) => format!(
            "<details><summary>{}</summary><pre class=\"letter-body\">{}</pre></details>",
            escape(subject.as_deref().unwrap_or("")),
            escape(body.as_deref().unwrap_or("")),
        ),
    };
    format!(
        "<tr class=\"letter\" data-kind=\"{kind}\" data-state=\"{state_code}\"><td>{when}</td><td>{kind_label}</td>\
         <td>{state}</td><td>{to}</td><td>{author}</td><td>{reason}{text}</td></tr>",
        kind = l.kind.as_str(),
        kind_label = lang.letter_kind(l.kind),
        state_code = escape(&l.state),
        state = lang.letter_state(&l.state),
        to = escape(l.to.as_deref().unwrap_or("")),
        author = escape(&l.author),
        reason = l
            .reason
            .as_deref()
            .filter(|_| l.state != "uncertain")
            .map(|r| format!(
                "<small class=\"reason\">{}</small><br>",
                escape(&reason(lang, r))
            ))
            .unwrap_or_default(),
    )
}

/// Why a letter was not sent, in the editor's language; a server's own
/// words (a failed send) are kept after ours.
fn reason(lang: Lang, reason: &str) -> String {
    use crate::store::letter_reasons::*;
    let known: [(&str, &str, &str, &str); 8] = [
        (
            CANCELLED_REPLACED,
            "已由新擬的信取代",
            "已由新拟的信取代",
            "replaced by a newer proposal",
        ),
        (
            CANCELLED_OTHER_DECISION,
            "決定已改變，此信不寄",
            "决定已改变，此信不寄",
            "the decision changed; not sent",
        ),
        (
            CANCELLED_NO_LETTER,
            "決定不寄信給作者",
            "决定不寄信给作者",
            "decided without a letter",
        ),
        (
            SUPPRESSED_AUTOMATED,
            "自動寄出的郵件，不寄信",
            "自动寄出的邮件，不寄信",
            "automated mail: not written to",
        ),
        (
            SUPPRESSED_QUARANTINED,
            "隔離中的來信，不寄信",
            "隔离中的来信，不寄信",
            "quarantined mail: not written to",
        ),
        (
            SUPPRESSED_FORWARDED,
            "由編輯轉寄的稿件，不寄信",
            "由编辑转寄的稿件，不寄信",
            "forwarded by an editor: not written to",
        ),
        (
            SUPPRESSED_NOT_ACKNOWLEDGED,
            "寄件人未獲回執，不寄信",
            "寄件人未获回执，不寄信",
            "the sender was not acknowledged: not written to",
        ),
        (
            SUPPRESSED_NO_ADDRESS,
            "沒有寄件人地址",
            "没有寄件人地址",
            "no sender address",
        ),
    ];
    for (code, hant, hans, en) in known {
        if let Some(rest) = reason.strip_prefix(code) {
            let said = lang.pick(hant, hans, en);
            let rest = rest.trim_start_matches([':', ' ']);
            return match rest {
                "" => said.to_string(),
                detail if lang.is_chinese() => format!("{said}（{detail}）"),
                detail => format!("{said} ({detail})"),
            };
        }
    }
    reason.to_string()
}
