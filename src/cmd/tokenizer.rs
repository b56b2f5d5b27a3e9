//! `miracle tokenizer`: train, encode, decode and evaluate the byte-level BPE tokenizer.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use miracle_core::tokenizer::{Tokenizer, TrainConfig, train};
use miracle_corpora::split::is_held_out;
use miracle_corpora::{Collection, Lang, Paper};

use super::read_args::ReadArgs;

#[derive(Debug, Subcommand)]
pub enum TokenizerCommand {
    /// Train a tokenizer on the shipped corpora (held-out papers excluded) or on given files.
    ///
    /// The shipped tokenizer was made with:
    /// miracle tokenizer train --out corpora/tokenizer/tokenizer.json
    Train(TrainArgs),
    /// Show the tokens of a text.
    Encode {
        text: String,
        /// Treat protocol markers such as <|call|> as special tokens (by default they are text).
        #[arg(long)]
        special: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        which: WhichTokenizer,
    },
    /// Turn token ids back into text.
    Decode {
        #[arg(required = true)]
        ids: Vec<u32>,
        #[command(flatten)]
        which: WhichTokenizer,
    },
    /// Bytes per token on the held-out English and Chinese papers of the shipped corpora.
    Eval {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        which: WhichTokenizer,
    },
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Train on these files instead of the shipped corpora.
    #[arg(long = "input", value_name = "FILE")]
    inputs: Vec<PathBuf>,
    /// Also train on the shipped corpora (held-out papers excluded) when --input is given.
    #[arg(long)]
    with_shipped: bool,
    /// Vocabulary size, special tokens and the 256 byte symbols included.
    #[arg(long, default_value_t = TrainConfig::default().vocab_size)]
    vocab_size: usize,
    /// Merge only pairs seen at least this often.
    #[arg(long, default_value_t = TrainConfig::default().min_frequency)]
    min_frequency: u64,
    /// How many times each Chinese paper counts in training. Chinese is a fifth of the
    /// shipped text; 3 balances the two languages (see docs/BENCHMARKS.md).
    #[arg(long, default_value_t = 3)]
    zh_weight: usize,
    /// Where to write tokenizer.json.
    #[arg(long, short, default_value = "tokenizer.json")]
    out: PathBuf,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Debug, Args)]
pub struct WhichTokenizer {
    /// A tokenizer.json to use instead of the shipped one.
    #[arg(long, value_name = "PATH")]
    tokenizer: Option<PathBuf>,
}

impl WhichTokenizer {
    fn load(&self) -> anyhow::Result<Tokenizer> {
        Ok(match &self.tokenizer {
            Some(path) => Tokenizer::from_file(path)?,
            None => Tokenizer::shipped()?,
        })
    }
}

impl TokenizerCommand {
    pub fn run(self, out: &mut dyn Write) -> anyhow::Result<()> {
        match self {
            TokenizerCommand::Train(args) => run_train(out, &args),
            TokenizerCommand::Encode {
                text,
                special,
                json,
                which,
            } => encode(out, &which.load()?, &text, special, json),
            TokenizerCommand::Decode { ids, which } => {
                writeln!(out, "{}", which.load()?.decode(&ids)?)?;
                Ok(())
            }
            TokenizerCommand::Eval { json, which } => {
                eval(out, &which.load()?, &shipped_split()?.1, json)
            }
        }
    }
}

/// The shipped papers, split into training and held-out by the corpus-wide rule.
fn shipped_split() -> anyhow::Result<(Vec<Paper>, Vec<Paper>)> {
    let mut train = Vec::new();
    let mut held = Vec::new();
    for collection in Collection::ALL {
        let papers = collection
            .papers()
            .with_context(|| format!("the shipped {} collection is damaged", collection.name()))?;
        for paper in papers {
            if is_held_out(&paper.id) {
                held.push(paper)
            } else {
                train.push(paper)
            }
        }
    }
    Ok((train, held))
}

