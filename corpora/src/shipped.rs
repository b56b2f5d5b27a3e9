//! The collections and tokenizer Miracle ships, embedded in the binary so that a fresh
//! clone (or a copied executable) runs with nothing to download and no `../shared`.

use std::path::Path;

use crate::error::ReadError;
use crate::paper::Paper;
use crate::read::{ReadOptions, read_bytes};

/// A literature collection shipped under `corpora/data/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collection {
    /// CSL: 2,000 Chinese scientific papers with titles, abstracts and keywords.
    Csl,
    /// SciFact (BEIR): 5,183 English biomedical abstracts.
    Scifact,
}

impl Collection {
    pub const ALL: [Collection; 2] = [Collection::Csl, Collection::Scifact];

    pub fn name(self) -> &'static str {
        match self {
            Collection::Csl => "csl",
            Collection::Scifact => "scifact",
        }
    }

    pub fn from_name(name: &str) -> Option<Collection> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    pub fn description(self) -> &'static str {
        match self {
            Collection::Csl => "CSL — Chinese Scientific Literature (ydli-ai/CSL), 2,000 papers",
            Collection::Scifact => {
                "SciFact — English biomedical abstracts (BEIR release, allenai/scifact)"
            }
        }
    }

    pub fn licence(self) -> &'static str {
        match self {
            Collection::Csl => "Apache-2.0",
            Collection::Scifact => "CC BY-NC 2.0",
        }
    }

    /// Where the file lives in the repository, relative to its root.
    pub fn path(self) -> &'static str {
        match self {
            Collection::Csl => "corpora/data/csl-2000.jsonl",
            Collection::Scifact => "corpora/data/scifact-corpus.jsonl",
        }
    }

    /// The file's bytes, as shipped.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Collection::Csl => include_bytes!("../data/csl-2000.jsonl"),
            Collection::Scifact => include_bytes!("../data/scifact-corpus.jsonl"),
        }
    }

    /// Every paper of the collection, read strictly (the shipped files are checked by tests).
    pub fn papers(self) -> Result<Vec<Paper>, ReadError> {
        Ok(read_bytes(
            self.bytes(),
            Path::new(self.path()),
            &ReadOptions::default(),
        )?
        .papers)
    }
}

/// The byte-level BPE tokenizer of the default model (`corpora/tokenizer/tokenizer.json`),
/// made by `miracle tokenizer train` as recorded in `corpora/README.md`.
pub const TOKENIZER_JSON: &str = include_str!("../tokenizer/tokenizer.json");

/// The English–Chinese lexicon of cross-language search (`corpora/lexicon/en-zh.tsv`, from
/// ECDICT, MIT; made by `scripts/lexicon/ecdict.py`): `headword<TAB>gloss|gloss|…`, one
/// English word a line, commoner words first, its Chinese glosses best first.
pub const LEXICON_EN_ZH: &str = include_str!("../lexicon/en-zh.tsv");

/// The default model (`corpora/models/default/`, trained by `miracle train --recipe
/// corpora/recipes/default.yaml`), embedded so `miracle ask` works on a fresh machine.
pub mod default_model {
    pub const CONFIG_JSON: &str = include_str!("../models/default/config.json");
    pub const TOKENIZER_JSON: &str = include_str!("../models/default/tokenizer.json");
    pub const WEIGHTS: &[u8] = include_bytes!("../models/default/model.safetensors");
}
