//! A draft as a document to take elsewhere: Markdown for the CMS, a
//! standalone HTML page, or JSON. Pure: the caller fetches the draft.

use serde::Serialize;

use crate::draft::{AttachmentView, DraftView, EventView};
use crate::message::Address;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "md" | "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            _ => Err(format!(
                "unknown format `{text}`: expected md, html or json"
            )),
        }
    }
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Json => "application/json",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Json => "json",
        }
    }
}

/// Renders `draft`; `body_html` is the submitted HTML, sanitized here.
pub fn render(
    format: Format,
    draft: &DraftView,
    body_html: Option<&str>,
    events: &[EventView],
) -> String {
    match format {
        Format::Markdown => markdown(draft),
        Format::Html => html(draft, body_html),
        Format::Json => json(draft, events),
    }
}

/// A draft's stored HTML as the page and the exports show it. It was
/// sanitized once, at ingestion (`message::html::sanitize`: no scripts,
/// styles, event handlers, forms or images), so it is shown as it is; only
/// a body stored by an earlier release, which kept images, is cleaned here
/// (`slushpile reparse` rebuilds those once and for all).
pub fn display_html(stored: &str) -> std::borrow::Cow<'_, str> {
    if memchr::memmem::find(stored.as_bytes(), b"<img").is_some() {
        std::borrow::Cow::Owned(crate::message::html::sanitize(stored))
    } else {
        std::borrow::Cow::Borrowed(stored)
    }
}

/// `Name <address>`, or the address alone.
pub fn sender(draft: &DraftView) -> String {
    draft.from.as_ref().map(sender_line).unwrap_or_default()
}

/// `Name <address>`, or the bare address.
pub fn sender_line(address: &Address) -> String {
    match &address.name {
        Some(name) => format!("{name} <{}>", address.address),
        None => address.address.clone(),
    }
}

