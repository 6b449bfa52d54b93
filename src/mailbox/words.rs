//! What an IMAP server said, in words (pure). async-imap hands its NO and
//! BAD answers over as Rust debug text (`code: None, info:
//! Some("[AUTHENTICATIONFAILED] Authentication failed.")`); people are shown
//! the server's own sentence, and after a refused login, where the password
//! came from and what the big Chinese providers want instead.

use crate::config::MailboxConfig;

/// `text` with async-imap's debug rendering of a server answer replaced by
/// the server's words.
pub fn server_words(text: &str) -> String {
    let Some(start) = text.find("code: ") else {
        return text.to_string();
    };
    let (before, rest) = text.split_at(start);
    let said = match rest.split_once("info: Some(\"") {
        Some((_, quoted)) => unescape(quoted.rsplit_once("\")").map_or(quoted, |(q, _)| q)),
        None => "no reason given".to_string(),
    };
    format!("{before}{said}")
}

/// Rust's debug escapes inside a quoted string, undone.
fn unescape(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(next @ ('"' | '\\'))) => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// Providers whose IMAP takes a client authorization code, not the web
/// login password.
const AUTHORIZATION_CODE_HOSTS: [&str; 6] = [
    "126.com",
    "163.com",
    "yeah.net",
    "188.com",
    "qq.com",
    "foxmail.com",
];

/// Why a login was refused, said so that the reader knows what to change.
pub fn refused_login(config: &MailboxConfig, server_said: &str) -> String {
    let source = if let Some(file) = &config.password_file {
        format!("password_file {}", file.display())
    } else if let Some(var) = &config.password_env {
        format!("password_env {var}")
    } else if let Some(name) = &config.password_credential {
        format!("credential `{name}`")
    } else {
        "no password source".to_string()
    };
    let host = config.host.to_ascii_lowercase();
    let hint = if AUTHORIZATION_CODE_HOSTS
        .iter()
        .any(|h| host == *h || host.ends_with(&format!(".{h}")))
    {
        "; 126.com, 163.com, QQ Mail and Foxmail want the client authorization code \
         (授權碼 / 授权码) from the web mailbox's settings, not the web login password"
    } else {
        ""
    };
    format!(
        "the server refused the credentials: {} (the password from {source}){hint}",
        server_words(server_said.trim())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_text_becomes_the_servers_words() {
        assert_eq!(
            server_words(
                "code: None, info: Some(\"[AUTHENTICATIONFAILED] Authentication failed.\")"
            ),
            "[AUTHENTICATIONFAILED] Authentication failed."
        );
        assert_eq!(
            server_words("No Response: code: None, info: Some(\"say \\\"no\\\"\")"),
            "No Response: say \"no\""
        );
        assert_eq!(server_words("code: None, info: None"), "no reason given");
        assert_eq!(server_words("connection reset"), "connection reset");
    }

    #[test]
    fn a_refused_login_names_the_password_source_and_the_providers_rule() {
        let mut config: MailboxConfig = toml::from_str(
            "name = 'm'\nhost = 'imap.126.com'\nusername = 'u@126.com'\npassword_credential = 'imap-password'\n",
        )
        .unwrap();
        let said = "code: None, info: Some(\"ERR.LOGIN.PASSERR\")";
        let message = refused_login(&config, said);
        assert!(message.contains("ERR.LOGIN.PASSERR"), "{message}");
        assert!(message.contains("credential `imap-password`"), "{message}");
        assert!(message.contains("授權碼"), "{message}");
        assert!(!message.contains("info:"), "{message}");
        config.host = "imap.example.org".into();
        assert!(!refused_login(&config, said).contains("授權碼"));
    }
}
