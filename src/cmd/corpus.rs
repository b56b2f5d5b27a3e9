//! `miracle corpus`: the shipped collections, and checking or converting library exports.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use miracle_corpora::{Collection, Paper};

use super::read_args::ReadArgs;

#[derive(Debug, Subcommand)]
pub enum CorpusCommand {
    /// List the collections Miracle ships (embedded in the binary).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print papers of a shipped collection as JSON Lines.
    Show {
        /// Collection name: csl or scifact.
        collection: String,
        /// How many papers to print.
        #[arg(long, default_value_t = 3)]
        limit: usize,
    },
    /// Read library exports (JSONL, CSV, BibTeX, RIS) and report what they hold.
    Check {
        /// Files to read.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Convert library exports into Miracle's JSON Lines (one paper per line).
    Convert {
        /// Files to read.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where to write the JSON Lines (written atomically).
        #[arg(long, short)]
        out: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
    },
}

impl CorpusCommand {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        match self {
            CorpusCommand::List { json } => list(out, json),
            CorpusCommand::Show { collection, limit } => show(out, &collection, limit),
            CorpusCommand::Check { files, read } => check(out, &files, &read),
            CorpusCommand::Convert {
                files,
                out: path,
                read,
            } => convert(out, &files, &path, &read),
        }
    }
}

fn shipped(collection: Collection) -> anyhow::Result<Vec<Paper>> {
    collection
        .papers()
        .with_context(|| format!("the shipped {} collection is damaged", collection.name()))
}

/// Papers per language, and the range of years, of a set of papers.
struct Summary {
    papers: usize,
    langs: BTreeMap<String, usize>,
    years: Option<(i32, i32)>,
}

impl Summary {
    fn of(papers: &[Paper]) -> Summary {
        let mut langs = BTreeMap::new();
        for paper in papers {
            *langs.entry(paper.lang.code().to_string()).or_insert(0) += 1;
        }
        let years = papers
            .iter()
            .filter_map(|p| p.year)
            .fold(None, |range, y| match range {
                None => Some((y, y)),
                Some((lo, hi)) => Some((lo.min(y), hi.max(y))),
            });
        Summary {
            papers: papers.len(),
            langs,
            years,
        }
    }

    fn langs_text(&self) -> String {
        self.langs
            .iter()
            .map(|(lang, n)| format!("{lang} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn years_text(&self) -> String {
        self.years
            .map_or("-".to_string(), |(lo, hi)| format!("{lo}–{hi}"))
    }
}

fn list(out: &mut dyn Write, json: bool) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for collection in Collection::ALL {
        rows.push((collection, Summary::of(&shipped(collection)?)));
    }
    if json {
        let value: Vec<_> = rows
            .iter()
            .map(|(c, s)| {
                serde_json::json!({
                    "name": c.name(), "description": c.description(), "papers": s.papers,
                    "languages": s.langs, "licence": c.licence(), "path": c.path(),
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<9} {:>6}  {:<16} {:<13} file",
        "name", "papers", "languages", "licence"
    )?;
    for (collection, summary) in &rows {
        writeln!(
            out,
            "{:<9} {:>6}  {:<16} {:<13} {}",
            collection.name(),
            summary.papers,
            summary.langs_text(),
            collection.licence(),
            collection.path()
        )?;
    }
    writeln!(out)?;
    for (collection, _) in &rows {
        writeln!(out, "{:<9} {}", collection.name(), collection.description())?;
    }
    writeln!(
        out,
        "\nAttribution and licences: corpora/README.md. Show papers with `miracle corpus show csl`."
    )?;
    Ok(())
}

fn show(out: &mut dyn Write, name: &str, limit: usize) -> anyhow::Result<()> {
    let Some(collection) = Collection::from_name(name) else {
        let names: Vec<&str> = Collection::ALL.iter().map(|c| c.name()).collect();
        bail!(
            "no shipped collection is called `{name}`; the collections are {}",
            names.join(", ")
        );
    };
    for paper in shipped(collection)?.iter().take(limit) {
        writeln!(out, "{}", serde_json::to_string(paper)?)?;
    }
    Ok(())
}

fn check(out: &mut dyn Write, files: &[PathBuf], read: &ReadArgs) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:>6} {:>7}  {:<16} {:<11} file",
        "papers", "skipped", "languages", "years"
    )?;
    for path in files {
        let report = read.read(path)?;
        let summary = Summary::of(&report.papers);
        writeln!(
            out,
            "{:>6} {:>7}  {:<16} {:<11} {}",
            summary.papers,
            report.skipped.len(),
            summary.langs_text(),
            summary.years_text(),
            path.display()
        )?;
    }
    Ok(())
}

fn convert(
    out: &mut dyn Write,
    files: &[PathBuf],
    path: &Path,
    read: &ReadArgs,
) -> anyhow::Result<()> {
    let mut lines = String::new();
    let (mut papers, mut skipped) = (0usize, 0usize);
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for file in files {
        let report = read.read(file)?;
        skipped += report.skipped.len();
        for paper in report.papers {
            if let Some(first) = seen.insert(paper.id.clone(), file.clone()) {
                bail!(
                    "{}: id `{}` is also used in {}; ids must be unique across the files converted together",
                    file.display(),
                    paper.id,
                    first.display()
                );
            }
            lines.push_str(&serde_json::to_string(&paper)?);
            lines.push('\n');
            papers += 1;
        }
    }
    super::write_file(path, lines.as_bytes())?;
    writeln!(
        out,
        "wrote {papers} papers to {} ({skipped} records skipped)",
        path.display()
    )?;
    Ok(())
}
