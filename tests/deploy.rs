//! The deployment files: the systemd unit is valid and hardened
//! (`systemd-analyze verify` / `security`, when systemd-analyze is
//! installed), and the unit, sysusers/tmpfiles entries, Debian package
//! layout and the example config all name the same paths and credentials,
//! so none of them can drift from the others unnoticed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const MAX_EXPOSURE: f64 = 2.0;

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// `key=value` assignments in file order, as `(section, key, value)`.
/// Enough for our own unit: no line continuations, no quoting.
fn unit_entries(text: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut entries = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if let Some((key, value)) = line.split_once('=') {
            entries.push((section.clone(), key.trim().into(), value.trim().into()));
        } else {
            panic!("unparseable unit line: {line}");
        }
    }
    entries
}

struct Unit {
    entries: Vec<(String, String, String)>,
}

impl Unit {
    fn load() -> Unit {
        Unit {
            entries: unit_entries(&read("deploy/slushpile.service")),
        }
    }

    fn all(&self, key: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(section, k, _)| section == "Service" && k == key)
            .map(|(_, _, v)| v.as_str())
            .collect()
    }

    fn one(&self, key: &str) -> &str {
        match self.all(key)[..] {
            [value] => value,
            ref values => panic!("[Service] {key}= set {} times", values.len()),
        }
    }

    fn exec_start(&self) -> Vec<&str> {
        self.one("ExecStart").split_whitespace().collect()
    }

    fn config_path(&self) -> &str {
        let argv = self.exec_start();
        let at = argv
            .iter()
            .position(|a| *a == "--config")
            .expect("ExecStart passes --config");
        argv[at + 1]
    }

    /// Credential name → the file it is loaded from.
    fn credentials(&self) -> Vec<(&str, &str)> {
        self.all("LoadCredential")
            .into_iter()
            .map(|v| v.split_once(':').expect("LoadCredential=ID:PATH"))
            .collect()
    }

    fn state_dir(&self) -> PathBuf {
        Path::new("/var/lib").join(self.one("StateDirectory"))
    }

    fn config_dir(&self) -> PathBuf {
        Path::new("/etc").join(self.one("ConfigurationDirectory"))
    }
}

fn example_config() -> toml::Table {
    read("config/slushpile.example.toml")
        .parse()
        .expect("example config is TOML")
}

fn credential_names_in(config: &toml::Table) -> BTreeSet<String> {
    let mut sections: Vec<&toml::Table> = Vec::new();
    for key in ["mailbox", "maildir"] {
        if let Some(list) = config.get(key).and_then(|v| v.as_array()) {
            sections.extend(list.iter().filter_map(|v| v.as_table()));
        }
    }
    sections.extend(config.get("smtp").and_then(|v| v.as_table()));
    sections
        .iter()
        .filter_map(|t| t.get("password_credential")?.as_str())
        .map(String::from)
        .collect()
}

#[test]
fn unit_and_example_config_agree_on_paths_and_credentials() {
    let unit = Unit::load();
    let config = example_config();

    assert_eq!(unit.exec_start()[0], "/usr/bin/slushpile");
    assert_eq!(unit.exec_start().last(), Some(&"run"));
    let config_path = Path::new(unit.config_path());
    assert_eq!(config_path, Path::new("/etc/slushpile/slushpile.toml"));
    assert_eq!(config_path.parent(), Some(unit.config_dir().as_path()));
    // The daemon's built-in default is documented at the top of the example;
    // the unit passes it explicitly, and the two must be the same file.
    assert!(
        read("config/slushpile.example.toml").contains(unit.config_path()),
        "example config does not mention {}",
        unit.config_path()
    );

    let store = config["store"]["url"].as_str().unwrap();
    let db = Path::new(store.strip_prefix("sqlite://").expect("sqlite store"));
    assert_eq!(
        db.parent(),
        Some(unit.state_dir().as_path()),
        "the SQLite store must live in StateDirectory=, the only writable path"
    );

    let templates = Path::new(config["ack"]["templates"].as_str().unwrap());
    assert!(
        templates.starts_with(unit.config_dir()),
        "ack templates {} outside ConfigurationDirectory=",
        templates.display()
    );

    let used = credential_names_in(&config);
    let loaded: BTreeSet<String> = unit
        .credentials()
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    assert!(!used.is_empty());
    assert_eq!(used, loaded, "password_credential names vs LoadCredential=");
    let defaults: BTreeSet<String> = unit
        .all("SetCredential")
        .iter()
        .map(|v| v.split_once(':').unwrap().0.to_string())
        .collect();
    assert_eq!(
        loaded, defaults,
        "every LoadCredential= needs a SetCredential= fallback to stay optional"
    );
    for (name, path) in unit.credentials() {
        assert_eq!(
            Path::new(path),
            unit.config_dir().join("credentials").join(name)
        );
    }
}

