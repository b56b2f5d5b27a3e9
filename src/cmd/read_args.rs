//! How literature files are read, as options shared by every command that reads them.

use std::path::Path;

use anyhow::{anyhow, bail};
use clap::Args;
use miracle_corpora::read::encoding_for_label;
use miracle_corpora::{Format, ReadError, ReadOptions, ReadReport, read_path};

#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// File format; by default taken from the extension (.jsonl .csv .tsv .bib .ris), then the content.
    #[arg(long, value_parser = Format::NAMES)]
    format: Option<String>,
    /// Text encoding when not UTF-8, e.g. gb18030 for CNKI exports, utf-16le, big5.
    #[arg(long)]
    encoding: Option<String>,
    /// Skip malformed records (each is reported and counted) instead of stopping at the first.
    #[arg(long)]
    lenient: bool,
    /// Longest text one field may hold, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_field_bytes: usize,
}

impl ReadArgs {
    pub fn options(&self) -> anyhow::Result<ReadOptions> {
        let encoding = match &self.encoding {
            Some(label) => match encoding_for_label(label) {
                Some(encoding) => Some(encoding),
                None => bail!(
                    "unknown encoding `{label}`: use a label such as utf-8, gb18030, gbk, big5, utf-16le"
                ),
            },
            None => None,
        };
        Ok(ReadOptions {
            format: self.format.as_deref().and_then(Format::from_name),
            lenient: self.lenient,
            encoding,
            max_field_bytes: self.max_field_bytes,
        })
    }

    /// Reads one file; skipped records (lenient mode) are reported on stderr.
    pub fn read(&self, path: &Path) -> anyhow::Result<ReadReport> {
        let report = read_path(path, &self.options()?).map_err(|err| match err {
            ReadError::Record { path, error } => anyhow!(
                "{}:{}: {} (fix the record, or pass --lenient to skip malformed records)",
                path.display(),
                error.line,
                error.what()
            ),
            other => anyhow!(other),
        })?;
        for skipped in &report.skipped {
            eprintln!(
                "skipped {}:{}: {}",
                path.display(),
                skipped.line,
                skipped.what()
            );
        }
        Ok(report)
    }
}
