//! The queue page's HTML (pure): views by status, kind of mail and editor
//! with their counts, a table sortable by each column both ways, and page
//! numbers. Every view is its URL, so it can be bookmarked and shared.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::i18n::QueueText;
use super::render::{flags, status_badge};
use super::{Lang, Text};
use crate::api::listing::{ListRequest, Listed};
use crate::draft::{DraftStatus, DraftView};
use crate::export::escape;
use crate::store::{MailKind, SortKey};

/// What the page shows, and the parameters it was asked with (defaults
/// filled in), from which every link is made.
pub struct QueueView<'a> {
    pub query: &'a HashMap<String, String>,
    pub request: &'a ListRequest,
    pub listed: &'a Listed,
    pub overdue_before: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

impl QueueView<'_> {
    /// This view with some parameters changed (None: removed). Any change
    /// starts again at the first page.
    fn href(&self, changes: &[(&str, Option<&str>)]) -> String {
        let mut params: BTreeMap<&str, &str> = self
            .query
            .iter()
            .filter(|(k, v)| !v.is_empty() && !matches!(k.as_str(), "page" | "cursor"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        for (key, value) in changes {
            match value {
                Some(value) => params.insert(key, value),
                None => params.remove(key),
            };
        }
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.extend_pairs(params);
        escape(&format!("/queue?{}", query.finish()))
    }

    fn param(&self, key: &str) -> &str {
        self.query.get(key).map_or("", String::as_str)
    }

    pub fn body(&self, lang: Lang) -> String {
        format!(
            "<div id=\"live-tabs\" data-live>{views}</div>{filters}\
             <div id=\"live-list\" data-live><p class=\"summary\" id=\"summary\">{summary}</p>{table}{pager}</div>",
            views = self.views(lang),
            filters = self.filter_form(lang),
            summary = lang.page_summary(self.listed.total, self.request.page, self.listed.pages),
            table = self.table(lang),
            pager = self.pager(lang),
        )
    }

    /// Three rows of tabs: status (with counts), kind of mail (with
    /// counts), and whose drafts.
    fn views(&self, lang: Lang) -> String {
        let counts = &self.listed.counts;
        let mail = self.request.filter.mail;
        let of = |status: DraftStatus| counts.of(status, mail);
        let mut statuses = vec![(
            "open".to_string(),
            lang.queue(QueueText::OpenWork).to_string(),
            DraftStatus::ALL
                .iter()
                .filter(|s| s.awaits_decision())
                .map(|s| of(*s))
                .sum::<u64>(),
        )];
        for status in DraftStatus::ALL {
            // The open ones always, the others once there are any.
            if status.awaits_decision() || of(status) > 0 {
                statuses.push((
                    status.as_str().into(),
                    lang.status(status).into(),
                    of(status),
                ));
            }
        }
        statuses.push((
            "all".into(),
            lang.queue(QueueText::AllStatuses).into(),
            DraftStatus::ALL.iter().map(|s| of(*s)).sum(),
        ));
        let kind_total = |mail: Option<MailKind>| {
            let mut filter = self.request.filter.clone();
            filter.mail = mail;
            counts.total(&filter)
        };
        let kinds = [
            ("people", QueueText::People, Some(MailKind::People)),
            ("automated", QueueText::Automated, Some(MailKind::Automated)),
            ("all", QueueText::AnyMail, None),
        ]
        .map(|(code, label, mail)| {
            (
                code.to_string(),
                lang.queue(label).to_string(),
                kind_total(mail),
            )
        });
        let holders = [
            ("", QueueText::Everyone),
            ("me", QueueText::Mine),
            ("nobody", QueueText::Unassigned),
        ];
        let holder_links: String = holders
            .iter()
            .map(|(code, label)| {
                let value = (!code.is_empty()).then_some(*code);
                self.tab(
                    self.param("holder") == *code,
                    &self.href(&[("holder", value)]),
                    lang.queue(*label),
                    None,
                )
            })
            .collect();
        let tabs = |key: &str, items: &[(String, String, u64)]| -> String {
            items
                .iter()
                .map(|(code, label, n)| {
                    self.tab(
                        self.param(key) == code,
                        &self.href(&[(key, Some(code))]),
                        label,
                        Some(*n),
                    )
                })
                .collect()
        };
        format!(
            "<nav class=\"tabs\" id=\"status-tabs\" aria-label=\"{sl}\">{st}</nav>\
             <nav class=\"tabs\" id=\"mail-tabs\" aria-label=\"{kl}\">{kt}</nav>\
             <nav class=\"tabs\" id=\"holder-tabs\" aria-label=\"{hl}\">{holder_links}</nav>",
            sl = lang.queue(QueueText::Views),
            st = tabs("status", &statuses),
            kl = lang.queue(QueueText::Kinds),
            kt = tabs("mail", &kinds),
            hl = lang.queue(QueueText::Holders),
        )
    }

    fn tab(&self, current: bool, href: &str, label: &str, count: Option<u64>) -> String {
        let count = count.map_or(String::new(), |n| {
            format!(" <span class=\"count\">{n}</span>")
        });
        if current {
            format!(
                "<a href=\"{href}\" class=\"tab current\" aria-current=\"page\">{label}{count}</a>"
            )
        } else {
            format!("<a href=\"{href}\" class=\"tab\">{label}{count}</a>")
        }
    }

    /// The narrower conditions; the view (tabs, sort) is kept in hidden
    /// fields so filtering does not lose it.
    fn filter_form(&self, lang: Lang) -> String {
        let value = |key: &str| escape(self.param(key));
        let checked = |key: &str| {
            if self.param(key) == "true" {
                " checked"
            } else {
                ""
            }
        };
        let kept: String = ["status", "mail", "holder", "sort", "order"]
            .iter()
            .filter(|key| !self.param(key).is_empty())
            .map(|key| {
                format!(
                    "<input type=\"hidden\" name=\"{key}\" value=\"{}\">",
                    value(key)
                )
            })
            .collect();
        format!(
            "<form method=\"get\" action=\"/queue\" class=\"filters\" id=\"filters\">{kept}\
             <label>{search}<input id=\"q\" name=\"q\" value=\"{q}\" placeholder=\"{hint}\"></label>\
             <label>{sender}<input name=\"sender\" value=\"{sender_v}\"></label>\
             <label>{mailbox}<input name=\"mailbox\" value=\"{mailbox_v}\" size=\"10\"></label>\
             <label>{since}<input name=\"since\" type=\"date\" value=\"{since_v}\"></label>\
             <label>{until}<input name=\"until\" type=\"date\" value=\"{until_v}\"></label>\
             <label class=\"check\"><input type=\"checkbox\" name=\"unseen_mail\" value=\"true\" id=\"only-new-mail\"{new_mail_v}>{new_mail}</label>\
             <label class=\"check\"><input type=\"checkbox\" name=\"overdue\" value=\"true\" id=\"only-overdue\"{overdue_v}>{overdue}</label>\
             <button type=\"submit\" id=\"filter\">{filter}</button></form>",
            search = lang.t(Text::Search),
            q = value("q"),
            hint = lang.t(Text::SearchHint),
            sender = lang.t(Text::Sender),
            sender_v = value("sender"),
            mailbox = lang.t(Text::Mailbox),
            mailbox_v = value("mailbox"),
            since = lang.t(Text::Since),
            since_v = value("since"),
            until = lang.t(Text::Until),
            until_v = value("until"),
            new_mail = lang.t(Text::OnlyNewMail),
            new_mail_v = checked("unseen_mail"),
            overdue = lang.t(Text::OnlyOverdue),
            overdue_v = checked("overdue"),
            filter = lang.t(Text::Filter),
        )
    }

    /// A column heading that sorts by it: again to turn the order round.
    fn heading(&self, label: &str, key: SortKey) -> String {
        let sort = self.request.filter.sort;
        if sort.key != key {
            let href = self.href(&[("sort", Some(key.as_str())), ("order", None)]);
            return format!(
                "<th><a href=\"{href}\" data-sort=\"{}\">{label}</a></th>",
                key.as_str()
            );
        }
        let (aria, arrow, other) = if sort.descending {
            ("descending", "▼", "asc")
        } else {
            ("ascending", "▲", "desc")
        };
        let href = self.href(&[("sort", Some(key.as_str())), ("order", Some(other))]);
        format!(
            "<th aria-sort=\"{aria}\"><a href=\"{href}\" data-sort=\"{}\">{label} {arrow}</a></th>",
            key.as_str()
        )
    }

    fn table(&self, lang: Lang) -> String {
        let drafts = &self.listed.drafts;
        if drafts.is_empty() {
            return format!("<p id=\"empty\">{}</p>", lang.t(Text::NoDrafts));
        }
        let rows: String = drafts.iter().map(|d| self.row(lang, d)).collect();
        format!(
            "<table id=\"drafts\"><thead><tr><th>{reference}</th>{title}{sender}{received}{status}\
             {length}{waiting}<th>{holder}</th></tr></thead><tbody>{rows}</tbody></table>",
            reference = lang.t(Text::Reference),
            title = self.heading(lang.t(Text::Title), SortKey::Title),
            sender = self.heading(lang.t(Text::Sender), SortKey::Sender),
            received = self.heading(lang.t(Text::Received), SortKey::Received),
            status = self.heading(lang.t(Text::Status), SortKey::Status),
            length = self.heading(lang.queue(QueueText::Length), SortKey::Length),
            waiting = self.heading(lang.queue(QueueText::Waiting), SortKey::Waiting),
            holder = lang.t(Text::Holder),
        )
    }

    fn row(&self, lang: Lang, d: &DraftView) -> String {
        let waited = (self.now - d.status_changed_at.with_timezone(&Utc)).num_days();
        format!(
            "<tr data-reference=\"{reference}\"><td><a href=\"/drafts/{reference}\">{reference}</a></td>\
             <td>{title}</td><td>{sender}</td><td class=\"time\">{received}</td><td>{status}{flags}</td>\
             <td class=\"number\">{length}</td><td class=\"number\">{waiting}</td><td>{holder}</td></tr>",
            reference = escape(&d.reference),
            title = escape(&d.title),
            sender = short_sender(d),
            received = d.received_at.format("%Y-%m-%d %H:%M"),
            status = status_badge(lang, d.status),
            flags = flags(lang, d, self.overdue_before),
            length = lang.length(d.length_chars),
            waiting = lang.waiting(waited),
            holder = escape(d.claimed_by.as_deref().unwrap_or("")),
        )
    }

    /// Previous, next, the first and last pages and those around this one.
    fn pager(&self, lang: Lang) -> String {
        let (page, pages) = (self.request.page, self.listed.pages);
        if pages <= 1 {
            return String::new();
        }
        let link = |n: u32, label: &str, rel: &str| {
            let n = n.to_string();
            format!(
                "<a href=\"{}\"{rel}>{label}</a>",
                self.href(&[("page", Some(&n))])
            )
        };
        let mut items = Vec::new();
        if page > 1 {
            items.push(link(
                page - 1,
                lang.queue(QueueText::Previous),
                " rel=\"prev\" id=\"prev\"",
            ));
        }
        let shown: std::collections::BTreeSet<u32> = [1, pages]
            .into_iter()
            .chain(page.saturating_sub(2).max(1)..=page.saturating_add(2).min(pages))
            .collect();
        let mut last_shown = 0;
        for n in shown {
            if n > last_shown + 1 {
                items.push("<span class=\"gap\">…</span>".into());
            }
            items.push(if n == page {
                format!("<span aria-current=\"page\">{n}</span>")
            } else {
                link(n, &n.to_string(), "")
            });
            last_shown = n;
        }
        if page < pages {
            items.push(link(
                page + 1,
                lang.queue(QueueText::Next),
                " rel=\"next\" id=\"next\"",
            ));
        }
        format!(
            "<nav class=\"pager\" id=\"pager\" aria-label=\"{}\">{}</nav>",
            lang.queue(QueueText::Pages),
            items.join("")
        )
    }
}

/// The sender's name (the address when there is none), the address in a
/// tooltip: the table stays one line a row.
fn short_sender(d: &DraftView) -> String {
    match &d.from {
        Some(from) => format!(
            "<span title=\"{}\">{}</span>",
            escape(&from.address),
            escape(from.name.as_deref().unwrap_or(&from.address))
        ),
        None => String::new(),
    }
}
