//! Which language to write to a contributor in (pure): the language of
//! their submission. Big5 mail decodes to Traditional characters and GB mail
//! to Simplified ones, so the characters decide between zh-Hant and
//! zh-Hans; mostly Latin text gets English; text that says nothing either
//! way gets the configured default.

use crate::config::ack::Language;

/// Frequent characters written differently in the two scripts, pairwise
/// (Traditional, Simplified); a character shared by both says nothing.
pub(crate) const TRADITIONAL: &str = "這個們來說時會對國學過還麼為發經後現從開關問實點樣頭體與當兩進動長種東車見間無親話氣書愛認請題應讓誰陽聽聲處歡錄讀編輯簽覆謝審隨紀響議論習傳統歲漢語詩寫機構員務陳網際區劃貓門義產業報導記憶戰雜誌樂歷臺灣買賣頁藝術師電腦";
const SIMPLIFIED: &str = "这个们来说时会对国学过还么为发经后现从开关问实点样头体与当两进动长种东车见间无亲话气书爱认请题应让谁阳听声处欢录读编辑签复谢审随纪响议论习传统岁汉语诗写机构员务陈网际区划猫门义产业报导记忆战杂志乐历台湾买卖页艺术师电脑";

/// The language of `text` (a submission's title and body).
pub fn language_of(text: &str, default: Language) -> Language {
    let (mut traditional, mut simplified, mut other_cjk, mut latin) = (0usize, 0, 0, 0);
    for c in text.chars().take(8000) {
        let in_traditional = TRADITIONAL.contains(c);
        let in_simplified = SIMPLIFIED.contains(c);
        match (in_traditional, in_simplified) {
            (true, false) => traditional += 1,
            (false, true) => simplified += 1,
            _ if is_cjk(c) => other_cjk += 1,
            _ if c.is_ascii_alphabetic() => latin += 1,
            _ => {}
        }
    }
    let cjk = traditional + simplified + other_cjk;
    if cjk == 0 && latin == 0 {
        return default;
    }
    // A CJK character carries about as much as a short Latin word.
    if cjk * 4 < latin {
        return Language::En;
    }
    match traditional.cmp(&simplified) {
        std::cmp::Ordering::Greater => Language::ZhHant,
        std::cmp::Ordering::Less => Language::ZhHans,
        // Chinese, but nothing tells the script apart: the default when it
        // is a Chinese one.
        std::cmp::Ordering::Equal if default.is_chinese() => default,
        std::cmp::Ordering::Equal => Language::ZhHant,
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_decides_between_traditional_and_simplified() {
        assert_eq!(
            language_of("教育部教師司：上好戰「疫」這堂課", Language::En),
            Language::ZhHant
        );
        assert_eq!(
            language_of("教育部教师司：上好战“疫”这堂课", Language::En),
            Language::ZhHans
        );
    }

    #[test]
    fn latin_text_is_english_and_silence_is_the_default() {
        assert_eq!(
            language_of("An essay on teaching online", Language::ZhHans),
            Language::En
        );
        assert_eq!(language_of("2026 !!!", Language::ZhHans), Language::ZhHans);
        assert_eq!(
            language_of("我的 essay about Shanghai 的故事", Language::En),
            Language::ZhHant
        );
        assert_eq!(
            language_of("我的 essay about Shanghai 的故事", Language::ZhHans),
            Language::ZhHans
        );
    }

    #[test]
    fn the_two_lists_pair_up() {
        assert_eq!(TRADITIONAL.chars().count(), SIMPLIFIED.chars().count());
    }
}
