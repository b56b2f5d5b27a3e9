//! Word vectors beside an index (`words.bin` in its folder): trained on the index's own
//! terms by `miracle index --word-vectors` (skip-gram with negative sampling, miracle-core's
//! `words`), so every neighbour is a term the index can be searched for. They give a
//! search its related terms ([`WordVectors::related`]) and, when asked, expand a query with
//! them ([`Expansion`]).
//!
//! The file: a magic line, a JSON header line, one line per word (`term\tword\tcount`,
//! most frequent first) and the unit-length vectors as little-endian f32, row by row.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::SearchError;
use super::vectors_file::{self, Reader};

/// The file beside the index's own.
pub const FILE: &str = "words.bin";
const MAGIC: &str = "MIRACLE-WORDS 1";

/// A vocabulary of index terms and a unit-length vector for each.
#[derive(Debug, Clone, PartialEq)]
pub struct WordVectors {
    header: Header,
    /// The index term ("retriev") and the word it most often came from ("retrieval").
    entries: Vec<Entry>,
    by_term: HashMap<String, usize>,
    data: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Header {
    dim: usize,
    words: usize,
    /// How they were trained (the trainer's config), kept for the record.
    #[serde(default)]
    trained: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    term: String,
    word: String,
    count: u64,
}

/// One neighbour: the index term, the word shown for it, the cosine similarity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Related {
    pub term: String,
    pub word: String,
    pub similarity: f32,
}

/// How a query is expanded: each term's `per_term` nearest terms at or above
/// `min_similarity`, each added as an optional clause weighted `weight × similarity`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expansion {
    pub per_term: usize,
    pub min_similarity: f32,
    pub weight: f32,
}

impl Default for Expansion {
    fn default() -> Self {
        Expansion {
            per_term: 3,
            min_similarity: 0.6,
            weight: 0.3,
        }
    }
}

impl WordVectors {
    /// `(term, word, count)` per row of `data` (`dim` floats each); rows are normalised.
    pub fn new(
        words: Vec<(String, String, u64)>,
        dim: usize,
        mut data: Vec<f32>,
        trained: serde_json::Value,
    ) -> Result<Self, String> {
        if dim > 0 {
            for row in data.chunks_mut(dim) {
                let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm > 0.0 {
                    row.iter_mut().for_each(|x| *x /= norm);
                }
            }
        }
        Self::normalised(words, dim, data, trained)
    }

