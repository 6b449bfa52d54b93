//! The messages of one archive in a stable order, with a running
//! fingerprint of what has been read: a resumed import checks that the
//! archive still starts with the messages an earlier run committed.

use std::path::{Path, PathBuf};

use tokio::io::BufReader;

use super::mbox::MboxReader;
use super::{ArchiveKind, ImportError, read_error};
use crate::ingest::Fetched;
use crate::store::SourceLocation;

pub struct Item {
    pub fetched: Fetched,
    /// Bytes of the archive this message took.
    pub size: u64,
}

pub struct Messages {
    kind: Kind,
    path: PathBuf,
    /// Messages read so far.
    pub read: u64,
    /// FNV-1a over the identity of every message read so far (an mbox
    /// message's `From ` line and size, a Maildir file's name).
    pub fingerprint: u32,
    pub total_bytes: u64,
}

enum Kind {
    Mbox(Box<MboxReader<BufReader<tokio::fs::File>>>),
    Maildir { files: Vec<PathBuf>, next: usize },
}

impl Messages {
    pub async fn open(kind: ArchiveKind, path: &Path) -> Result<Messages, ImportError> {
        let (kind, total_bytes) = match kind {
            ArchiveKind::Mbox => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(|e| read_error(path, e))?;
                let size = file
                    .metadata()
                    .await
                    .map_err(|e| read_error(path, e))?
                    .len();
                let reader = MboxReader::new(BufReader::with_capacity(256 * 1024, file));
                (Kind::Mbox(Box::new(reader)), size)
            }
            ArchiveKind::Maildir => {
                if !path.join("cur").is_dir() && !path.join("new").is_dir() {
                    return Err(read_error(path, "not a Maildir: it has no cur/ or new/"));
                }
                let files = crate::maildir::list(path)
                    .await
                    .map_err(|e| read_error(path, e))?;
                let mut total = 0;
                for file in &files {
                    total += tokio::fs::metadata(file)
                        .await
                        .map_err(|e| read_error(file, e))?
                        .len();
                }
                (Kind::Maildir { files, next: 0 }, total)
            }
        };
        Ok(Messages {
            kind,
            path: path.to_path_buf(),
            read: 0,
            fingerprint: FNV_OFFSET,
            total_bytes,
        })
    }

    pub async fn next(&mut self, max_bytes: u64) -> Result<Option<Item>, ImportError> {
        let item = match &mut self.kind {
            Kind::Mbox(reader) => {
                let Some(message) = reader
                    .next(max_bytes)
                    .await
                    .map_err(|e| read_error(&self.path, e))?
                else {
                    return Ok(None);
                };
                let size = message.body.size();
                self.fingerprint = fnv(self.fingerprint, &message.from_line);
                self.fingerprint = fnv(self.fingerprint, &size.to_le_bytes());
                let name = self.path.file_name().unwrap_or_default().to_string_lossy();
                Item {
                    fetched: Fetched {
                        // 1-based, as mail clients number messages.
                        location: SourceLocation::File(format!("{name}#{}", self.read + 1)),
                        internal_date: message.delivered,
                        body: message.body,
                    },
                    size,
                }
            }
            Kind::Maildir { files, next } => {
                let Some(file) = files.get(*next) else {
                    return Ok(None);
                };
                *next += 1;
                let fetched = crate::maildir::read(file, max_bytes)
                    .await
                    .map_err(|e| read_error(file, e))?;
                let size = fetched.body.size();
                let name = file.file_name().unwrap_or_default();
                self.fingerprint = fnv(self.fingerprint, name.as_encoded_bytes());
                Item { fetched, size }
            }
        };
        self.read += 1;
        Ok(Some(item))
    }
}

const FNV_OFFSET: u32 = 0x811c_9dc5;

fn fnv(mut hash: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}
