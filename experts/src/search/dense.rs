//! Hybrid retrieval's dense half (`dense.bin` beside an index): a bag-of-words encoder
//! trained on the index's own title↔abstract pairs (miracle-core's `dense`), and every
//! paper's vector. A hybrid search takes BM25's top hits and re-scores each as
//! `bm25 / best bm25 + weight × cosine(query, paper)`: BM25's hits are never lost, and a
//! paper the encoder ranks high moves up among them.
//!
//! The file: a magic line, a JSON header line, one line per paper id, then little-endian
//! f32s: the word weights, the word vectors (in `words.bin`'s order) and the papers'
//! unit vectors.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::SearchError;
use super::vectors_file::{self, Reader};
use super::words::WordVectors;

pub const FILE: &str = "dense.bin";
const MAGIC: &str = "MIRACLE-DENSE 1";

/// How many of BM25's hits a hybrid search re-scores (at least the hits asked for): 50
/// and 100 measured the same on SciFact and Cranfield; 50 keeps it at 0.58× BM25's speed.
pub const CANDIDATES: usize = 50;

/// The encoder and the papers' vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseIndex {
    header: Header,
    weights: Vec<f32>,
    vectors: Vec<f32>,
    papers: HashMap<String, usize>,
    paper_vectors: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    dim: usize,
    words: usize,
    papers: usize,
    #[serde(default)]
    trained: serde_json::Value,
}

impl DenseIndex {
    /// An encoder of `words` (one weight, `dim` floats each) and the papers' vectors.
    fn new(
        dim: usize,
        weights: Vec<f32>,
        vectors: Vec<f32>,
        papers: Vec<(String, Vec<f32>)>,
        trained: serde_json::Value,
    ) -> Result<Self, String> {
        let words = weights.len();
        if dim == 0 || vectors.len() != words * dim || papers.iter().any(|(_, v)| v.len() != dim) {
            return Err(format!("sizes do not agree (dim {dim}, {words} words)"));
        }
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if !finite(&weights) || !finite(&vectors) || !papers.iter().all(|(_, v)| finite(v)) {
            return Err("a number is not finite".into());
        }
        let header = Header {
            dim,
            words,
            papers: papers.len(),
            trained,
        };
        let mut index = HashMap::with_capacity(papers.len());
        let mut paper_vectors = Vec::with_capacity(papers.len() * dim);
        for (id, v) in papers {
            if index.insert(id, index.len()).is_some() {
                return Err("a paper is listed twice".into());
            }
            paper_vectors.extend(v);
        }
        Ok(DenseIndex {
            header,
            weights,
            vectors,
            papers: index,
            paper_vectors,
        })
    }

    /// An encoder of `words` (one weight, `dim` floats each) and the papers, each given as
    /// the rows of its words: their vectors are encoded here, as queries are.
    pub fn encoding(
        dim: usize,
        weights: Vec<f32>,
        vectors: Vec<f32>,
        papers: Vec<(String, Vec<usize>)>,
        trained: serde_json::Value,
    ) -> Result<Self, String> {
        let encoder = Self::new(dim, weights, vectors, Vec::new(), trained.clone())?;
        let papers = papers
            .into_iter()
            .map(|(id, rows)| {
                let v = encoder.encode_rows(rows).unwrap_or_else(|| vec![0.0; dim]);
                (id, v)
            })
            .collect();
        Self::new(dim, encoder.weights, encoder.vectors, papers, trained)
    }

    /// The unit vector of a query's terms, read through `words` (terms it lacks add
    /// nothing); `None` when no term is known.
    pub fn encode(&self, words: &WordVectors, terms: &[String]) -> Option<Vec<f32>> {
        self.encode_rows(terms.iter().filter_map(|t| words.index_of(t)))
    }

