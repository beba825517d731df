//! Finding a map by id, name or pinned path.

use std::path::Path;

use super::MapError;
use bpf_sys::{MapFd, MapInfo};

/// A map opened for inspection: its file descriptor and its info.
#[derive(Debug)]
pub struct OpenMap {
    /// The file descriptor (keeps the map alive while open).
    pub fd: MapFd,
    /// The map's info as read at open.
    pub info: MapInfo,
}

/// Opens the map `spec` names: a numeric id (`42` or `id:42`), a path on a bpffs
/// (`/sys/fs/bpf/...`), or a map name (`counts`; must be unique on the system).
pub fn open(spec: &str) -> Result<OpenMap, MapError> {
    let id_text = spec.strip_prefix("id:").unwrap_or(spec);
    if let Ok(id) = id_text.parse::<u32>() {
        let fd = MapFd::from_id(id).map_err(|e| match e.errno() {
            libc::ENOENT => MapError::NotFound(spec.to_string()),
            _ => MapError::Sys(e),
        })?;
        let info = fd.info()?;
        return Ok(OpenMap { fd, info });
    }
    if spec.starts_with('/') || spec.starts_with('.') {
        let path = Path::new(spec);
        let fd = MapFd::from_pin(path).map_err(|e| match e.errno() {
            libc::ENOENT => MapError::NotFound(spec.to_string()),
            libc::EINVAL => MapError::Input(format!("{spec} is pinned but is not a map")),
            _ => MapError::Sys(e),
        })?;
        let info = fd.info()?;
        return Ok(OpenMap { fd, info });
    }
    let mut found = Vec::new();
    for id in bpf_sys::map_ids() {
        let id = id?;
        // A map freed during the walk is simply skipped.
        let Ok(fd) = MapFd::from_id(id) else { continue };
        let Ok(info) = fd.info() else { continue };
        if info.name == spec {
            found.push(OpenMap { fd, info });
        }
    }
    match found.len() {
        0 => Err(MapError::NotFound(spec.to_string())),
        1 => Ok(found.remove(0)),
        count => Err(MapError::Ambiguous {
            name: spec.to_string(),
            count,
            ids: found
                .iter()
                .map(|m| m.info.id.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