#[test]
fn sysusers_tmpfiles_and_package_layout_agree_with_the_unit() {
    let unit = Unit::load();
    let state_dir = unit.state_dir();
    let user = unit.one("User");
    assert_eq!(unit.one("Group"), user);
    assert!(unit.all("DynamicUser").is_empty());

    let sysusers = read("deploy/sysusers.d/slushpile.conf");
    let account = sysusers
        .lines()
        .find(|l| l.starts_with("u "))
        .expect("a u line");
    assert_eq!(account.split_whitespace().nth(1), Some(user));
    assert!(
        account.trim_end().ends_with(state_dir.to_str().unwrap()),
        "home of {user} should be {}",
        state_dir.display()
    );

    let tmpfiles = read("deploy/tmpfiles.d/slushpile.conf");
    let credentials_dir = unit.config_dir().join("credentials");
    let expect = [
        format!("d {} 0700 root root -", credentials_dir.display()),
        format!("d {} 0700 {user} {user} -", state_dir.display()),
    ];
    for line in expect {
        assert!(tmpfiles.lines().any(|l| l == line), "tmpfiles lacks {line}");
    }

    let cargo: toml::Table = read("Cargo.toml").parse().unwrap();
    let deb = &cargo["package"]["metadata"]["deb"];
    let assets: Vec<(&str, &str)> = deb["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a[0].as_str().unwrap(), a[1].as_str().unwrap()))
        .collect();
    let installs = |source: &str| {
        assets
            .iter()
            .find(|(s, _)| *s == source)
            .unwrap_or_else(|| panic!("{source} is not packaged"))
            .1
    };
    assert_eq!(
        Path::new("/").join(installs("target/package/slushpile")),
        Path::new(unit.exec_start()[0]).parent().unwrap()
    );
    // What is packaged is the release binary without its debug info.
    let package = read("scripts/package");
    assert!(
        package.contains("--strip-debug")
            && package.contains("target/release/slushpile target/package/slushpile"),
        "scripts/package makes the stripped binary it packages"
    );
    // Packaging the example as the active config would start the daemon on
    // placeholder addresses; it must sit next to it under another name.
    let example = Path::new("/").join(installs("config/slushpile.example.toml"));
    assert_ne!(example, Path::new(unit.config_path()));
    assert_eq!(example.parent(), Path::new(unit.config_path()).parent());
    let config = example_config();
    assert_eq!(
        Path::new("/").join(installs("config/templates/*")),
        Path::new(config["ack"]["templates"].as_str().unwrap())
    );
    // Every shipped template is a conffile: an admin's edits survive upgrades.
    let conf_files: Vec<&str> = deb["conf-files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    for entry in std::fs::read_dir(repo("config/templates")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let installed = format!("/etc/slushpile/templates/{name}");
        assert!(
            conf_files.contains(&installed.as_str()),
            "{installed} is not a conf-file"
        );
    }
    let units = &deb["systemd-units"];
    let unit_dir = repo(units["unit-scripts"].as_str().unwrap());
    assert!(
        unit_dir.join("slushpile.service").is_file(),
        "cargo-deb packages the unit from unit-scripts = {}",
        unit_dir.display()
    );
    assert_eq!(units["enable"].as_bool(), Some(false));
    assert_eq!(units["start"].as_bool(), Some(false));
}

#[test]
fn exec_start_arguments_are_accepted_by_the_binary() {
    // `--help` after the subcommand makes clap validate the whole argv
    // without loading the (absent) /etc config.
    let argv = Unit::load()
        .exec_start()
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>();
    let output = Command::new(env!("CARGO_BIN_EXE_slushpile"))
        .args(&argv[1..])
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", lossy(&output));
}

fn systemd_analyze() -> Option<&'static str> {
    match Command::new("systemd-analyze").arg("--version").output() {
        Ok(output) if output.status.success() => Some("systemd-analyze"),
        _ => {
            eprintln!("skipped: systemd-analyze is not installed (Debian package `systemd`)");
            None
        }
    }
}

