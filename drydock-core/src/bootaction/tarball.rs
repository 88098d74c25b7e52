//! The gzipped tar of a node's rendered units or files, as the reference's asset endpoint
//! serves it (`GET /bootactions/nodes/<hostname>/units|files`).

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use tar::{EntryType, Header};

use super::render::{RenderedAsset, RenderedContent};

/// Builds a gzipped GNU tar of `assets`: one entry per file or unit, named by its absolute
/// path (as the reference), with the asset's mode, owned by uid/gid 0, modification time 0 (so
/// that the same assets always give the same bytes). Package lists are left out.
///
/// Paths longer than 100 bytes use the GNU long-name extension.
pub fn build_tarball(assets: &[RenderedAsset]) -> std::io::Result<Vec<u8>> {
    let gz = GzEncoder::new(Vec::new(), Compression::default());
    let mut tar = tar::Builder::new(gz);
    for asset in assets {
        let (Some(path), RenderedContent::Bytes(bytes)) = (&asset.path, &asset.content) else {
            continue;
        };
        append(&mut tar, path.as_bytes(), asset.mode, bytes)?;
    }
    tar.into_inner()?.finish()
}

fn header(kind: EntryType, size: usize, mode: u32) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size as u64);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h
}

fn set_name(h: &mut Header, name: &[u8]) {
    // The tar crate refuses absolute paths in `set_path`; the reference writes them, so the name
    // field is filled directly (truncated: the long-name entry before it carries the rest).
    let field = &mut h.as_old_mut().name;
    let n = name.len().min(field.len());
    field[..n].copy_from_slice(&name[..n]);
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &[u8],
    mode: u32,
    data: &[u8],
) -> std::io::Result<()> {
    if name.len() > 100 {
        let mut long = header(EntryType::GNULongName, name.len() + 1, 0o644);
        set_name(&mut long, b"././@LongLink");
        long.set_cksum();
        let mut body = name.to_vec();
        body.push(0);
        tar.append(&long, body.as_slice())?;
    }
    let mut h = header(EntryType::Regular, data.len(), mode);
    set_name(&mut h, name);
    h.set_cksum();
    tar.append(&h, data)
}
