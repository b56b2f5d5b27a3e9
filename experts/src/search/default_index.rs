//! The index of the shipped corpora (CSL and SciFact), built once on first use into the
//! user's cache folder, so `miracle search` works on a fresh machine with nothing to download.

use std::path::{Path, PathBuf};
use std::time::Duration;

use miracle_corpora::Collection;

use super::{LiteratureIndex, SearchError, schema};

/// `$MIRACLE_HOME/index/shipped-vN`, with `MIRACLE_HOME` defaulting to
/// `$XDG_CACHE_HOME/miracle` or `~/.cache/miracle` (the temp folder if there is no home).
pub fn dir() -> PathBuf {
    let home = std::env::var_os("MIRACLE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .unwrap_or_else(std::env::temp_dir);
            cache.join("miracle")
        });
    home.join("index")
        .join(format!("shipped-v{}", schema::VERSION))
}

/// Names an index (from `miracle index`) that every default use opens instead of the
/// shipped corpora's: `search`, the agent's literature expert, workflows and `serve`. A
/// deployment that must leave SciFact out (CC BY-NC 2.0) sets it once.
pub const INDEX_VAR: &str = "MIRACLE_INDEX";

/// Opens the default index: the one `MIRACLE_INDEX` names, or else the shipped corpora's,
/// building it first if it is not there yet.
pub fn open() -> Result<LiteratureIndex, SearchError> {
    match std::env::var_os(INDEX_VAR).filter(|v| !v.is_empty()) {
        Some(chosen) => open_chosen(Path::new(&chosen)),
        None => open_in(&dir()),
    }
}

/// The index `MIRACLE_INDEX` names; never built here, since what it should hold is the
/// deployment's choice.
fn open_chosen(dir: &Path) -> Result<LiteratureIndex, SearchError> {
    if !dir.join("meta.json").is_file() {
        return Err(SearchError::NotChosen(dir.to_path_buf()));
    }
    LiteratureIndex::open(dir)
}

/// A build folder untouched this long was left by a build that died (one takes seconds).
pub const ABANDONED_AFTER: Duration = Duration::from_secs(60 * 60);

/// Opens the shipped corpora's index in `dir`, building it there if absent. The build goes
/// to a temporary sibling that is renamed into place, so a crash or a concurrent first use
/// never leaves a half-built index behind; the folders of builds that died are removed by
/// the next build.
pub fn open_in(dir: &Path) -> Result<LiteratureIndex, SearchError> {
    if dir.join("meta.json").is_file() {
        return LiteratureIndex::open(dir);
    }
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| SearchError::io(parent, e))?;
    let name = dir
        .file_name()
        .map_or("index".into(), |n| n.to_string_lossy().into_owned());
    let building = format!(".{name}.building-");
    remove_abandoned(parent, &building);
    let tmp = parent.join(format!("{building}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    build(&tmp)?;
    if std::fs::rename(&tmp, dir).is_err() {
        // Another process finished first: use its index.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    LiteratureIndex::open(dir)
}

/// Removes the build folders in `parent` (named `{building}{pid}`) that no build has
/// touched for [`ABANDONED_AFTER`]: a killed build's, which would otherwise stay for good.
/// A live build writes its folder every few milliseconds, so it is never one of them.
fn remove_abandoned(parent: &Path, building: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let abandoned = entry.file_name().to_string_lossy().starts_with(building)
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age >= ABANDONED_AFTER));
        if abandoned {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Indexes every shipped collection into `dir`.
pub fn build(dir: &Path) -> Result<u64, SearchError> {
    let index = LiteratureIndex::create_or_open(dir)?;
    let mut writer = index.writer()?;
    for collection in Collection::ALL {
        let papers = collection
            .papers()
            .map_err(|e| SearchError::corrupt(dir, e))?;
        for paper in &papers {
            writer.add(paper)?;
        }
    }
    writer.commit()
}
