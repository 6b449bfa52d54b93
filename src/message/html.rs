//! HTML bodies: sanitizing for display and reading text out of them.

use std::borrow::Cow;

/// Deepest element nesting handed to the sanitizer. html5ever checks the
/// stack of open elements for every tag, so 200,000 nested `<div>`s cost
/// time quadratic in the depth; no real letter nests this deep.
pub const MAX_DEPTH: usize = 128;

/// HTML for the editors' view, made once at ingestion and stored (the page
/// and the exports show it as it is): ammonia's default policy (no
/// scripts, event handlers or other active content), no images (a remote
/// image is a read receipt for the sender), and without the text of
/// `<title>`/`<head>`, which would otherwise leak into the body. Nesting
/// beyond `MAX_DEPTH` is flattened first, in one linear pass.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .rm_tags(["img"])
        .clean_content_tags(["script", "style", "title", "head"].into_iter().collect())
        .clean(&flatten(html, MAX_DEPTH))
        .to_string()
}

/// Elements that never have content, so never nest.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// `html` with every start tag that would open an element deeper than
/// `max_depth` left out, and the end tags that would close one of those:
/// their text stays, their nesting goes. One pass over the input, so the
/// tree builder after it never sees a deep stack.
pub fn flatten(html: &str, max_depth: usize) -> Cow<'_, str> {
    let mut depth = 0usize;
    let mut dropped = 0usize;
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset;
        let (tag, length) = tag_at(&html[start..]);
        let end = start + length;
        at = end;
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if name.is_empty() || VOID.contains(&name.as_str()) || tag.ends_with('/') {
            continue;
        }
        let keep = if closing {
            if dropped > 0 {
                dropped -= 1;
                false
            } else {
                depth = depth.saturating_sub(1);
                true
            }
        } else if depth >= max_depth {
            dropped += 1;
            false
        } else {
            depth += 1;
            true
        };
        if !keep {
            let out = out.get_or_insert_with(|| String::with_capacity(html.len()));
            out.push_str(&html[copied..start]);
            copied = end;
        }
    }
    match out {
        None => Cow::Borrowed(html),
        Some(mut out) => {
            out.push_str(&html[copied..]);
            Cow::Owned(out)
        }
    }
}

/// The tag `markup` starts with (it starts with `<`): what lies between
/// `<` and `>`, and how many bytes the whole tag takes. An unclosed tag
/// runs to the end of the input.
fn tag_at(markup: &str) -> (&str, usize) {
    match markup.find('>') {
        Some(close) => (&markup[1..close], close + 1),
        None => (&markup[1..], markup.len()),
    }
}

/// Tags whose content is never readable text.
const SKIPPED: &[&str] = &["script", "style", "head", "title", "template", "noscript"];
/// Tags that separate paragraphs.
const PARAGRAPH: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "hr",
];
/// Tags that start a new line.
const LINE: &[&str] = &["br", "div", "li", "tr", "section", "article", "dd", "dt"];

/// Readable text with paragraphs kept as blank-line-separated blocks.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut skip_until: Option<String> = None;
    let mut pre_depth = 0usize;
    let mut rest = html;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        if rest.starts_with('<') {
            let (tag, length) = tag_at(rest);
            rest = &rest[length..];
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if let Some(wanted) = &skip_until {
                if closing && &name == wanted {
                    skip_until = None;
                }
                continue;
            }
            if !closing && SKIPPED.contains(&name.as_str()) && !tag.ends_with('/') {
                skip_until = Some(name);
                continue;
            }
            if name == "pre" {
                pre_depth = if closing {
                    pre_depth.saturating_sub(1)
                } else {
                    pre_depth + 1
                };
            }
            if PARAGRAPH.contains(&name.as_str()) {
                out.push_str("\n\n");
            } else if LINE.contains(&name.as_str()) {
                out.push('\n');
            } else if name == "td" || name == "th" {
                out.push(' ');
            }
            continue;
        }
        let end = rest.find('<').unwrap_or(rest.len());
        let text = &rest[..end];
        rest = &rest[end..];
        if skip_until.is_some() {
            continue;
        }
        let text = decode_entities(text);
        if pre_depth > 0 {
            out.push_str(&text);
        } else {
            // Source line breaks inside a paragraph are just whitespace.
            let mut last_space = out.ends_with([' ', '\n']);
            for c in text.chars() {
                if c.is_whitespace() && c != '\u{a0}' && c != '\u{3000}' {
                    if !last_space {
                        out.push(' ');
                        last_space = true;
                    }
                } else {
                    out.push(c);
                    last_space = false;
                }
            }
        }
    }
    tidy(&out)
}

