//! Deterministic, realistic submissions to feed the mailbox.

use chrono::{DateTime, Duration, FixedOffset, TimeZone};

const TITLES: [&str; 5] = ["雨夜", "旧城的灯", "海边来信", "一只猫的自述", "冬至"];
const AUTHORS: [&str; 5] = ["Li Wei", "Zhang Min", "Chen Jing", "Wang Fang", "Liu Yang"];

/// Submission number `i`: multipart/mixed with a cover letter and the
/// manuscript attached, a Chinese RFC 2047 subject, CRLF line endings and a
/// Message-ID unique per `i`. The same `i` always yields the same bytes.
pub fn sample_message(i: usize) -> Vec<u8> {
    let title = TITLES[i % TITLES.len()];
    let author = AUTHORS[i % AUTHORS.len()];
    let login = author.to_lowercase().replace(' ', ".");
    let subject = format!("投稿：短篇小说《{title}》（第{i}号）");
    let date = sample_date(i);
    let boundary = format!("=_slushpile_sample_{i:06}");

    let cover = format!(
        "编辑您好：\r\n\r\n附件是我的短篇小说《{title}》，约三千字，请审阅。\r\n\
         Dear editors, please find my short story attached.\r\n\r\n{author}"
    );
    let manuscript = format!("《{title}》\r\n\r\n{author}\r\n\r\n那天夜里下着雨。{i}\r\n");

    let mut lines = vec![
        format!("Return-Path: <{login}@example.org>"),
        format!(
            "Received: from mail.example.org (mail.example.org [192.0.2.{}])\r\n\tby mx.example.org with ESMTPS id S{i:06};\r\n\t{}",
            10 + i % 200,
            date.to_rfc2822()
        ),
        format!("From: {author} <{login}@example.org>"),
        "To: Submissions <submissions@example.org>".to_string(),
        format!("Subject: {}", encode_rfc2047(&subject)),
        format!("Date: {}", date.to_rfc2822()),
        format!(
            "Message-ID: <sample-{i:06}.{}@mail.example.org>",
            i * 7919 % 100_000
        ),
        "MIME-Version: 1.0".to_string(),
        format!("Content-Type: multipart/mixed; boundary=\"{boundary}\""),
        String::new(),
        "This is a multi-part message in MIME format.".to_string(),
        format!("--{boundary}"),
        "Content-Type: text/plain; charset=UTF-8".to_string(),
        "Content-Transfer-Encoding: 8bit".to_string(),
        String::new(),
        cover,
        format!("--{boundary}"),
        format!("Content-Type: text/plain; charset=UTF-8; name=\"manuscript-{i}.txt\""),
        format!("Content-Disposition: attachment; filename=\"manuscript-{i}.txt\""),
        "Content-Transfer-Encoding: base64".to_string(),
        String::new(),
    ];
    let encoded = base64(manuscript.as_bytes());
    lines.extend(
        encoded
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned()),
    );
    lines.push(format!("--{boundary}--"));
    lines.push(String::new());
    lines.join("\r\n").into_bytes()
}

fn sample_date(i: usize) -> DateTime<FixedOffset> {
    let tz = FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let start = tz
        .with_ymd_and_hms(2024, 3, 1, 9, 0, 0)
        .single()
        .expect("valid date");
    start + Duration::minutes(97 * i as i64)
}

/// Base64 encoded-words, folded so header lines stay under 78 characters and never
/// splits a UTF-8 sequence (RFC 2047 §5 requires whole characters).
fn encode_rfc2047(text: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 36 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?UTF-8?B?{}?=", base64(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for group in data.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