    /// As [`new`](Self::new), of rows already normalised (as a saved file holds them).
    fn normalised(
        words: Vec<(String, String, u64)>,
        dim: usize,
        data: Vec<f32>,
        trained: serde_json::Value,
    ) -> Result<Self, String> {
        if dim == 0 || data.len() != words.len() * dim {
            return Err(format!(
                "{} floats for {} words of {dim}",
                data.len(),
                words.len()
            ));
        }
        if !data.iter().all(|x| x.is_finite()) {
            return Err("a vector is not finite".into());
        }
        let entries: Vec<Entry> = words
            .into_iter()
            .map(|(term, word, count)| Entry { term, word, count })
            .collect();
        let by_term = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.term.clone(), i))
            .collect::<HashMap<_, _>>();
        if by_term.len() != entries.len() {
            return Err("a term is listed twice".into());
        }
        Ok(WordVectors {
            header: Header {
                dim,
                words: entries.len(),
                trained,
            },
            entries,
            by_term,
            data,
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn dim(&self) -> usize {
        self.header.dim
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim()..(i + 1) * self.dim()]
    }

    /// The row of an index term, if it has one.
    pub fn index_of(&self, term: &str) -> Option<usize> {
        self.by_term.get(term).copied()
    }

    /// The vector of an index term, if it has one.
    pub fn vector(&self, term: &str) -> Option<&[f32]> {
        self.by_term.get(term).map(|&i| self.row(i))
    }

    /// The `k` terms nearest to the sum of `positive` less the sum of `negative` (all unit
    /// vectors; word2vec's analogy is `related(&[b, c], &[a])` for a : b :: c : ?), the
    /// terms asked about left out. Terms without a vector are ignored; none at all: empty.
    pub fn related(&self, positive: &[&str], negative: &[&str], k: usize) -> Vec<Related> {
        let mut target = vec![0.0f32; self.dim()];
        let mut any = false;
        for (terms, sign) in [(positive, 1.0f32), (negative, -1.0)] {
            for v in terms.iter().filter_map(|t| self.vector(t)) {
                target.iter_mut().zip(v).for_each(|(t, x)| *t += sign * x);
                any = true;
            }
        }
        if !any || k == 0 {
            return Vec::new();
        }
        let norm = target.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        let mut scored: Vec<(f32, usize)> = (0..self.len())
            .filter(|&i| {
                let term = self.entries[i].term.as_str();
                !positive.contains(&term) && !negative.contains(&term)
            })
            .map(|i| {
                let dot: f32 = self.row(i).iter().zip(&target).map(|(a, b)| a * b).sum();
                (dot / norm, i)
            })
            .collect();
        let k = k.min(scored.len());
        if k == 0 {
            return Vec::new();
        }
        scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(k);
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
            .into_iter()
            .map(|(similarity, i)| Related {
                term: self.entries[i].term.clone(),
                word: self.entries[i].word.clone(),
                similarity,
            })
            .collect()
    }

    /// The terms `expansion` adds to a query of `terms`, with their weights: neither a
    /// query term nor added twice (a term near two query terms keeps its best weight).
    pub fn expand(&self, terms: &[String], expansion: &Expansion) -> Vec<(String, f32)> {
        let asked: Vec<&str> = terms.iter().map(String::as_str).collect();
        let mut added: Vec<(String, f32)> = Vec::new();
        for term in &asked {
            // The query's other terms may be among the nearest: ask for that many more.
            let nearest = self
                .related(&[term], &[], expansion.per_term + asked.len())
                .into_iter()
                .filter(|near| !asked.contains(&near.term.as_str()))
                .take(expansion.per_term);
            for near in nearest {
                if near.similarity < expansion.min_similarity {
                    continue;
                }
                let weight = expansion.weight * near.similarity;
                match added.iter_mut().find(|(t, _)| *t == near.term) {
                    Some((_, w)) => *w = w.max(weight),
                    None => added.push((near.term, weight)),
                }
            }
        }
        added
    }

    /// Writes the vectors into `dir` (atomically: a temporary file renamed).
    pub fn save(&self, dir: &Path) -> Result<(), SearchError> {
        let lines = self
            .entries
            .iter()
            .map(|e| format!("{}\t{}\t{}", e.term, e.word, e.count));
        vectors_file::write(
            dir,
            FILE,
            MAGIC,
            &self.header,
            lines,
            self.data.iter().copied(),
        )
    }

    /// The vectors beside the index in `dir`: `None` when it has none; a damaged file is
    /// an error that says to train them again.
    pub fn load(dir: &Path) -> Result<Option<Self>, SearchError> {
        vectors_file::read(dir, FILE, Self::parse)
    }

    fn parse(file: &mut Reader<'_>) -> Result<Self, String> {
        let header: Header = file.header(MAGIC)?;
        // A hostile header must not make us reserve memory for words it does not list.
        let mut words = Vec::new();
        for i in 0..header.words {
            let text = file.line()?;
            let mut fields = text.split('\t');
            let (Some(term), Some(word), Some(count), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(format!("word {}: not `term<TAB>word<TAB>count`", i + 1));
            };
            let count = count
                .parse()
                .map_err(|_| format!("word {}: the count {count:?} is not a number", i + 1))?;
            words.push((term.to_string(), word.to_string(), count));
        }
        let data = file.floats(header.words.checked_mul(header.dim))?;
        Self::normalised(words, header.dim, data, header.trained)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> WordVectors {
        let words = ["king", "queen", "man", "woman", "bread"]
            .iter()
            .map(|w| (w.to_string(), w.to_string(), 1))
            .collect();
        #[rustfmt::skip]
        let data = vec![
            1.0, 1.0, 0.0,   // king: royal, male
            1.0, 0.0, 1.0,   // queen: royal, female
            0.0, 1.0, 0.0,   // man
            0.0, 0.0, 1.0,   // woman
            -1.0, 0.1, 0.1,  // bread
        ];
        WordVectors::new(words, 3, data, serde_json::Value::Null).unwrap()
    }

    #[test]
    fn the_analogy_finds_the_fourth_word() {
        let v = vectors();
        let best = &v.related(&["king", "woman"], &["man"], 1)[0];
        assert_eq!(best.term, "queen");
        assert!(best.similarity > 0.9, "{best:?}");
    }

    #[test]
    fn expansion_adds_near_terms_once_and_never_the_query_s_own() {
        let v = vectors();
        let added = v.expand(
            &["king".into(), "queen".into()],
            &Expansion {
                per_term: 2,
                min_similarity: 0.4,
                weight: 0.5,
            },
        );
        let terms: Vec<&str> = added.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(terms, ["man", "woman"]);
        assert!(added.iter().all(|(_, w)| *w <= 0.5 && *w > 0.2));
        let none = Expansion {
            per_term: 0,
            min_similarity: -1.0,
            weight: 0.5,
        };
        assert!(v.expand(&["king".into(), "queen".into()], &none).is_empty());
    }

    #[test]
    fn saved_vectors_load_back_and_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(WordVectors::load(dir.path()).unwrap(), None);
        let v = vectors();
        v.save(dir.path()).unwrap();
        assert_eq!(WordVectors::load(dir.path()).unwrap(), Some(v));
        let path = dir.path().join(FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).unwrap();
        let err = WordVectors::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("bytes of numbers") && err.contains("--word-vectors"),
            "{err}"
        );
        std::fs::write(
            &path,
            "MIRACLE-WORDS 1\n{\"dim\":3,\"words\":99999999999}\n",
        )
        .unwrap();
        let err = WordVectors::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("ends inside its list"), "{err}");
        std::fs::write(&path, "not it").unwrap();
        assert!(WordVectors::load(dir.path()).is_err());
    }
}
