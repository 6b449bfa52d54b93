//! Text from a submission shown where it could act instead of being read
//! (pure): a terminal obeys escape sequences, CR and LF split a one-line
//! row, and bidi overrides make `invoice<U+202E>txt.exe` read as `invoiceexe.txt`.
//! Such characters are shown as visible stand-ins instead.

use std::borrow::Cow;

/// Characters that reorder the text around them: bidi embeddings,
/// overrides and isolates, and the direction marks.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// What a terminal must never be handed raw: C0 and C1 controls, DEL, and
/// bidi controls. Tab always, and newline in `multiline` text, are kept.
fn is_unsafe(c: char, multiline: bool) -> bool {
    match c {
        '\t' => false,
        '\n' => !multiline,
        c => c.is_control() || is_bidi_control(c),
    }
}

/// `text` for a terminal: each unsafe character becomes a visible
/// stand-in (`␛` for ESC, `␊` for a newline in a one-line field,
/// `<U+202E>` for a bidi override), so what is printed is what was sent.
pub fn for_terminal(text: &str, multiline: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c, multiline)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !is_unsafe(c, multiline) {
            out.push(c);
        } else if let Some(picture) = control_picture(c) {
            out.push(picture);
        } else {
            out.push_str(&format!("<U+{:04X}>", u32::from(c)));
        }
    }
    Cow::Owned(out)
}

/// Unicode's Control Pictures block: one for each C0 control and DEL.
fn control_picture(c: char) -> Option<char> {
    match u32::from(c) {
        n @ 0..=0x1F => char::from_u32(0x2400 + n),
        0x7F => Some('\u{2421}'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_line_breaks_are_shown_not_obeyed() {
        let subject = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{1b}[31mRED";
        assert_eq!(for_terminal(subject, false), "␛]0;owned␇␛[2J␛[31mRED");
        assert_eq!(for_terminal("a\r\nb", false), "a␍␊b");
        assert_eq!(for_terminal("a\nb\tc", true), "a\nb\tc");
        assert_eq!(for_terminal("csi \u{9b}31m", true), "csi <U+009B>31m");
    }

    #[test]
    fn bidi_overrides_cannot_disguise_a_name() {
        assert_eq!(
            for_terminal("invoice\u{202E}txt.exe", false),
            "invoice<U+202E>txt.exe"
        );
        assert!(matches!(
            for_terminal("上好戰疫這堂課.docx", false),
            Cow::Borrowed(_)
        ));
    }
}
