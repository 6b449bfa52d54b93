//! A misspelt key, explained (pure): the line it is on, and the key it
//! was probably meant to be, rather than a bare list of valid keys.

/// The message for a key serde refused: `message` is serde's first line,
/// `key` the dotted path, `text` the config file.
pub fn explain(key: &str, message: &str, text: &str) -> String {
    let message = message.lines().next().unwrap_or_default().trim();
    let Some((unknown, expected)) = unknown_field(message) else {
        return message.to_string();
    };
    let line = line_of(unknown, text)
        .map(|n| format!("line {n}: "))
        .unwrap_or_default();
    let nearest = expected
        .iter()
        .map(|candidate| (distance(unknown, candidate), candidate))
        .filter(|(d, candidate)| *d <= candidate.chars().count().div_ceil(3).max(1))
        .min();
    let field = key.rsplit('.').next().unwrap_or(key);
    match nearest {
        Some((_, guess)) => format!(
            "{line}unknown key `{field}`: did you mean `{guess}`? (valid here: {})",
            expected.join(", ")
        ),
        None => format!(
            "{line}unknown key `{field}` (valid here: {})",
            expected.join(", ")
        ),
    }
}

/// serde's `unknown field `x`, expected one of `a`, `b`` (or
/// `expected `a``), taken apart.
fn unknown_field(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let expected = rest.split('`').skip(1).step_by(2).collect::<Vec<_>>();
    Some((unknown, expected))
}

/// The 1-based line where `key` is set (`key = …`), if it is there.
fn line_of(key: &str, text: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_gets_its_line_and_the_key_it_meant() {
        let text = "[general]\ntime_zon = 'Asia/Shanghai'\n";
        let serde =
            "unknown field `time_zon`, expected one of `time_zone`, `own_addresses`\nin `general`";
        assert_eq!(
            explain("general.time_zon", serde, text),
            "line 2: unknown key `time_zon`: did you mean `time_zone`? (valid here: time_zone, own_addresses)"
        );
    }

    #[test]
    fn a_key_like_no_other_gets_the_list_and_other_errors_their_first_line() {
        let serde = "unknown field `colour`, expected `listen`";
        assert_eq!(
            explain("api.colour", serde, "[api]\ncolour = 1\n"),
            "line 2: unknown key `colour` (valid here: listen)"
        );
        assert_eq!(
            explain("x", "invalid type: integer\nin `x`", ""),
            "invalid type: integer"
        );
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
