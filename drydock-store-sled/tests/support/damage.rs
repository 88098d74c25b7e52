//! Seeded damage to a sled store's directory, shared by the sled crate's damage test and the
//! facade's kill-damage-resume test (included there with `#[path]`).

use std::path::{Path, PathBuf};

use rand::Rng;
use rand::rngs::StdRng;

/// How many kinds of damage [`damage`] knows.
pub(crate) const KINDS: usize = 5;

/// Copies the directory tree `from` to `to`.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Every file of the store, sorted.
pub(crate) fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(files(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out.sort();
    out
}

/// Length of `bytes` without its trailing zeros (sled preallocates).
pub(crate) fn used(bytes: &[u8]) -> usize {
    bytes.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1)
}

/// Damages the store in `dir` in one seeded way (`kind` below [`KINDS`]: flipped bits in the log, a
/// zeroed 4 KiB block, truncation, a deleted file, a flipped bit in the acknowledgement mark);
/// returns a description.
pub(crate) fn damage(dir: &Path, rng: &mut StdRng, kind: usize) -> String {
    let db = dir.join("db");
    let all = files(dir);
    match kind {
        0 => {
            // Flipped bits, in the written part of sled's log.
            let mut bytes = std::fs::read(&db).unwrap();
            let end = used(&bytes).max(1);
            let flips = rng.random_range(1..=4);
            let mut at = Vec::new();
            for _ in 0..flips {
                let offset = rng.random_range(0..end);
                bytes[offset] ^= 1 << rng.random_range(0..8);
                at.push(offset);
            }
            std::fs::write(&db, bytes).unwrap();
            format!("{flips} bit(s) flipped in db at {at:?} (of {end} written bytes)")
        }
        1 => {
            let mut bytes = std::fs::read(&db).unwrap();
            let blocks = used(&bytes).div_ceil(4096).max(1);
            let block = rng.random_range(0..blocks);
            let end = bytes.len().min((block + 1) * 4096);
            bytes[block * 4096..end].fill(0);
            std::fs::write(&db, bytes).unwrap();
            format!("4 KiB block {block} of {blocks} zeroed in db")
        }
        2 => {
            let len = std::fs::metadata(&db).unwrap().len();
            let bytes = std::fs::read(&db).unwrap();
            let to = rng.random_range(0..used(&bytes).max(1)) as u64;
            std::fs::OpenOptions::new()
                .write(true)
                .open(&db)
                .unwrap()
                .set_len(to)
                .unwrap();
            format!("db truncated from {len} to {to} bytes")
        }
        3 => {
            let victim = &all[rng.random_range(0..all.len())];
            std::fs::remove_file(victim).unwrap();
            format!("{} deleted", victim.strip_prefix(dir).unwrap().display())
        }
        _ => {
            // Flipped bits in one slot of the acknowledgement mark.
            let slot = dir.join(["ack.0", "ack.1"][rng.random_range(0..2)]);
            let mut bytes = std::fs::read(&slot).unwrap();
            let offset = rng.random_range(0..bytes.len());
            bytes[offset] ^= 1 << rng.random_range(0..8);
            std::fs::write(&slot, bytes).unwrap();
            format!(
                "bit flipped in {} at {offset}",
                slot.file_name().unwrap().display()
            )
        }
    }
}