    /// The normalised sum of the rows' vectors, each times its weight; `None` when no row
    /// is the encoder's or the sum is zero.
    fn encode_rows(&self, rows: impl IntoIterator<Item = usize>) -> Option<Vec<f32>> {
        let dim = self.header.dim;
        let mut v = vec![0.0f32; dim];
        let mut any = false;
        for i in rows.into_iter().filter(|&i| i < self.header.words) {
            let row = &self.vectors[i * dim..(i + 1) * dim];
            v.iter_mut()
                .zip(row)
                .for_each(|(x, r)| *x += self.weights[i] * r);
            any = true;
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        (any && norm > 0.0).then(|| v.into_iter().map(|x| x / norm).collect())
    }

    /// The cosine of a paper with a query vector; 0 for a paper indexed after training.
    pub fn similarity(&self, paper: &str, query: &[f32]) -> f32 {
        let dim = self.header.dim;
        self.papers.get(paper).map_or(0.0, |&i| {
            self.paper_vectors[i * dim..(i + 1) * dim]
                .iter()
                .zip(query)
                .map(|(a, b)| a * b)
                .sum()
        })
    }

    /// Whether it was trained with the word list of `words` (same length): else stale.
    pub fn matches(&self, words: &WordVectors) -> bool {
        self.header.words == words.len()
    }

    pub fn save(&self, dir: &Path) -> Result<(), SearchError> {
        let mut ids: Vec<(&String, &usize)> = self.papers.iter().collect();
        ids.sort_by_key(|&(_, &i)| i);
        let floats = self
            .weights
            .iter()
            .chain(&self.vectors)
            .chain(&self.paper_vectors);
        let lines = ids.into_iter().map(|(id, _)| id.clone());
        vectors_file::write(dir, FILE, MAGIC, &self.header, lines, floats.copied())
    }

    /// The dense index beside the index in `dir`, if it has one.
    pub fn load(dir: &Path) -> Result<Option<Self>, SearchError> {
        vectors_file::read(dir, FILE, Self::parse)
    }

    fn parse(file: &mut Reader<'_>) -> Result<Self, String> {
        let header: Header = file.header(MAGIC)?;
        let mut ids = Vec::new();
        for _ in 0..header.papers {
            ids.push(file.line()?.to_string());
        }
        let count = header
            .words
            .checked_mul(header.dim + 1)
            .and_then(|n| n.checked_add(header.papers.checked_mul(header.dim)?));
        let all = file.floats(count)?;
        let (weights, rest) = all.split_at(header.words);
        let (vectors, papers) = rest.split_at(header.words * header.dim);
        let papers = ids
            .into_iter()
            .zip(papers.chunks(header.dim.max(1)).map(<[f32]>::to_vec))
            .collect();
        Self::new(
            header.dim,
            weights.to_vec(),
            vectors.to_vec(),
            papers,
            header.trained,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_dense_vectors_load_back_and_damage_is_named() {
        let dense = DenseIndex::new(
            2,
            vec![1.0, 0.5],
            vec![1.0, 0.0, 0.0, 1.0],
            vec![("p1".into(), vec![1.0, 0.0]), ("p2".into(), vec![0.0, 1.0])],
            serde_json::Value::Null,
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(DenseIndex::load(dir.path()).unwrap(), None);
        dense.save(dir.path()).unwrap();
        let loaded = DenseIndex::load(dir.path()).unwrap().unwrap();
        assert_eq!(loaded, dense);
        assert_eq!(loaded.similarity("p2", &[0.0, 1.0]), 1.0);
        assert_eq!(loaded.similarity("unknown", &[0.0, 1.0]), 0.0);
        let path = dir.path().join(FILE);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        let err = DenseIndex::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("bytes of numbers") && err.contains("--word-vectors"),
            "{err}"
        );
        std::fs::write(
            &path,
            "MIRACLE-DENSE 1\n{\"dim\":9999999999,\"words\":9999999999,\"papers\":0}\n",
        )
        .unwrap();
        assert!(DenseIndex::load(dir.path()).is_err());
    }
}
