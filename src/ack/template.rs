//! Acknowledgement templates: `Subject:` line, blank line, body, with
//! `{placeholder}`s. Loaded and checked at start-up, so a typo is reported
//! before the first contributor writes, not when their acknowledgement fails.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::ack::Language;

/// What a template may refer to.
pub const PLACEHOLDERS: [&str; 6] = [
    "reference",
    "title",
    "received_at",
    "attachments",
    "name",
    "publication",
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read template {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
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
pub struct Templates {
    zh: Template,
    en: Template,
}

impl Templates {
    /// Loads `ack.zh.txt` and `ack.en.txt` from `dir`.
    pub fn load(dir: &Path) -> Result<Templates, TemplateError> {
        let load = |lang: Language| {
            let path = dir.join(format!("ack.{}.txt", lang.code()));
            let text = std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
                path: path.clone(),
                source,
            })?;
            Template::parse(&text).map_err(|(line, message)| TemplateError::Invalid {
                path,
                line,
                message,
            })
        };
        Ok(Templates {
            zh: load(Language::Zh)?,
            en: load(Language::En)?,
        })
    }

    pub fn get(&self, lang: Language) -> &Template {
        match lang {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
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
    pub fn render(&self, values: &HashMap<&str, String>) -> (String, String) {
        (self.subject.render(values), self.body.render(values))
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
    fn shipped_templates_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates");
        Templates::load(&dir).unwrap();
    }
}
