//! Word vectors trained with burn (skip-gram, negative sampling): reproducible from the
//! seed, and words used in the same contexts end up closer than words that are not.

use burn::prelude::Device;
use miracle_core::rng::SplitMix64;
use miracle_core::words::{Corpus, Vectors, Word2VecConfig, train};

/// Sentences of two topics. "tumour" and "tumor" are spelled apart but used alike: the
/// pair a reference desk wants to find together.
fn sentences(n: usize) -> Vec<Vec<&'static str>> {
    let pick = |rng: &mut SplitMix64, words: &[&'static str]| {
        words[(rng.next_u64() % words.len() as u64) as usize]
    };
    let mut rng = SplitMix64::new(5);
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                vec![
                    pick(&mut rng, &["surgeon", "doctor", "oncologist"]),
                    pick(&mut rng, &["removed", "examined", "biopsied"]),
                    pick(&mut rng, &["tumour", "tumor"]),
                    pick(&mut rng, &["patient", "liver", "lung"]),
                    pick(&mut rng, &["malignant", "benign", "metastatic"]),
                ]
            } else {
                vec![
                    pick(&mut rng, &["chef", "baker", "cook"]),
                    pick(&mut rng, &["baked", "sliced", "served"]),
                    pick(&mut rng, &["bread", "cake"]),
                    pick(&mut rng, &["oven", "kitchen", "table"]),
                    pick(&mut rng, &["fresh", "warm", "sweet"]),
                ]
            }
        })
        .collect()
}

fn config() -> Word2VecConfig {
    Word2VecConfig {
        dim: 16,
        window: 3,
        negatives: 4,
        min_count: 1,
        subsample: 0.0,
        epochs: 20,
        min_steps: 0,
        batch_size: 512,
        lr: 0.02,
        seed: 9,
    }
}

fn cosine(corpus: &Corpus, vectors: &Vectors, a: &str, b: &str) -> f32 {
    let row = |w: &str| {
        let i = corpus
            .words
            .iter()
            .position(|x| x == w)
            .expect("in the vocabulary");
        &vectors.data[i * vectors.dim..(i + 1) * vectors.dim]
    };
    let (a, b) = (row(a), row(b));
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn words_used_alike_end_up_closer_than_words_that_are_not() {
    let corpus = Corpus::new(sentences(600), 1);
    let mut losses = Vec::new();
    let vectors = train(&corpus, &config(), &Device::flex(), &mut |p| {
        losses.push(p.loss)
    })
    .unwrap();
    assert!(
        losses.last().unwrap() < &(losses[0] * 0.8),
        "the loss falls: {losses:?}"
    );
    let synonyms = cosine(&corpus, &vectors, "tumour", "tumor");
    for other in ["bread", "cake", "oven", "chef", "sweet"] {
        let unrelated = cosine(&corpus, &vectors, "tumour", other);
        assert!(
            synonyms > unrelated + 0.3,
            "tumour~tumor {synonyms:.3} against tumour~{other} {unrelated:.3}"
        );
    }
}

#[test]
fn training_is_reproducible_from_the_seed() {
    let corpus = Corpus::new(sentences(200), 1);
    let run = |seed| {
        let config = Word2VecConfig { seed, ..config() };
        train(&corpus, &config, &Device::flex(), &mut |_| {}).unwrap()
    };
    assert_eq!(run(3), run(3));
    assert_ne!(run(3), run(4));
}

#[test]
fn an_empty_vocabulary_and_zero_sizes_are_errors_not_panics() {
    let corpus = Corpus::new(sentences(10), 1_000);
    let err = train(&corpus, &config(), &Device::flex(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("nothing to train on"), "{err}");
    let corpus = Corpus::new(sentences(10), 1);
    let config = Word2VecConfig { dim: 0, ..config() };
    let err = train(&corpus, &config, &Device::flex(), &mut |_| {}).unwrap_err();
    assert!(err.to_string().starts_with("dim"), "{err}");
}

/// Hybrid search's encoder: from word vectors, trained on pairs of texts that belong
/// together (here a sentence's first three words and its last two), reproducibly; after
/// training, each text's partner is nearer than the partners of the other topic's texts.
#[test]
fn the_dense_encoder_learns_which_texts_belong_together() {
    use miracle_core::dense::{EncoderConfig, train_encoder};
    let sentences = sentences(400);
    let corpus = Corpus::new(sentences.clone(), 1);
    let vectors = train(&corpus, &config(), &Device::flex(), &mut |_| {}).unwrap();
    let id = |w: &str| corpus.words.iter().position(|x| x == w).unwrap() as u32;
    let pairs: Vec<(Vec<u32>, Vec<u32>)> = sentences
        .iter()
        .map(|s| {
            (
                s[..3].iter().map(|w| id(w)).collect(),
                s[3..].iter().map(|w| id(w)).collect(),
            )
        })
        .collect();
    let config = EncoderConfig {
        batch_size: 32,
        epochs: 3,
        ..EncoderConfig::default()
    };
    let mut losses = Vec::new();
    let run = |losses: &mut Vec<f32>| {
        train_encoder(
            &vectors,
            &corpus.counts,
            &pairs,
            &config,
            &Device::flex(),
            &mut |p| losses.push(p.loss),
        )
        .unwrap()
    };
    let encoder = run(&mut losses);
    assert_eq!(encoder, run(&mut Vec::new()));
    assert!(losses.last().unwrap() < &losses[0], "{losses:?}");
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    // A text's vector, as the module documents it: the weighted sum of its words' vectors.
    let encode = |words: &[u32]| -> Vec<f32> {
        let dim = encoder.dim;
        let mut v = vec![0.0f32; dim];
        for &w in words {
            let row = &encoder.vectors[w as usize * dim..(w as usize + 1) * dim];
            let weight = encoder.weights[w as usize];
            v.iter_mut().zip(row).for_each(|(x, r)| *x += weight * r);
        }
        let norm = dot(&v, &v).sqrt();
        v.into_iter().map(|x| x / norm).collect()
    };
    // A medical sentence's start against a medical ending and a cooking one.
    let (start, near, far) = (&pairs[0].0, &pairs[2].1, &pairs[1].1);
    let q = encode(start);
    assert!(dot(&q, &encode(near)) > dot(&q, &encode(far)) + 0.2);
    let too_few = train_encoder(
        &vectors,
        &corpus.counts,
        &pairs[..1],
        &config,
        &Device::flex(),
        &mut |_| {},
    );
    assert!(too_few.unwrap_err().to_string().contains("two or more"));
}