fn markdown(draft: &DraftView) -> String {
    let mut out = format!("# {}\n\n", one_line(&draft.title));
    out.push_str(&format!("- 編號 Reference: {}\n", draft.reference));
    out.push_str(&format!("- 來源 From: {}\n", one_line(&sender(draft))));
    out.push_str(&format!(
        "- 收稿 Received: {}\n",
        draft.received_at.format("%Y-%m-%d %H:%M %:z")
    ));
    out.push_str(&format!("- 狀態 Status: {}\n", draft.status.as_str()));
    if let Some(editor) = &draft.claimed_by {
        out.push_str(&format!("- 編輯 Editor: {editor}\n"));
    }
    out.push('\n');
    out.push_str(draft.body_text.trim_end());
    out.push('\n');
    for (a, text) in articles(draft) {
        out.push_str(&format!(
            "\n## 附件正文 Article in {}: {}\n\n",
            a.path,
            one_line(a.filename.as_deref().unwrap_or("(unnamed)"))
        ));
        // The document's own headings go below this section's.
        for line in text.lines() {
            if line.starts_with('#') {
                out.push_str("##");
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    for f in &draft.forwarded {
        out.push_str(&format!(
            "\n## 轉寄原稿 Forwarded {}: {}\n\n- 來源 From: {}\n",
            f.path,
            one_line(f.subject.as_deref().unwrap_or("")),
            one_line(&f.from.as_ref().map(sender_line).unwrap_or_default())
        ));
        if let Some(date) = f.date {
            out.push_str(&format!(
                "- 日期 Date: {}\n",
                date.format("%Y-%m-%d %H:%M %:z")
            ));
        }
        out.push('\n');
        out.push_str(f.body_text.trim_end());
        out.push('\n');
    }
    if !draft.attachments.is_empty() {
        out.push_str("\n## 附件 Attachments\n\n");
        for a in &draft.attachments {
            out.push_str(&format!(
                "- {}{} ({}, {} bytes)\n",
                nested_path(&a.path),
                one_line(a.filename.as_deref().unwrap_or("(unnamed)")),
                a.content_type,
                a.size
            ));
        }
    }
    for f in &draft.thread {
        out.push_str(&format!(
            "\n## 作者來信 Mail {}: {}\n\n- 來源 From: {}\n- 日期 Date: {}\n\n",
            f.number,
            one_line(f.subject.as_deref().unwrap_or("")),
            one_line(&f.from.as_ref().map(sender_line).unwrap_or_default()),
            f.received_at.format("%Y-%m-%d %H:%M %:z")
        ));
        out.push_str(f.body_text.trim_end());
        out.push('\n');
        for a in &f.attachments {
            let Some(text) = &a.article_text else {
                continue;
            };
            let version = f.article_version.unwrap_or(0);
            out.push_str(&format!(
                "\n### 第 {version} 版 Version {version}: {}\n\n",
                one_line(a.filename.as_deref().unwrap_or("(unnamed)"))
            ));
            for line in text.lines() {
                if line.starts_with('#') {
                    out.push_str("###");
                }
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !draft.notes.trim().is_empty() {
        out.push_str("\n## 編者按 Notes\n\n");
        out.push_str(draft.notes.trim_end());
        out.push('\n');
    }
    out
}

fn html(draft: &DraftView, body_html: Option<&str>) -> String {
    let body = match body_html {
        Some(submitted) => display_html(submitted).into_owned(),
        None => draft
            .body_text
            .split("\n\n")
            .map(|paragraph| format!("<p>{}</p>", escape(paragraph).replace('\n', "<br>")))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let articles: String = articles(draft)
        .map(|(a, text)| {
            let blocks: String = text
                .split("\n\n")
                .map(|block| {
                    let level = block.chars().take_while(|&c| c == '#').count();
                    match level {
                        0 => format!("<p>{}</p>", escape(block).replace('\n', "<br>")),
                        n => format!(
                            "<h{h}>{}</h{h}>",
                            escape(block[n..].trim()),
                            h = (n + 2).min(6)
                        ),
                    }
                })
                .collect();
            format!(
                "<section><h2>附件正文 Article in {}: {}</h2>\n{blocks}</section>\n",
                escape(&a.path),
                escape(a.filename.as_deref().unwrap_or("(unnamed)"))
            )
        })
        .collect();
    let attachments: String = draft
        .attachments
        .iter()
        .map(|a| {
            format!(
                "<li>{}{} ({}, {} bytes)</li>",
                escape(&nested_path(&a.path)),
                escape(a.filename.as_deref().unwrap_or("(unnamed)")),
                escape(&a.content_type),
                a.size
            )
        })
        .collect();
    let forwarded: String = draft
        .forwarded
        .iter()
        .map(|f| {
            format!(
                "<section><h2>{subject}</h2><p>{from}</p>\n<article>{text}</article></section>\n",
                subject = escape(f.subject.as_deref().unwrap_or("")),
                from = escape(&f.from.as_ref().map(sender_line).unwrap_or_default()),
                text = escape(&f.body_text).replace('\n', "<br>"),
            )
        })
        .collect();
    let thread: String = draft
        .thread
        .iter()
        .map(|f| {
            let versions: String = f
                .attachments
                .iter()
                .filter_map(|a| {
                    Some(format!(
                        "<h3>第 {v} 版 Version {v}: {}</h3>\n<pre>{}</pre>\n",
                        escape(a.filename.as_deref().unwrap_or("(unnamed)")),
                        escape(a.article_text.as_deref()?),
                        v = f.article_version.unwrap_or(0),
                    ))
                })
                .collect();
            format!(
                "<section class=\"mail\"><h2>作者來信 Mail {n}: {subject}</h2><p>{from} · {at}</p>\n\
                 <article>{text}</article>\n{versions}</section>\n",
                n = f.number,
                subject = escape(f.subject.as_deref().unwrap_or("")),
                from = escape(&f.from.as_ref().map(sender_line).unwrap_or_default()),
                at = f.received_at.format("%Y-%m-%d %H:%M %:z"),
                text = escape(&f.body_text).replace('\n', "<br>"),
            )
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"zh-Hant\"><head><meta charset=\"utf-8\">\
         <title>{title}</title></head><body>\n<h1>{title}</h1>\n\
         <p>{reference} · {from} · {received}</p>\n<article>\n{body}\n</article>\n{articles}{forwarded}{thread}{attachments}</body></html>\n",
        title = escape(&draft.title),
        reference = escape(&draft.reference),
        from = escape(&sender(draft)),
        received = draft.received_at.format("%Y-%m-%d %H:%M %:z"),
        attachments = if attachments.is_empty() {
            String::new()
        } else {
            format!("<ul>{attachments}</ul>\n")
        },
    )
}

/// The attachments whose article text was read, with it.
fn articles(draft: &DraftView) -> impl Iterator<Item = (&AttachmentView, &str)> {
    draft
        .attachments
        .iter()
        .filter_map(|a| Some((a, a.article_text.as_deref()?)))
}

fn json(draft: &DraftView, events: &[EventView]) -> String {
    #[derive(Serialize)]
    struct Export<'a> {
        draft: &'a DraftView,
        events: &'a [EventView],
    }
    // Our own plain data: serializing cannot fail.
    serde_json::to_string_pretty(&Export { draft, events }).unwrap_or_default()
}

/// An attachment inside a forwarded message is listed with where it is
/// (`2.0 `); the message's own files keep their plain line.
fn nested_path(path: &str) -> String {
    if path.contains('.') {
        format!("{path} ")
    } else {
        String::new()
    }
}

/// Header-like Markdown lines must not break into several.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text for HTML element content and quoted attribute values.
/// Text as HTML: markup characters escaped, and bidi controls shown
/// rather than obeyed (they could make a file name read backwards).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if printable::is_bidi_control(c) => {
                out.push_str(&format!("&lt;U+{:04X}&gt;", u32::from(c)));
            }
            _ => out.push(c),
        }
    }
    out
}

pub mod printable;

#[cfg(test)]
mod tests;
