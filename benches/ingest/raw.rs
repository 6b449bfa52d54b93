//! The raw limit: the least a client can do to get every message over IMAPS —
//! one pipelined `UID FETCH 1:* (BODY.PEEK[])`, literals skipped unparsed.
//! Runs as a child process (the bench binary re-executed) so its RSS is its own.

use std::path::Path;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::support::{HOST, tls_connector};

/// Messages and literal bytes received.
pub async fn fetch_all(port: u16, ca: &Path, user: &str, password: &str) -> (u64, u64) {
    let tcp = TcpStream::connect((HOST, port))
        .await
        .expect("connect IMAPS");
    tcp.set_nodelay(true).unwrap();
    let tls = tls_connector(ca)
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .expect("TLS handshake");
    let (read, mut write) = tokio::io::split(tls);
    let mut read = BufReader::with_capacity(256 * 1024, read);
    let mut line = Vec::new();
    read.read_until(b'\n', &mut line).await.expect("greeting");
    let mut commands = [
        format!("a1 LOGIN {user} {password}"),
        "a2 SELECT INBOX".to_string(),
        "a3 UID FETCH 1:* (BODY.PEEK[])".to_string(),
        "a4 LOGOUT".to_string(),
    ]
    .into_iter();
    let mut totals = (0, 0);
    for tag in ["a1", "a2", "a3", "a4"] {
        let command = commands.next().unwrap();
        write
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        write.flush().await.unwrap();
        let got = response(&mut read, tag).await;
        if tag == "a3" {
            totals = got;
        }
    }
    totals
}

/// Reads up to the tagged completion of `tag`, skipping literals; counts
/// FETCH responses and literal bytes.
async fn response<R: AsyncBufRead + Unpin>(read: &mut R, tag: &str) -> (u64, u64) {
    let (mut messages, mut bytes) = (0, 0);
    let mut line = Vec::with_capacity(256);
    let mut continued = false;
    loop {
        line.clear();
        let n = read.read_until(b'\n', &mut line).await.expect("read");
        assert!(n > 0, "server closed the connection during {tag}");
        if !continued {
            if line.starts_with(tag.as_bytes()) && line.get(tag.len()) == Some(&b' ') {
                let status = String::from_utf8_lossy(&line);
                assert!(
                    status[tag.len() + 1..].starts_with("OK"),
                    "{}",
                    status.trim_end()
                );
                return (messages, bytes);
            }
            if line.starts_with(b"* ") && line.windows(7).any(|w| w == b" FETCH ") {
                messages += 1;
            }
        }
        continued = false;
        if let Some(len) = literal_len(&line) {
            let mut left = len;
            while left > 0 {
                let buf = read.fill_buf().await.expect("read literal");
                assert!(!buf.is_empty(), "EOF inside a literal");
                let take = buf.len().min(left as usize);
                read.consume(take);
                left -= take as u64;
            }
            bytes += len;
            continued = true;
        }
    }
}

fn literal_len(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\r\n")?.strip_suffix(b"}")?;
    let open = line.iter().rposition(|&b| b == b'{')?;
    std::str::from_utf8(&line[open + 1..]).ok()?.parse().ok()
}