/// Trims each line and collapses runs of blank lines to one.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\u{a0}');
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map_or(rest.len(), |e| e + 1);
        let decoded = entity(&rest[1..end]).map(|c| {
            let consumed = if rest[end..].starts_with(';') {
                end + 1
            } else {
                end
            };
            (c, consumed)
        });
        match decoded {
            Some((c, consumed)) => {
                out.push(c);
                rest = &rest[consumed..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return Some(char::from_u32(code).unwrap_or('\u{FFFD}'));
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ldquo" => '“',
        "rdquo" => '”',
        "lsquo" => '‘',
        "rsquo" => '’',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "middot" => '·',
        "copy" => '©',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_survive() {
        let html = "<html><head><title>t</title><style>p{}</style></head><body>\
            <p>第一段\n文字</p><p>Second &amp; <b>bold</b></p><div>line<br>break</div>\
            <script>alert(1)</script><!-- c --></body></html>";
        assert_eq!(
            html_to_text(html),
            "第一段 文字\n\nSecond & bold\n\nline\nbreak"
        );
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("&#25945;&#x80B2; &lt;x&gt; &bogus; & &amp"),
            "教育 <x> &bogus; & &"
        );
    }

    #[test]
    fn sanitizer_removes_active_content() {
        let clean = sanitize("<p onclick=\"x()\">hi</p><script>evil()</script>");
        assert_eq!(clean, "<p>hi</p>");
    }

    #[test]
    fn images_are_not_kept_a_remote_one_would_tell_the_sender_it_was_read() {
        let clean = sanitize("<p>hi<img src=\"https://tracker.example.org/p.gif\"></p>");
        assert_eq!(clean, "<p>hi</p>");
    }

    #[test]
    fn nesting_beyond_the_limit_is_flattened_keeping_the_text() {
        let deep = format!("{}x{}", "<div>".repeat(1000), "</div>".repeat(1000));
        let flat = flatten(&deep, 3);
        assert_eq!(flat, "<div><div><div>x</div></div></div>");
        // Tags within the limit, void and self-closing ones stay as they are.
        let shallow = "<p>a<br>b<img src=x/><span>c</span></p>";
        assert!(matches!(flatten(shallow, 3), Cow::Borrowed(_)));
        let clean = sanitize(&format!(
            "{}深{}",
            "<b>".repeat(200_000),
            "</b>".repeat(200_000)
        ));
        assert!(clean.contains('深'));
        assert!(clean.matches("<b>").count() <= MAX_DEPTH);
    }

    #[test]
    fn unterminated_markup_does_not_panic() {
        for s in [
            "<", "<p", "&", "&#", "&#xZZ;", "<!--", "<script>", "a<b>c</",
        ] {
            let _ = html_to_text(s);
            let _ = flatten(s, 1);
        }
    }

    #[test]
    fn an_unclosed_tag_ending_in_a_wide_character_is_read_to_the_end() {
        // Found by the html fuzz target: the tag's last byte was taken to be
        // a `>` and cut inside the character.
        assert_eq!(html_to_text("甲<p>乙<i深"), "甲\n\n乙");
        assert_eq!(flatten("<div>甲<div深", 1), "<div>甲");
        assert_eq!(tag_at("<i深"), ("i深", "<i深".len()));
    }
}
