//! `miracle index --out DIR [FILES…]`: build or extend a literature index. With no files,
//! the shipped corpora. Papers whose id is already indexed are replaced; nothing is visible
//! until the final commit, so an interrupted run leaves the index as it was.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use miracle_corpora::Collection;
use miracle_experts::search::LiteratureIndex;

use super::read_args::ReadArgs;

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The index folder (created if absent; an existing index is added to).
    #[arg(long)]
    out: PathBuf,
    /// Literature files (JSONL, CSV/TSV, BibTeX, RIS); the shipped corpora when none.
    files: Vec<PathBuf>,
    #[command(flatten)]
    read: ReadArgs,
}

impl IndexArgs {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let started = Instant::now();
        // Read everything first: a malformed file stops the run before the index is touched.
        let mut sources = Vec::new();
        if self.files.is_empty() {
            for collection in Collection::ALL {
                sources.push((collection.name().to_string(), collection.papers()?));
            }
        } else {
            for path in &self.files {
                sources.push((path.display().to_string(), self.read.read(path)?.papers));
            }
        }
        let index = LiteratureIndex::create_or_open(&self.out)?;
        let before = index.len();
        let mut writer = index.writer()?;
        for (source, papers) in &sources {
            for paper in papers {
                writer.add(paper)?;
            }
            writeln!(out, "{source}: {} papers", papers.len())?;
        }
        let added = writer.commit()?;
        writeln!(
            out,
            "indexed {added} papers into {} in {:.1} s ({} before, {} now)",
            self.out.display(),
            started.elapsed().as_secs_f64(),
            before,
            index.len()
        )?;
        Ok(())
    }
}
