//! Just enough of Rust's lexical structure to find module paths: comments,
//! string and character literals skipped, identifiers, `::` and the
//! punctuation of `use` trees and `mod` blocks kept.

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Semi,
    Comma,
    Star,
    Str(String),
    Punct(char),
}

pub fn lex(src: &str) -> Vec<Tok> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == b'"' {
            let start = i + 1;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            out.push(Tok::Str(src[start..i.min(b.len())].to_string()));
            i += 1;
        } else if c == b'\'' {
            let rest = &src[i + 1..];
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some('\\'), _) => {
                    i += 3;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                    i += 1;
                }
                (Some(ch), Some('\'')) => i += 2 + ch.len_utf8(),
                // A lifetime or label: its name lexes as a harmless ident.
                _ => i += 1,
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let word = &src[start..i];
            let raw_string = matches!(word, "r" | "br")
                && matches!(b.get(i), Some(b'"') | Some(b'#'))
                && b[i..].iter().find(|&&x| x != b'#') == Some(&b'"');
            if raw_string {
                let hashes = b[i..].iter().take_while(|&&x| x == b'#').count();
                let body = i + hashes + 1;
                let close = format!("\"{}", "#".repeat(hashes));
                let end = src[body..].find(&close).map_or(b.len(), |e| body + e);
                out.push(Tok::Str(src[body..end].to_string()));
                i = (end + close.len()).min(b.len());
            } else if word == "r" && b.get(i) == Some(&b'#') {
                // A raw identifier, r#type: the next word is the name.
                i += 1;
            } else {
                out.push(Tok::Ident(word.to_string()));
            }
        } else if c == b':' && b.get(i + 1) == Some(&b':') {
            out.push(Tok::PathSep);
            i += 2;
        } else {
            match c {
                b'{' => out.push(Tok::Open),
                b'}' => out.push(Tok::Close),
                b';' => out.push(Tok::Semi),
                b',' => out.push(Tok::Comma),
                b'*' => out.push(Tok::Star),
                c if c.is_ascii_punctuation() => out.push(Tok::Punct(c as char)),
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// A `use` leaf: the path as written and the name it binds (None for a glob).
pub struct UseLeaf {
    pub path: Vec<String>,
    pub name: Option<String>,
}

/// Parses a use tree starting at `toks[*i]`, up to (not past) `;`.
pub fn parse_use_tree(toks: &[Tok], i: &mut usize, prefix: &[String], out: &mut Vec<UseLeaf>) {
    let mut path = prefix.to_vec();
    loop {
        match toks.get(*i) {
            Some(Tok::Ident(seg)) => {
                path.push(seg.clone());
                *i += 1;
                if toks.get(*i) == Some(&Tok::PathSep) {
                    *i += 1;
                    continue;
                }
                let mut name = path.last().cloned();
                if name.as_deref() == Some("self") {
                    path.pop();
                    name = path.last().cloned();
                }
                if let (Some(Tok::Ident(kw)), Some(Tok::Ident(alias))) =
                    (toks.get(*i), toks.get(*i + 1))
                    && kw == "as"
                {
                    name = Some(alias.clone());
                    *i += 2;
                }
                out.push(UseLeaf { path, name });
                return;
            }
            Some(Tok::Star) => {
                *i += 1;
                out.push(UseLeaf { path, name: None });
                return;
            }
            Some(Tok::Open) => {
                *i += 1;
                while !matches!(toks.get(*i), Some(Tok::Close) | None) {
                    parse_use_tree(toks, i, &path, out);
                    if toks.get(*i) == Some(&Tok::Comma) {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            Some(Tok::PathSep) => *i += 1,
            _ => return,
        }
    }
}
