//! Pack files: an SQLite store's raw messages, appended one after another
//! to numbered files in a directory beside the database
//! (`slushpile.db-packs/000001.pack`), so each message's bytes are written
//! once, by one `pwrite`, instead of into SQLite's WAL and again into the
//! database at the checkpoint.
//!
//! This module is the file I/O only. What makes it safe lives with the SQL
//! (`store/sql/packs.rs`): the database records each pack's committed
//! length and where every message is; appends happen inside the batch's
//! write transaction, at the committed length, and are fdatasync'd before
//! that transaction commits, so a row never points at bytes that are not
//! durable, and bytes beyond the committed length (a batch killed before
//! its commit) are overwritten or cut off. Every pack but the newest is
//! sealed: never written again, only replaced whole by compaction.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// A pack is sealed once it holds this much: compaction after a purge
/// rewrites at most one pack's live bytes.
pub const PACK_LIMIT: u64 = 256 << 20;

#[derive(Clone, Debug)]
pub struct PackDir {
    dir: PathBuf,
}

impl PackDir {
    /// The packs of the SQLite database at `db`: `<db>-packs`, named like
    /// SQLite's own `-wal` and `-shm` companions.
    pub fn beside(db: &Path) -> PackDir {
        let mut name = db.as_os_str().to_owned();
        name.push("-packs");
        PackDir {
            dir: PathBuf::from(name),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn file(&self, pack: i64) -> PathBuf {
        self.dir.join(format!("{pack:06}.pack"))
    }

    /// Writes `blobs` one after another from `offset` (the pack's committed
    /// length: whatever lies beyond it was never committed), cuts anything
    /// left after them, and makes the bytes durable — and a new file's
    /// name, with an fsync of the directory.
    pub fn append(&self, pack: i64, offset: u64, blobs: &[&[u8]]) -> io::Result<u64> {
        let path = self.file(pack);
        let created = !path.exists();
        if created {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.dir)?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)?;
        let mut end = offset;
        for blob in blobs {
            file.write_all_at(blob, end)?;
            end += blob.len() as u64;
        }
        if file.metadata()?.len() > end {
            file.set_len(end)?;
        }
        file.sync_data()?;
        if created {
            File::open(&self.dir)?.sync_all()?;
        }
        Ok(end)
    }

    /// Exactly `len` bytes at `offset`, with positioned reads (no shared
    /// file position, so readers never wait for each other).
    pub fn read(&self, pack: i64, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let file = File::open(self.file(pack))?;
        let mut bytes = vec![0; len];
        file.read_exact_at(&mut bytes, offset)?;
        Ok(bytes)
    }

    /// Cuts a pack back to `len` bytes (what commits cover), durably.
    pub fn truncate(&self, pack: i64, len: u64) -> io::Result<()> {
        let file = match OpenOptions::new().write(true).open(self.file(pack)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            other => other?,
        };
        if file.metadata()?.len() > len {
            file.set_len(len)?;
            file.sync_data()?;
        }
        Ok(())
    }

    /// Deletes a pack file (gone already is fine), durably.
    pub fn remove(&self, pack: i64) -> io::Result<()> {
        match fs::remove_file(self.file(pack)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            other => other?,
        }
        File::open(&self.dir)?.sync_all()
    }

    /// Every pack file present, with its length on disk.
    pub fn list(&self) -> io::Result<Vec<(i64, u64)>> {
        let entries = match fs::read_dir(&self.dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            other => other?,
        };
        let mut packs = Vec::new();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".pack"))
                .and_then(|n| n.parse().ok())
            else {
                continue;
            };
            packs.push((id, entry.metadata()?.len()));
        }
        packs.sort_unstable();
        Ok(packs)
    }
}

/// Runs blocking file I/O from async code: on a multi-threaded runtime the
/// worker hands its other tasks on first; a current-thread runtime (tests,
/// the CLI's single calls) simply waits.
pub fn blocking<T>(io: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(io)
        }
        _ => io(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_at_the_committed_length_and_cuts_what_no_commit_covers() {
        let dir = tempfile::tempdir().unwrap();
        let packs = PackDir::beside(&dir.path().join("s.db"));
        assert_eq!(packs.list().unwrap(), vec![]);
        assert_eq!(packs.append(1, 0, &[b"first", b"second"]).unwrap(), 11);
        // A batch that never committed left bytes after 11: the next append
        // starts at the committed length and nothing of them survives.
        packs.append(1, 11, &[b"uncommitted tail, longer"]).unwrap();
        assert_eq!(packs.append(1, 11, &[b"third"]).unwrap(), 16);
        assert_eq!(packs.read(1, 5, 6).unwrap(), b"second");
        assert_eq!(packs.read(1, 11, 5).unwrap(), b"third");
        assert_eq!(packs.list().unwrap(), vec![(1, 16)]);
        assert!(packs.read(1, 12, 5).is_err(), "past the end");

        packs.truncate(1, 5).unwrap();
        assert_eq!(packs.list().unwrap(), vec![(1, 5)]);
        packs.remove(1).unwrap();
        packs.remove(1).unwrap();
        assert_eq!(packs.list().unwrap(), vec![]);
        let mode = fs::metadata(packs.path()).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o700
        );
    }
}
