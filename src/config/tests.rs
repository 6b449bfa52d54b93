use super::*;

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    let mut config = Config::from_toml(Path::new("/etc/slushpile/test.toml"), text, env)?;
    config.resolve_secrets()?;
    Ok(config)
}

const MINIMAL: &str = r#"
[store]
url = "sqlite://data/slushpile.db"

[[maildir]]
name = "local"
path = "maildir"
"#;

#[test]
fn relative_paths_are_relative_to_the_config_file() {
    let config = load(MINIMAL, &[]).unwrap();
    assert_eq!(
        config.store.url,
        "sqlite:///etc/slushpile/data/slushpile.db"
    );
    assert_eq!(config.maildirs[0].path, Path::new("/etc/slushpile/maildir"));
    assert_eq!(
        config.maildirs[0].processed_dir(),
        Path::new("/etc/slushpile/maildir/.Ingested")
    );
    assert_eq!(config.general.time_zone, "Asia/Shanghai");
}

#[test]
fn bad_value_names_file_key_and_expectation() {
    let text = format!(
        "{MINIMAL}\n[[mailbox]]\nname='m'\nhost='imap.example.org'\ntls='bogus'\nusername='u'\npassword_env='X'\n"
    );
    let message = load(&text, &[]).unwrap_err().to_string();
    assert!(message.contains("/etc/slushpile/test.toml"), "{message}");
    assert!(message.contains("mailbox[0].tls"), "{message}");
    assert!(message.contains("implicit"), "{message}");
}

#[test]
fn bad_duration_names_the_key() {
    let text = format!("{MINIMAL}poll_interval = \"10 parsecs\"\n");
    let message = load(&text, &[]).unwrap_err().to_string();
    assert!(message.contains("maildir[0].poll_interval"), "{message}");
}

#[test]
fn unknown_key_is_refused() {
    let text = MINIMAL.replace("[store]", "[store]\nurll = 'x'");
    let message = load(&text, &[]).unwrap_err().to_string();
    assert!(message.contains("urll"), "{message}");
}

#[test]
fn plaintext_refused_for_remote_host_and_allowed_for_loopback() {
    let mailbox = |host: &str| {
        format!(
            "{MINIMAL}\n[[mailbox]]\nname='m'\nhost='{host}'\ntls='none'\nusername='u'\npassword_env='PATH'\n"
        )
    };
    let message = load(&mailbox("imap.126.com"), &[]).unwrap_err().to_string();
    assert!(
        message.contains("mailbox[0].tls") && message.contains("imap.126.com"),
        "{message}"
    );
    assert!(load(&mailbox("127.0.0.1"), &[]).is_ok());
    assert!(load(&mailbox("localhost"), &[]).is_ok());
}

#[test]
fn environment_overrides_scalars_by_section_and_by_mailbox_name() {
    let text = format!(
        "{MINIMAL}\n[[mailbox]]\nname='submissions'\nhost='imap.example.org'\nusername='u'\npassword_env='PATH'\n"
    );
    let config = load(
        &text,
        &[
            (
                "SLUSHPILE_STORE__URL",
                "sqlite:///var/lib/slushpile/db.sqlite",
            ),
            ("SLUSHPILE_MAILBOX__SUBMISSIONS__PORT", "1993"),
            ("SLUSHPILE_LIMITS__MAX_PARTS", "9"),
            ("SLUSHPILE_CONFIG", "/ignored.toml"),
        ],
    )
    .unwrap();
    assert_eq!(config.store.url, "sqlite:///var/lib/slushpile/db.sqlite");
    assert_eq!(config.mailboxes[0].port(), 1993);
    assert_eq!(config.limits.max_parts, 9);
}

#[test]
fn password_never_shows_and_missing_source_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pw");
    std::fs::write(&file, "s3cret-value\n").unwrap();
    set_mode(&file, 0o644);
    let shared = load(&format!(
        "{MINIMAL}\n[[mailbox]]\nname='m'\nhost='imap.example.org'\nusername='u'\npassword_file='{}'\n",
        file.display()
    ), &[])
    .unwrap_err()
    .to_string();
    assert!(
        shared.contains("mailbox[0].password_file") && shared.contains("chmod 600"),
        "{shared}"
    );
    set_mode(&file, 0o600);
    let text = format!(
        "{MINIMAL}\n[[mailbox]]\nname='m'\nhost='imap.example.org'\nusername='u'\npassword_file='{}'\n",
        file.display()
    );
    let config = load(&text, &[]).unwrap();
    let password = config.mailboxes[0].password.as_ref().unwrap();
    assert_eq!(password.expose(), "s3cret-value");
    assert!(!format!("{config:?}").contains("s3cret"));

    let text = format!("{MINIMAL}\n[[mailbox]]\nname='m'\nhost='imap.example.org'\nusername='u'\n");
    let message = load(&text, &[]).unwrap_err().to_string();
    assert!(message.contains("mailbox[0].password_file"), "{message}");
}

#[test]
fn stall_after_defaults_to_15_minutes_and_must_exceed_the_poll_interval() {
    let config = load(MINIMAL, &[]).unwrap();
    assert_eq!(
        config.maildirs[0].stall_after,
        std::time::Duration::from_secs(900)
    );
    let text = format!("{MINIMAL}poll_interval = '10m'\nstall_after = '5m'\n");
    let message = load(&text, &[]).unwrap_err().to_string();
    assert!(message.contains("maildir[0].stall_after"), "{message}");
    assert!(message.contains("poll_interval (600s)"), "{message}");
    let text = format!(
        "{MINIMAL}\n[[mailbox]]\nname='m'\nhost='imap.example.org'\nusername='u'\npassword_env='PATH'\nstall_after='30s'\n"
    );
    let message = load(&text, &[]).unwrap_err().to_string();
    assert!(message.contains("mailbox[0].stall_after"), "{message}");
}

