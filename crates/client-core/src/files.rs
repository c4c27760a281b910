//! Writing a file whole or not at all: written beside its place, flushed to disk, then renamed
//! over it, so a crash leaves the old file or the new one, never half of one. The file is
//! readable by this OS user only (callers widen it when others should read it).

use std::path::Path;

/// Writes `bytes` to `path` atomically.
pub fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temp, bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    // The rename itself reaches the disk only when the directory is flushed.
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}
