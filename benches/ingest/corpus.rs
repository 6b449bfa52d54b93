//! A deterministic, realistic submissions corpus: the same seed and index
//! always give the same bytes, so every tool in every run sees the same mail.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};

use encoding_rs::GBK;
use fastrand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Plain,
    Alternative,
    Chinese,
    Attachment,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Plain,
        Kind::Alternative,
        Kind::Chinese,
        Kind::Attachment,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Kind::Plain => "text/plain, 2–6 KB (English or UTF-8 Chinese)",
            Kind::Alternative => "multipart/alternative text + HTML",
            Kind::Chinese => "GB2312/GBK, RFC 2047 headers, Chinese attachment name",
            Kind::Attachment => {
                "base64 attachment, 50 KB–2 MB encoded: a photo, or a real .docx / .pdf article (tests/fixtures/documents) carrying a photo"
            }
        }
    }
}

const SEED: u64 = 0x5eed_511f_0000_0007;

const WORDS: &[&str] = &[
    "the",
    "sea",
    "was",
    "quiet",
    "that",
    "winter",
    "and",
    "my",
    "mother",
    "kept",
    "a",
    "lamp",
    "burning",
    "in",
    "window",
    "every",
    "night",
    "until",
    "ships",
    "came",
    "home",
    "story",
    "about",
    "river",
    "city",
    "old",
    "letters",
    "found",
    "under",
    "floor",
    "train",
    "station",
    "rain",
    "poem",
    "editor",
    "manuscript",
    "words",
    "we",
    "never",
    "said",
    "garden",
    "snow",
    "bridge",
    "lantern",
    "harbour",
    "morning",
    "tea",
    "silence",
    "memory",
    "paper",
    "ink",
];

/// Common characters (all in GB2312, so GB2312, GBK and UTF-8 can carry them).
const HANZI: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严";

const TITLES: &[&str] = &[
    "雨夜",
    "旧城的灯",
    "海边来信",
    "一只猫的自述",
    "冬至",
    "父亲的船",
    "桥",
    "晚风",
];

const NAMES: &[&str] = &[
    "Li Wei",
    "Zhang Min",
    "Chen Jing",
    "Wang Fang",
    "Liu Yang",
    "Ana Souza",
    "Tom Fischer",
    "Mei Tanaka",
];

const CN_NAMES: &[&str] = &[
    "李伟", "张敏", "陈静", "王芳", "刘洋", "赵雪", "孙悦", "周婷",
];

/// The corpus written once as files, to be hard-linked into every fresh
/// mailbox (Dovecot renames and unlinks but never rewrites Maildir files).
pub struct Corpus {
    dir: tempfile::TempDir,
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    pub counts: [usize; 4],
    pub kind_bytes: [u64; 4],
}

impl Corpus {
    pub fn write(messages: usize, owner: Option<(u32, u32)>) -> Corpus {
        let dir = tempfile::Builder::new()
            .prefix("slushbench-corpus")
            .tempdir()
            .expect("corpus temp dir");
        let mut corpus = Corpus {
            dir,
            files: Vec::with_capacity(messages),
            bytes: 0,
            counts: [0; 4],
            kind_bytes: [0; 4],
        };
        for i in 0..messages {
            let (kind, raw) = message(i);
            let k = Kind::ALL.iter().position(|x| *x == kind).unwrap();
            corpus.counts[k] += 1;
            corpus.kind_bytes[k] += raw.len() as u64;
            corpus.bytes += raw.len() as u64;
            // Maildir name with S= (file size) and W= (RFC822.SIZE, line
            // ends counted as CRLF), as Dovecot names the mail it delivers:
            // without W= it reads every whole message to answer a size query.
            let name = format!(
                "{}.M{i}P1Q{i}.slushbench,S={},W={}",
                1_700_000_000 + i,
                raw.len(),
                virtual_size(&raw)
            );
            let path = corpus.dir.path().join(name);
            fs::write(&path, &raw).expect("write corpus message");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            if let Some((uid, gid)) = owner {
                chown(&path, Some(uid), Some(gid)).expect("chown corpus message");
            }
            corpus.files.push(path);
        }
        corpus
    }

