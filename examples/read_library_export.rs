//! A library's own collection into Miracle: read an export from Zotero, EndNote or CNKI
//! (BibTeX, RIS, CSV or JSONL) and look at the papers, skipping malformed records.
//!
//!     cargo run --example read_library_export -- corpora/tests/fixtures/zotero.bib
//!     cargo run --example read_library_export -- corpora/tests/fixtures/cnki-gbk.ris gb18030

use std::path::PathBuf;
use std::process::ExitCode;

use miracle::corpora::read::encoding_for_label;
use miracle::corpora::{ReadOptions, read_path};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "corpora/tests/fixtures/zotero.bib".into()),
    );
    let options = ReadOptions {
        lenient: true,
        encoding: args.next().and_then(|label| encoding_for_label(&label)),
        ..ReadOptions::default()
    };
    let report = match read_path(&path, &options) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    for paper in &report.papers {
        let year = paper.year.map_or("n.d.".to_string(), |y| y.to_string());
        println!(
            "[{}] {} ({year}, {}) — {}",
            paper.id,
            paper.title,
            paper.lang,
            paper.authors.join("; ")
        );
    }
    for skipped in &report.skipped {
        eprintln!(
            "skipped {}:{}: {}",
            path.display(),
            skipped.line,
            skipped.what()
        );
    }
    println!(
        "{} papers, {} skipped",
        report.papers.len(),
        report.skipped.len()
    );
    ExitCode::SUCCESS
}
