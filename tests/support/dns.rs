//! A private DNS server (dnsmasq) on a loopback port answering the fixture
//! zone `tests/fixtures/auth/zone.txt`, and nothing else: names under the
//! test domains are NXDOMAIN, there is no upstream.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::process::Guarded;

pub struct Dns {
    pub addr: SocketAddr,
    _server: Guarded,
}

impl Dns {
    pub fn start() -> Dns {
        let zone = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/auth/zone.txt"
        ))
        .expect("fixture zone");
        let port = super::free_port();
        let mut command = Command::new("/usr/sbin/dnsmasq");
        command.args([
            "--no-daemon",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            "--pid-file=",
            "--local=/example.org/",
            "--local=/example.net/",
            "--local=/test/",
        ]);
        command.arg(format!("--port={port}"));
        for line in zone
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let (name, text) = line.split_once('\t').expect("NAME<TAB>TEXT");
            // On the command line (unlike in dnsmasq.conf) quotes would be
            // part of the text; commas separate the strings.
            let strings: Vec<String> = text
                .as_bytes()
                .chunks(255)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            command.arg(format!("--txt-record={name},{}", strings.join(",")));
        }
        let server = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dnsmasq (Debian package dnsmasq-base; scripts/test installs it)");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "dnsmasq did not start on {addr}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Dns {
            addr,
            _server: Guarded(server),
        }
    }
}
