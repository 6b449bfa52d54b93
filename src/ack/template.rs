//! The templates of everything written to contributors: the
//! acknowledgement and the letters (accept, revise, decline, status
//! answer, withdrawal confirmation), each in zh-Hant, zh-Hans and en, as
//! `KIND.LANG.txt`: `Subject:` line, blank line, body, with
//! `{placeholder}`s. Loaded and checked at start-up, so a typo is reported
//! before the first contributor writes, not when their mail fails.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::ack::Language;
use crate::draft::LetterKind;

/// What a template may refer to.
pub const PLACEHOLDERS: [&str; 11] = [
    "reference",
    "title",
    "received_at",
    "attachments",
    "name",
    "publication",
    "note",
    "decided_at",
    "respond_by",
    "response_within",
    "status",
];

/// Which mail a template writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateKind {
    Ack,
    Letter(LetterKind),
}

impl TemplateKind {
    pub const ALL: [TemplateKind; 6] = [
        TemplateKind::Ack,
        TemplateKind::Letter(LetterKind::Accept),
        TemplateKind::Letter(LetterKind::Revise),
        TemplateKind::Letter(LetterKind::Decline),
        TemplateKind::Letter(LetterKind::Status),
        TemplateKind::Letter(LetterKind::Withdrawn),
    ];

    pub fn name(self) -> &'static str {
        match self {
            TemplateKind::Ack => "ack",
            TemplateKind::Letter(kind) => kind.as_str(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    // `error`, not `source`: the reason is said once, not again as a cause.
    #[error("cannot read template {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("template {path}, line {line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Field(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Text(Vec<Piece>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    subject: Text,
    body: Text,
}

#[derive(Debug, Clone)]
pub struct Templates(HashMap<(TemplateKind, Language), Template>);

impl Templates {
    /// Loads every kind in every language from `dir`. An acknowledgement
    /// directory written before zh-Hant existed has `ack.zh.txt` for
    /// Simplified Chinese: it is read when `ack.zh-Hans.txt` is missing.
    pub fn load(dir: &Path) -> Result<Templates, TemplateError> {
        let mut all = HashMap::new();
        for kind in TemplateKind::ALL {
            for lang in Language::ALL {
                let mut path = dir.join(format!("{}.{}.txt", kind.name(), lang.code()));
                let legacy = dir.join("ack.zh.txt");
                if kind == TemplateKind::Ack
                    && lang == Language::ZhHans
                    && !path.exists()
                    && legacy.exists()
                {
                    path = legacy;
                }
                let text = std::fs::read_to_string(&path).map_err(|error| TemplateError::Read {
                    path: path.clone(),
                    error,
                })?;
                let template =
                    Template::parse(&text).map_err(|(line, message)| TemplateError::Invalid {
                        path,
                        line,
                        message,
                    })?;
                all.insert((kind, lang), template);
            }
        }
        Ok(Templates(all))
    }

    pub fn get(&self, kind: TemplateKind, lang: Language) -> &Template {
        // `load` filled every (kind, language) pair.
        &self.0[&(kind, lang)]
    }
}

impl Template {
    /// Errors carry the 1-based line.
    pub fn parse(text: &str) -> Result<Template, (usize, String)> {
        let text = text.replace("\r\n", "\n");
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let subject = first
            .strip_prefix("Subject:")
            .ok_or((1, "the first line must be `Subject: …`".to_string()))?
            .trim();
        let body = rest
            .strip_prefix('\n')
            .ok_or((2, "a blank line must follow the subject".to_string()))?;
        Ok(Template {
            subject: parse_text(subject, 1)?,
            body: parse_text(body.trim_end(), 3)?,
        })
    }

    /// Every placeholder gets a value: unknown names were refused at parse.
    /// A placeholder left empty (no note to the author) leaves no run of
    /// blank lines behind.
    pub fn render(&self, values: &HashMap<&str, String>) -> (String, String) {
        let mut body = self.body.render(values);
        while body.contains("\n\n\n") {
            body = body.replace("\n\n\n", "\n\n");
        }
        (self.subject.render(values), body)
    }
}

impl Text {
    fn render(&self, values: &HashMap<&str, String>) -> String {
        self.0
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.as_str(),
                Piece::Field(name) => values.get(name).map_or("", String::as_str),
            })
            .collect()
    }
}

/// `{name}` is a placeholder; `{{` and `}}` are literal braces.
fn parse_text(text: &str, first_line: usize) -> Result<Text, (usize, String)> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    let mut line = first_line;
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let field = PLACEHOLDERS.iter().find(|p| **p == name).ok_or_else(|| {
                    (
                        line,
                        format!(
                            "unknown placeholder {{{name}}}: expected one of {}",
                            PLACEHOLDERS.join(", ")
                        ),
                    )
                })?;
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
                pieces.push(Piece::Field(field));
            }
            '}' => {
                return Err((
                    line,
                    "unmatched `}` (write `}}` for a literal brace)".into(),
                ));
            }
            '\n' => {
                line += 1;
                literal.push(c);
            }
            _ => literal.push(c),
        }
    }
    pieces.push(Piece::Text(literal));
    Ok(Text(pieces))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_and_literal_braces() {
        let t = Template::parse("Subject: Got {title}\n\nRef {reference} {{x}}\n").unwrap();
        let values = HashMap::from([
            ("title", "诗".to_string()),
            ("reference", "SP-1".to_string()),
        ]);
        assert_eq!(t.render(&values), ("Got 诗".into(), "Ref SP-1 {x}".into()));
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(Template::parse("Hello").unwrap_err().0, 1);
        assert_eq!(Template::parse("Subject: x\nbody").unwrap_err().0, 2);
        let (line, message) = Template::parse("Subject: x\n\nok\n{refrence}").unwrap_err();
        assert_eq!(line, 4);
        assert!(message.contains("{refrence}"), "{message}");
    }

    #[test]
    fn an_empty_placeholder_leaves_no_gap() {
        let t = Template::parse("Subject: s\n\nDear you,\n\n{note}\n\nBest").unwrap();
        let values = HashMap::from([("note", String::new())]);
        assert_eq!(t.render(&values).1, "Dear you,\n\nBest");
    }

    #[test]
    fn shipped_templates_load_and_read_as_an_editorial_office_writes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
        let templates = Templates::load(&dir).unwrap();
        let values: HashMap<&str, String> = PLACEHOLDERS
            .iter()
            .map(|p| (*p, format!("<{p}>")))
            .collect();
        for kind in TemplateKind::ALL {
            for lang in Language::ALL {
                let (subject, body) = templates.get(kind, lang).render(&values);
                let which = format!("{}.{}", kind.name(), lang.code());
                assert!(subject.contains("<reference>"), "{which}: {subject}");
                for jargon in ["送签", "送簽", "签发", "簽發", "sign-off", "signed off"] {
                    assert!(!body.contains(jargon), "{which} says {jargon}");
                }
                if lang.is_chinese() {
                    // Full-width punctuation, one set of title brackets.
                    for half in [",", ":", ";", "?", "!", "(", ")"] {
                        let text = format!("{subject}{body}").replace("<", "").replace(">", "");
                        assert!(!text.contains(half), "{which} has half-width {half:?}");
                    }
                    assert!(!subject.contains("《《"), "{which}: {subject}");
                }
            }
        }
    }
}
