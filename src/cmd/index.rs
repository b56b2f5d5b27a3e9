//! `miracle index --out DIR [FILES…]`: build or extend a literature index. With no files,
//! the shipped corpora. A paper whose id is indexed already updates it when it is the same
//! work, and is skipped (and named) when it is another: no paper is replaced silently.
//! Nothing is visible until the final commit, so an interrupted run leaves the index as it
//! was.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use miracle_corpora::Collection;
use miracle_experts::search::{Added, LiteratureIndex, words};
use miracle_recipe::words::{WORD_VECTORS, train_for_index};

use super::progress::Console;
use super::read_args::ReadArgs;

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// The index folder (created if absent; an existing index is added to).
    #[arg(long)]
    out: PathBuf,
    /// Literature files (JSONL, CSV/TSV, BibTeX, RIS); the shipped corpora when none.
    files: Vec<PathBuf>,
    /// Index this shipped collection (csl, scifact; repeat for more), beside any files.
    /// SciFact is CC BY-NC 2.0: leave it out of an index for commercial use.
    #[arg(long = "collection", value_name = "NAME")]
    collections: Vec<String>,
    #[command(flatten)]
    read: ReadArgs,
    /// Then train word vectors on every paper of the index (skip-gram, about a minute for
    /// the shipped corpora on two cores): related terms (`search --related`) and query
    /// expansion (`search --expand`). Alone, on an existing index, only trains them.
    #[arg(long)]
    word_vectors: bool,
}

impl IndexArgs {
    /// The shipped collections to index: those named, or all of them when neither a
    /// collection nor a file is.
    fn shipped(&self) -> anyhow::Result<Vec<Collection>> {
        if self.collections.is_empty() && self.files.is_empty() {
            return Ok(Collection::ALL.to_vec());
        }
        let mut chosen = Vec::new();
        for name in &self.collections {
            let Some(collection) = Collection::from_name(name) else {
                let known: Vec<&str> = Collection::ALL.iter().map(|c| c.name()).collect();
                anyhow::bail!(
                    "--collection {name}: no shipped collection has that name ({})",
                    known.join(", ")
                );
            };
            if !chosen.contains(&collection) {
                chosen.push(collection);
            }
        }
        Ok(chosen)
    }

    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        let only_vectors = self.word_vectors
            && self.files.is_empty()
            && self.collections.is_empty()
            && self.out.join("meta.json").is_file();
        if !only_vectors {
            self.add_papers(out)?;
        }
        if self.word_vectors {
            let started = Instant::now();
            let index = LiteratureIndex::open(&self.out)?;
            let mut console = Console::new(out);
            let vectors = train_for_index(&index, &WORD_VECTORS, &mut console)?;
            drop(console);
            writeln!(
                out,
                "word vectors for {} terms in {} in {:.1} s",
                vectors.len(),
                self.out.join(words::FILE).display(),
                started.elapsed().as_secs_f64()
            )?;
        }
        Ok(())
    }

    fn add_papers(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let started = Instant::now();
        // Read everything first: a malformed file stops the run before the index is touched.
        let mut sources = Vec::new();
        for collection in self.shipped()? {
            sources.push((collection.name().to_string(), collection.papers()?));
        }
        for path in &self.files {
            sources.push((path.display().to_string(), self.read.read(path)?.papers));
        }
        let papers: usize = sources.iter().map(|(_, papers)| papers.len()).sum();
        anyhow::ensure!(
            papers > 0,
            "no papers to index: {} held none (nothing was written)",
            sources
                .iter()
                .map(|(source, _)| source.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let index = LiteratureIndex::create_or_open(&self.out)?;
        let before = index.len();
        let mut writer = index.writer()?;
        let mut tally = Tally::default();
        for (source, papers) in &sources {
            let mut here = Tally::default();
            for paper in papers {
                let added = writer.add(paper)?;
                if let Added::Collision { kept } = &added {
                    here.collisions.push(format!(
                        "{source}: `{}` (\"{}\") was not indexed: its id names another paper already indexed (\"{}\"); give it an id of its own",
                        paper.id,
                        clip(&paper.title),
                        clip(kept)
                    ));
                }
                here.count(&added);
            }
            writeln!(out, "{source}: {} papers: {}", papers.len(), here.summary())?;
            tally.merge(here);
        }
        writer.commit()?;
        writeln!(
            out,
            "{} into {} in {:.1} s ({} before, {} now)",
            tally.summary(),
            self.out.display(),
            started.elapsed().as_secs_f64(),
            before,
            index.len()
        )?;
        if !tally.collisions.is_empty() {
            for collision in &tally.collisions {
                eprintln!("{collision}");
            }
            anyhow::bail!(
                "{} papers were not indexed because their ids name other papers (listed above); the rest were",
                tally.collisions.len()
            );
        }
        Ok(())
    }
}

/// What one run (or one file of it) did.
#[derive(Default)]
struct Tally {
    added: usize,
    updated: usize,
    unchanged: usize,
    collisions: Vec<String>,
}

impl Tally {
    fn count(&mut self, added: &Added) {
        match added {
            Added::New => self.added += 1,
            Added::Updated => self.updated += 1,
            Added::Unchanged => self.unchanged += 1,
            Added::Collision { .. } => {}
        }
    }

    fn merge(&mut self, other: Tally) {
        self.added += other.added;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.collisions.extend(other.collisions);
    }

    fn summary(&self) -> String {
        format!(
            "{} added, {} updated, {} skipped (already indexed as they are), {} skipped (id taken by another paper)",
            self.added,
            self.updated,
            self.unchanged,
            self.collisions.len()
        )
    }
}

/// A title, cut for a one-line message.
fn clip(title: &str) -> String {
    match title.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &title[..at]),
        None => title.to_string(),
    }
}