fn lossy(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A copy of the unit, named like the original (systemd-analyze derives the
/// unit name from the file name), whose ExecStart is the binary under test:
/// `verify` rejects an ExecStart that does not exist, and /usr/bin/slushpile
/// does not on a build machine.
fn unit_copy(dir: &Path, edit: impl Fn(&str) -> String) -> PathBuf {
    let text = read("deploy/slushpile.service")
        .replace(
            "ExecStart=/usr/bin/slushpile ",
            &format!("ExecStart={} ", env!("CARGO_BIN_EXE_slushpile")),
        )
        .replace("\r\n", "\n");
    let path = dir.join("slushpile.service");
    std::fs::write(&path, edit(&text)).unwrap();
    path
}

/// `systemd-analyze verify` exits 0 even for unknown keys and invalid
/// values, printing them as warnings; so every stderr line about our unit
/// counts as a failure. Lines about other units (network-online.target and
/// whatever the host's own units pull in) are the host's business and only
/// printed.
fn verify_problems(unit: &Path) -> Vec<String> {
    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(unit)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut problems = Vec::new();
    if !output.status.success() {
        problems.push(format!("exit status {}", output.status));
    }
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        // "/lib/systemd/system/x.service:12: …" or "x.service: …"
        let about = line.split_once(':').map_or("", |(about, _)| about);
        let other_unit = !about.is_empty()
            && !about.contains(char::is_whitespace)
            && !about.contains("slushpile")
            && (about.starts_with('/') || about.contains('.'));
        if other_unit {
            eprintln!("host unit warning, ignored: {line}");
        } else {
            problems.push(line.to_string());
        }
    }
    problems
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    if systemd_analyze().is_none() {
        return;
    }
    // The User= account need not exist: verify only loads the unit, it does
    // not resolve users, so no --root or fake passwd is needed.
    let dir = tempfile::tempdir().unwrap();
    let problems = verify_problems(&unit_copy(dir.path(), str::to_string));
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The check above must be able to fail: a misspelt key and a
    // SetCredential= without value (what made the credentials' fallback
    // silently vanish once) are only warnings to systemd-analyze.
    let broken = unit_copy(dir.path(), |text| {
        text.replace("ProtectHome=yes", "ProtectHomes=yes").replace(
            "SetCredential=imap-password:\\n",
            "SetCredential=imap-password:",
        )
    });
    let problems = verify_problems(&broken);
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

#[test]
fn systemd_analyze_security_exposure_is_low() {
    if systemd_analyze().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_copy(dir.path(), str::to_string);
    let output = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let exposure: f64 = stdout
        .lines()
        .find_map(|l| l.split_once("Overall exposure level for slushpile.service:"))
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no overall exposure level in\n{}", lossy(&output)));
    let remaining: Vec<&str> = stdout.lines().filter(|l| l.starts_with('✗')).collect();
    eprintln!("exposure {exposure}; remaining:\n{}", remaining.join("\n"));
    assert!(
        exposure <= MAX_EXPOSURE,
        "exposure {exposure} > {MAX_EXPOSURE}:\n{}",
        remaining.join("\n")
    );
}