fn run_train(out: &mut dyn Write, args: &TrainArgs) -> anyhow::Result<()> {
    // Read once: the training half may be used, the held-out half always is (for the report).
    let (shipped_train, held) = shipped_split()?;
    let mut papers = Vec::new();
    if args.inputs.is_empty() || args.with_shipped {
        papers.extend(shipped_train);
    }
    for path in &args.inputs {
        papers.extend(args.read.read(path)?.papers);
    }
    if papers.is_empty() {
        bail!("no text to train on: the input files hold no papers");
    }
    let config = TrainConfig {
        vocab_size: args.vocab_size,
        min_frequency: args.min_frequency,
    };
    let started = Instant::now();
    let weight = |p: &Paper| {
        if p.lang == Lang::Zh {
            args.zh_weight
        } else {
            1
        }
    };
    let texts = papers
        .iter()
        .flat_map(|p| std::iter::repeat_n(p.text(), weight(p)));
    let tokenizer = train(texts, &config)?;
    let seconds = started.elapsed().as_secs_f64();
    tokenizer.save(&args.out)?;
    writeln!(
        out,
        "trained a {}-token tokenizer on {} papers ({:.1} MB) in {seconds:.1} s; wrote {}",
        tokenizer.vocab_size(),
        papers.len(),
        papers.iter().map(|p| p.text().len()).sum::<usize>() as f64 / 1e6,
        args.out.display()
    )?;
    eval(out, &tokenizer, &held, false)
}

fn encode(
    out: &mut dyn Write,
    tokenizer: &Tokenizer,
    text: &str,
    special: bool,
    json: bool,
) -> anyhow::Result<()> {
    let ids = if special {
        tokenizer.encode_with_special(text)?
    } else {
        tokenizer.encode(text)?
    };
    let pieces: Vec<String> = ids
        .iter()
        .map(|&id| show_token(tokenizer, id))
        .collect::<Result<_, _>>()?;
    if json {
        writeln!(
            out,
            "{}",
            serde_json::json!({ "ids": ids, "tokens": pieces })
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{} tokens, {} bytes ({:.2} bytes/token)",
        ids.len(),
        text.len(),
        text.len() as f64 / ids.len().max(1) as f64
    )?;
    writeln!(
        out,
        "ids:    {}",
        ids.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
    )?;
    writeln!(out, "tokens: {}", pieces.join(" "))?;
    Ok(())
}

/// A token as a quoted string, or as its bytes when it holds part of a character.
fn show_token(tokenizer: &Tokenizer, id: u32) -> anyhow::Result<String> {
    let bytes = tokenizer.bytes_of(id)?;
    Ok(match std::str::from_utf8(bytes) {
        Ok(text) => format!("{text:?}"),
        Err(_) => format!(
            "<{}>",
            bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    })
}

fn eval(
    out: &mut dyn Write,
    tokenizer: &Tokenizer,
    held: &[Paper],
    json: bool,
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for (name, lang) in [("English", Lang::En), ("Chinese", Lang::Zh)] {
        let texts: Vec<String> = held
            .iter()
            .filter(|p| p.lang == lang)
            .map(Paper::text)
            .collect();
        let bytes: usize = texts.iter().map(String::len).sum();
        let ratio = tokenizer.bytes_per_token(texts.iter().map(String::as_str))?;
        rows.push((name, texts.len(), bytes, ratio));
    }
    if json {
        let value: Vec<_> = rows
            .iter()
            .map(|(lang, papers, bytes, ratio)| serde_json::json!({"lang": lang, "papers": papers, "bytes": bytes, "bytes_per_token": ratio}))
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::json!({"vocab_size": tokenizer.vocab_size(), "held_out": value})
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "held-out text (papers never trained on), vocabulary {}:",
        tokenizer.vocab_size()
    )?;
    for (lang, papers, bytes, ratio) in rows {
        writeln!(
            out,
            "  {lang:<8} {papers:>4} papers, {bytes:>8} bytes: {ratio:.2} bytes/token"
        )?;
    }
    Ok(())
}
