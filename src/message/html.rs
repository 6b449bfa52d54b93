//! HTML bodies: sanitizing for display and reading text out of them.

/// Sanitized HTML for the editors' view: ammonia's default policy (no
/// scripts, event handlers or other active content), plus `cid:` URLs so
/// the view can point inline images at their attachments, and without the
/// text of `<title>`/`<head>`, which would otherwise leak into the body.
pub fn sanitize(html: &str) -> String {
    let mut schemes = ammonia::Builder::default().clone_url_schemes();
    schemes.insert("cid");
    ammonia::Builder::default()
        .url_schemes(schemes)
        .clean_content_tags(["script", "style", "title", "head"].into_iter().collect())
        .clean(html)
        .to_string()
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
            let end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let tag = &rest[1..end.saturating_sub(1).max(1)];
            rest = &rest[end..];
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
    fn unterminated_markup_does_not_panic() {
        for s in [
            "<", "<p", "&", "&#", "&#xZZ;", "<!--", "<script>", "a<b>c</",
        ] {
            let _ = html_to_text(s);
        }
    }
}