#[test]
fn oauth_needs_its_table_an_https_endpoint_and_a_refresh_token() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("refresh"), "1//token\n").unwrap();
    set_mode(&dir.path().join("refresh"), 0o600);
    let mailbox = |auth: &str, oauth: &str| {
        format!(
            "{MINIMAL}\n[[mailbox]]\nname='m'\nhost='imap.gmail.com'\nusername='u@example.org'\nauth='{auth}'\n{oauth}"
        )
    };
    let table = |url: &str, refresh: &str| {
        format!("[mailbox.oauth]\ntoken_url='{url}'\nclient_id='id'\n{refresh}\n")
    };
    let refresh = format!(
        "refresh_token_file='{}'",
        dir.path().join("refresh").display()
    );

    let config = load(
        &mailbox(
            "xoauth2",
            &table("https://oauth2.googleapis.com/token", &refresh),
        ),
        &[],
    )
    .unwrap();
    let oauth = config.mailboxes[0].oauth.as_ref().unwrap();
    assert_eq!(oauth.refresh_token.as_ref().unwrap().expose(), "1//token");
    assert!(oauth.client_secret.is_none());
    assert!(config.mailboxes[0].password.is_none());
    assert!(!format!("{config:?}").contains("1//token"));

    let message = load(&mailbox("xoauth2", ""), &[]).unwrap_err().to_string();
    assert!(
        message.contains("mailbox[0].oauth") && message.contains("token_url"),
        "{message}"
    );
    let message = load(
        &mailbox(
            "oauthbearer",
            &table("http://oauth.example.org/token", &refresh),
        ),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("mailbox[0].oauth.token_url") && message.contains("https"),
        "{message}"
    );
    assert!(
        load(
            &mailbox("xoauth2", &table("http://127.0.0.1:8080/token", &refresh)),
            &[]
        )
        .is_ok()
    );
    let message = load(
        &mailbox("xoauth2", &table("https://oauth2.googleapis.com/token", "")),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("mailbox[0].oauth.refresh_token_file"),
        "{message}"
    );
    let message = load(
        &mailbox(
            "password",
            &table("https://oauth2.googleapis.com/token", &refresh),
        ),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("mailbox[0].oauth") && message.contains("auth is \"password\""),
        "{message}"
    );
    let message = load(
        &mailbox(
            "xoauth2",
            &table(
                "https://oauth2.googleapis.com/token",
                "refresh_token_env='SLUSHPILE_TEST_UNSET_VARIABLE'",
            ),
        ),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("mailbox[0].oauth.refresh_token_env"),
        "{message}"
    );
}

#[test]
fn a_from_with_a_display_name_is_split_and_a_broken_one_named() {
    let smtp = |from: &str, name: &str| {
        format!(
            "{MINIMAL}\n[smtp]\ntransport='file'\ndirectory='outbox'\nfrom='{from}'\n{name}\n[ack]\n"
        )
    };
    let config = load(&smtp("Submissions <alice@example.net>", ""), &[]).unwrap();
    let sent_from = config.smtp.as_ref().unwrap();
    assert_eq!(sent_from.from, "alice@example.net");
    assert_eq!(sent_from.from_name.as_deref(), Some("Submissions"));
    // A from_name set on its own wins over the one in `from`.
    let config = load(
        &smtp("\"Old\" <alice@example.net>", "from_name='《旗幟》編輯部'"),
        &[],
    )
    .unwrap();
    let sent_from = config.smtp.as_ref().unwrap();
    assert_eq!(sent_from.from, "alice@example.net");
    assert_eq!(sent_from.from_name.as_deref(), Some("《旗幟》編輯部"));
    for broken in [
        "alice at example.net",
        "alice@",
        "a b@example.net",
        "<alice@example.net",
    ] {
        let message = load(&smtp(broken, ""), &[]).unwrap_err().to_string();
        assert!(
            message.contains("smtp.from") && message.contains("not an address"),
            "{message}"
        );
    }
}

#[test]
fn a_misspelt_key_is_named_with_its_line_and_the_key_meant() {
    let text = format!("{MINIMAL}\n[general]\ntime_zon = 'Asia/Taipei'\n");
    let message = load(&text, &[]).unwrap_err().to_string();
    assert!(
        message.contains("key `general.time_zon`")
            && message.contains("line 10:")
            && message.contains("did you mean `time_zone`?"),
        "{message}"
    );
    assert!(
        !message.contains("\nin `"),
        "no stray serde line: {message}"
    );
}

#[test]
fn a_bad_trusted_proxy_names_the_key_and_what_is_expected() {
    let text = format!(
        "{MINIMAL}\n[api]\nlisten = '127.0.0.1:8080'\ntrusted_proxies = ['10.0.0.0/8', 'proxy.example.org']\n"
    );
    let message = load(&text, &[]).unwrap_err().to_string();
    assert!(message.contains("api.trusted_proxies"), "{message}");
    assert!(
        message.contains("proxy.example.org") && message.contains("10.0.0.0/8"),
        "{message}"
    );
    let text = format!(
        "{MINIMAL}\n[api]\nlisten = '127.0.0.1:8080'\ntrusted_proxies = ['10.0.0.0/8', '::1']\n"
    );
    let config = load(&text, &[]).unwrap();
    assert_eq!(config.api.unwrap().trusted_proxies.len(), 2);
}