    /// Puts every message into `maildir/new` (hard links when possible).
    pub fn seed(&self, maildir: &Path) {
        let new = maildir.join("new");
        for file in &self.files {
            let dest = new.join(file.file_name().unwrap());
            if fs::hard_link(file, &dest).is_err() {
                fs::copy(file, &dest).expect("copy corpus message");
            }
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The size with every bare LF counted as CRLF.
fn virtual_size(raw: &[u8]) -> usize {
    let bare_lf = raw
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' && (i == 0 || raw[i - 1] != b'\r'))
        .count();
    raw.len() + bare_lf
}

/// Message `i` of the corpus (kind by a seeded draw: 70/10/12/8 %).
pub fn message(i: usize) -> (Kind, Vec<u8>) {
    let mut rng = Rng::with_seed(SEED ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let kind = match rng.u32(0..100) {
        0..70 => Kind::Plain,
        70..80 => Kind::Alternative,
        80..92 => Kind::Chinese,
        _ => Kind::Attachment,
    };
    let raw = match kind {
        Kind::Plain => plain(&mut rng, i),
        Kind::Alternative => alternative(&mut rng, i),
        Kind::Chinese => chinese(&mut rng, i),
        Kind::Attachment => attachment(&mut rng, i),
    };
    (kind, raw)
}

/// Message `i` of a separate, smaller-keyed series used for latency runs,
/// so its Message-IDs never collide with the bulk corpus.
pub fn latency_message(i: usize) -> Vec<u8> {
    message(10_000_000 + i).1
}

fn headers(rng: &mut Rng, i: usize, from: &str, subject: &str) -> String {
    let name = NAMES[rng.usize(0..NAMES.len())];
    let login = name.to_lowercase().replace(' ', ".");
    let from = if from.is_empty() {
        format!("{name} <{login}@example.org>")
    } else {
        format!("{from} <{login}{}@example.org>", i % 97)
    };
    // 2026-03-01 00:00 UTC plus a few minutes per message.
    let date = chrono::DateTime::from_timestamp(1_772_323_200 + i as i64 * 173, 0)
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap());
    let date = date.to_rfc2822();
    format!(
        "Return-Path: <{login}@example.org>\r\n\
         Received: from mail.example.org (mail.example.org [192.0.2.{octet}])\r\n\
         \tby mx.example.org with ESMTPS id B{i:08};\r\n\t{date}\r\n\
         From: {from}\r\n\
         To: Submissions <submissions@example.org>\r\n\
         Subject: {subject}\r\n\
         Date: {date}\r\n\
         Message-ID: <bench-{i:08}.{tag:x}@mail.example.org>\r\n\
         MIME-Version: 1.0\r\n",
        octet = 10 + i % 200,
        tag = rng.u32(..),
    )
}

fn english(rng: &mut Rng, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 80);
    let mut line = 0;
    while out.len() < bytes {
        let w = WORDS[rng.usize(0..WORDS.len())];
        out.push_str(w);
        line += w.len() + 1;
        if line > 70 {
            out.push_str(if rng.u8(0..8) == 0 {
                ".\r\n\r\n"
            } else {
                "\r\n"
            });
            line = 0;
        } else {
            out.push(' ');
        }
    }
    out.push_str("\r\n");
    out
}

fn hanzi(rng: &mut Rng, chars: usize) -> String {
    let pool: Vec<char> = HANZI.chars().collect();
    let mut out = String::with_capacity(chars * 3 + chars / 10);
    for n in 1..=chars {
        out.push(pool[rng.usize(0..pool.len())]);
        if n % 30 == 0 {
            out.push_str(if rng.u8(0..4) == 0 {
                "。\r\n\r\n"
            } else {
                "，\r\n"
            });
        }
    }
    out.push_str("。\r\n");
    out
}

fn plain(rng: &mut Rng, i: usize) -> Vec<u8> {
    let target = rng.usize(2048..=6144);
    let title = TITLES[rng.usize(0..TITLES.len())];
    let mut m = if rng.bool() {
        let subject = format!("Submission: \"{}\" (no. {i})", english(rng, 20).trim());
        let mut m = headers(rng, i, "", &subject);
        m.push_str("Content-Type: text/plain; charset=us-ascii\r\n\r\n");
        let body = english(rng, target.saturating_sub(m.len()));
        m.push_str(&body);
        m
    } else {
        let subject = encode_word("UTF-8", format!("投稿：《{title}》（第{i}号）").as_bytes());
        let mut m = headers(rng, i, "", &subject);
        m.push_str(
            "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        );
        let body = hanzi(rng, target.saturating_sub(m.len()) / 3);
        m.push_str(&body);
        m
    };
    m.push_str("\r\n");
    m.into_bytes()
}

fn alternative(rng: &mut Rng, i: usize) -> Vec<u8> {
    let subject = format!("Poems for your spring issue ({i})");
    let mut m = headers(rng, i, "", &subject);
    let boundary = format!("=_alt_{i:08}");
    let len = rng.usize(2000..6000);
    let text = english(rng, len);
    let mut html = String::from("<html><head><meta charset=\"utf-8\"></head><body>\r\n");
    for para in text.split("\r\n\r\n") {
        let _ = write!(
            html,
            "<p style=\"font-family:Georgia\">{}</p>\r\n",
            para.trim()
        );
    }
    html.push_str("</body></html>\r\n");
    let _ = write!(
        m,
        "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
         --{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n\
         --{boundary}--\r\n"
    );
    m.into_bytes()
}

fn chinese(rng: &mut Rng, i: usize) -> Vec<u8> {
    let (charset, encoding) = if rng.bool() {
        ("GB2312", "GB2312")
    } else {
        ("GBK", "GBK")
    };
    let title = TITLES[rng.usize(0..TITLES.len())];
    let author = CN_NAMES[rng.usize(0..CN_NAMES.len())];
    let gbk = |s: &str| GBK.encode(s).0.into_owned();
    let subject = encode_word(
        encoding,
        &gbk(&format!("投稿：短篇小说《{title}》（第{i}号）")),
    );
    let from = encode_word(encoding, &gbk(author));
    let mut m = headers(rng, i, &from, &subject);
    let boundary = format!("----=_NextPart_{i:08}_{:04X}", rng.u16(..));
    let cover = gbk(&format!(
        "编辑您好：\r\n\r\n附件是我的短篇小说《{title}》，请审阅。\r\n\r\n{}\r\n{author}\r\n",
        {
            let n = rng.usize(100..400);
            hanzi(rng, n)
        }
    ));
    let len = rng.usize(2_000..12_000);
    let manuscript = gbk(&format!("《{title}》\r\n\r\n{}", hanzi(rng, len)));
    let filename = gbk(&format!("{title}（{author}）.txt"));
    // Chinese webmail mostly sends RFC 2047 in quotes; some send RFC 2231.
    let disposition = if rng.u8(0..3) == 0 {
        let mut pct = String::new();
        for b in &filename {
            let _ = write!(pct, "%{b:02X}");
        }
        format!("attachment; filename*={charset}''{pct}")
    } else {
        format!(
            "attachment; filename=\"{}\"",
            encode_word(encoding, &filename)
        )
    };
    let _ = write!(
        m,
        "X-Mailer: Coremail Webmail Server Version XT5.0.13\r\n\
         Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n\
         This is a multi-part message in MIME format.\r\n\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=\"{charset}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=\"{charset}\"; name=\"{}\"\r\n\
         Content-Transfer-Encoding: base64\r\nContent-Disposition: {disposition}\r\n\r\n{}\r\n\
         --{boundary}--\r\n",
        base64_lines(&cover),
        encode_word(encoding, &filename),
        base64_lines(&manuscript),
    );
    m.into_bytes()
}

fn attachment(rng: &mut Rng, i: usize) -> Vec<u8> {
    let subject = format!("Photo essay submission {i}");
    let mut m = headers(rng, i, "", &subject);
    let boundary = format!("=_mixed_{i:08}");
    // Skewed towards the small end (u^1.3) so the default corpus is ~780 MB.
    let encoded = 50_000.0 + 1_950_000.0 * rng.f64().powf(1.3);
    let mut data = vec![0u8; encoded as usize / 4 * 3];
    rng.fill(&mut data);
    let (ctype, ext) = [
        ("image/jpeg", "jpg"),
        ("application/pdf", "pdf"),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
    ][rng.usize(0..3)];
    // Documents are what the article extraction reads: real ones, as big
    // as the photo they embed.
    let data = match ext {
        "pdf" => pdf_with_photo(data),
        "docx" => docx_with_photo(data),
        _ => data,
    };
    let len = rng.usize(300..1500);
    let cover = english(rng, len);
    let _ = write!(
        m,
        "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{cover}\r\n\
         --{boundary}\r\nContent-Type: {ctype}; name=\"submission-{i}.{ext}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"submission-{i}.{ext}\"\r\n\r\n"
    );
    let mut m = m.into_bytes();
    m.extend_from_slice(base64_lines(&data).as_bytes());
    m.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    m
}

const ARTICLE_DOCX: &[u8] = include_bytes!("../../tests/fixtures/documents/article.docx");
const ARTICLE_PDF: &[u8] = include_bytes!("../../tests/fixtures/documents/article.pdf");

/// The fixture article as a .docx with `photo` stored in it, as Word keeps
/// pictures (word/media, not compressed again).
fn docx_with_photo(photo: Vec<u8>) -> Vec<u8> {
    use std::io::Write as _;
    let mut article = zip::ZipArchive::new(std::io::Cursor::new(ARTICLE_DOCX)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..article.len() {
        out.raw_copy_file(article.by_index(i).unwrap()).unwrap();
    }
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    out.start_file("word/media/image1.jpeg", stored).unwrap();
    out.write_all(&photo).unwrap();
    out.finish().unwrap().into_inner()
}

/// The fixture article as a PDF with `photo` as an image object.
fn pdf_with_photo(photo: Vec<u8>) -> Vec<u8> {
    let mut doc = lopdf::Document::load_mem(ARTICLE_PDF).unwrap();
    let mut image = lopdf::Dictionary::new();
    image.set("Type", lopdf::Object::Name(b"XObject".to_vec()));
    image.set("Subtype", lopdf::Object::Name(b"Image".to_vec()));
    image.set("Filter", lopdf::Object::Name(b"DCTDecode".to_vec()));
    doc.add_object(lopdf::Stream::new(image, photo).with_compression(false));
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn encode_word(charset: &str, bytes: &[u8]) -> String {
    format!("=?{charset}?B?{}?=", base64(bytes))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * k)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Base64 in 76-character CRLF lines, as MIME requires.
fn base64_lines(bytes: &[u8]) -> String {
    let flat = base64(bytes);
    let mut out = String::with_capacity(flat.len() + flat.len() / 38);
    for (n, line) in flat.as_bytes().chunks(76).enumerate() {
        if n > 0 {
            out.push_str("\r\n");
        }
        out.push_str(std::str::from_utf8(line).unwrap());
    }
    out
}
