//! The GPT core on burn-flex: the KV cache computes exactly what a full forward pass does,
//! the router's hooks (forced spans, allowed sets) behave, and a tiny model really learns.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use miracle_core::gpt::{
    Decoder, Decoding, Finish, GenerateError, GenerateOptions, Gpt, GptConfig, KvCache, Position,
    generate, generate_batch,
};

fn tiny() -> GptConfig {
    GptConfig {
        n_layer: 2,
        n_head: 2,
        n_embd: 16,
        block_size: 16,
        vocab_size: 32,
        dropout: 0.0,
        bias: true,
        position: Default::default(),
    }
}

fn ids(tokens: &[u32], device: &Device) -> Tensor<2, Int> {
    let data: Vec<i64> = tokens.iter().map(|&t| i64::from(t)).collect();
    Tensor::<1, Int>::from_ints(data.as_slice(), device).reshape([1, tokens.len()])
}

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn assert_close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "largest difference {worst}");
}

/// Both position encodings: the learned one (GPT-2) and rotary.
fn both() -> [GptConfig; 2] {
    [
        tiny(),
        GptConfig {
            position: Position::Rotary,
            ..tiny()
        },
    ]
}

#[test]
fn kv_cache_logits_equal_full_forward_logits() {
    for config in both() {
        kv_cache_equals_full_forward(&config);
    }
}

fn kv_cache_equals_full_forward(config: &GptConfig) {
    let device = Device::flex();
    device.seed(1);
    let config = config.clone();
    let model = Gpt::new(&config, &device);
    let tokens: Vec<u32> = vec![3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    let full = floats(model.forward(ids(&tokens, &device)));

    // A prompt of four in one pass, then one token at a time.
    let mut cache = KvCache::new(&config, 1, &device);
    let mut cached = floats(model.forward_cached(ids(&tokens[..4], &device), &mut cache));
    for &token in &tokens[4..] {
        cached.extend(floats(
            model.forward_cached(ids(&[token], &device), &mut cache),
        ));
    }
    assert_eq!(cache.len(), tokens.len());
    assert_close(&full, &cached);

    // The last-position shortcut agrees with the last row.
    let mut cache = KvCache::new(&config, 1, &device);
    let last = floats(model.forward_cached_last(ids(&tokens, &device), &mut cache));
    assert_close(&last, &full[full.len() - config.vocab_size..]);
}

#[test]
fn forced_spans_are_conditioned_on_like_any_prompt() {
    let device = Device::flex();
    device.seed(2);
    let config = tiny();
    let model = Gpt::new(&config, &device);
    let mut decoder = Decoder::new(&model, &config, &device);
    decoder.feed(&[1, 2, 3]).unwrap();
    let chosen = decoder.next_token(&Decoding::Greedy, None).unwrap();
    decoder.feed(&[7, 8]).unwrap(); // an expert's result, forced
    let after = decoder.next_token(&Decoding::Greedy, None).unwrap();
    assert_eq!(decoder.tokens(), &[1, 2, 3, chosen, 7, 8, after]);

    // The token chosen after the forced span is the full model's argmax at that point.
    let logits = floats(model.forward(ids(&[1, 2, 3, chosen, 7, 8], &device)));
    let last = &logits[logits.len() - config.vocab_size..];
    let argmax = (0..last.len()).fold(0, |best, i| if last[i] > last[best] { i } else { best });
    assert_eq!(after as usize, argmax);
}

#[test]
fn allowed_sets_bind_greedy_and_sampled_decoding() {
    let device = Device::flex();
    device.seed(3);
    let config = tiny();
    let model = Gpt::new(&config, &device);
    let mut decoder = Decoder::new(&model, &config, &device);
    decoder.feed(&[5]).unwrap();
    let sampled = Decoding::Sample {
        temperature: 1.5,
        top_k: None,
        top_p: None,
        seed: 9,
    };
    for step in 0..40 {
        let decoding = if step % 2 == 0 {
            &sampled
        } else {
            &Decoding::Greedy
        };
        let token = decoder.next_token(decoding, Some(&[4, 11, 30])).unwrap();
        assert!([4, 11, 30].contains(&token), "{token}");
    }
    assert_eq!(
        decoder.next_token(&Decoding::Greedy, Some(&[])),
        Err(GenerateError::NothingAllowed)
    );
    assert_eq!(
        decoder.next_token(&Decoding::Greedy, Some(&[99])),
        Err(GenerateError::NothingAllowed)
    );
    assert_eq!(
        decoder.feed(&[32]),
        Err(GenerateError::UnknownToken { id: 32, vocab: 32 })
    );
}

#[test]
fn generation_streams_stops_and_slides_past_the_context() {
    let device = Device::flex();
    device.seed(4);
    let config = tiny();
    let model = Gpt::new(&config, &device);
    let mut streamed = Vec::new();
    let options = GenerateOptions {
        max_new_tokens: 40,
        decoding: Decoding::Greedy,
        stop: vec![],
    };
    let (tokens, finish) = generate(&model, &config, &device, &[1, 2], &options, |t| {
        streamed.push(t)
    })
    .unwrap();
    assert_eq!(finish, Finish::Length);
    assert_eq!(
        tokens.len(),
        40,
        "generation goes on past block_size = 16 by sliding"
    );
    assert_eq!(streamed, tokens);

    let stop = vec![tokens[2]];
    let options = GenerateOptions {
        stop: vec![stop.clone()],
        ..options
    };
    let (stopped, finish) = generate(&model, &config, &device, &[1, 2], &options, |_| {}).unwrap();
    assert_eq!(finish, Finish::Stop);
    assert!(stopped.ends_with(&stop) && stopped.len() <= 3);

    let seeded = |seed| {
        let decoding = Decoding::Sample {
            temperature: 1.0,
            top_k: Some(8),
            top_p: Some(0.95),
            seed,
        };
        let options = GenerateOptions {
            max_new_tokens: 12,
            decoding,
            stop: vec![],
        };
        generate(&model, &config, &device, &[1], &options, |_| {})
            .unwrap()
            .0
    };
    assert_eq!(
        seeded(5),
        seeded(5),
        "sampling is reproducible from its seed"
    );
}

#[test]
fn padded_rows_compute_what_they_compute_alone() {
    for config in both() {
        padded_rows_alone(&config);
    }
}

fn padded_rows_alone(config: &GptConfig) {
    let device = Device::flex();
    device.seed(6);
    let config = config.clone();
    let model = Gpt::new(&config, &device);
    let short = [7u32, 8, 9];
    let alone = {
        let mut cache = KvCache::new(&config, 1, &device);
        floats(model.forward_cached_last(ids(&short, &device), &mut cache))
    };
    // Row 0 is the short prompt left-padded by three; row 1 is six real tokens.
    let both = [0, 0, 0, 7, 8, 9, 1, 2, 3, 4, 5, 6];
    let idx = Tensor::<1, Int>::from_ints(both.map(i64::from).as_slice(), &device).reshape([2, 6]);
    let mut cache = KvCache::new(&config, 2, &device);
    let batch = floats(model.forward_padded_last(idx, &[3, 0], &mut cache));
    assert_close(&batch[..config.vocab_size], &alone);

    // And the next step, one token per row, still matches.
    let mut single = KvCache::new(&config, 1, &device);
    model.forward_cached(ids(&short, &device), &mut single);
    let alone = floats(model.forward_cached_last(ids(&[10], &device), &mut single));
    let idx = Tensor::<1, Int>::from_ints([10i64, 11].as_slice(), &device).reshape([2, 1]);
    let batch = floats(model.forward_padded_last(idx, &[3, 0], &mut cache));
    assert_close(&batch[..config.vocab_size], &alone);
}

#[test]
fn batch_generation_equals_generating_each_prompt_alone() {
    let device = Device::flex();
    device.seed(8);
    let config = tiny();
    let model = Gpt::new(&config, &device);
    let prompts = vec![vec![5], vec![1, 2, 3], vec![9, 8, 7, 6, 5, 4]];
    let decodings = [
        Decoding::Greedy,
        Decoding::Sample {
            temperature: 1.0,
            top_k: None,
            top_p: Some(0.9),
            seed: 11,
        },
    ];
    for decoding in decodings {
        let options = GenerateOptions {
            max_new_tokens: 9,
            decoding,
            stop: vec![],
        };
        let alone: Vec<_> = prompts
            .iter()
            .map(|p| generate(&model, &config, &device, p, &options, |_| {}).unwrap())
            .collect();
        let mut streamed = vec![Vec::new(); prompts.len()];
        let batch = generate_batch(&model, &config, &device, &prompts, &options, |row, t| {
            streamed[row].push(t)
        })
        .unwrap();
        assert_eq!(batch, alone, "{:?}", options.decoding);
        let tokens: Vec<_> = batch.iter().map(|(t, _)| t.clone()).collect();
        assert_eq!(streamed, tokens);

        // A stop sequence ends one row early; the others go on to their length.
        let stop = alone[1].0[..2].to_vec();
        let options = GenerateOptions {
            stop: vec![stop.clone()],
            ..options
        };
        let batch =
            generate_batch(&model, &config, &device, &prompts, &options, |_, _| {}).unwrap();
        assert_eq!(batch[1], (stop, Finish::Stop));
        for (row, (tokens, finish)) in batch.iter().enumerate() {
            let want = generate(&model, &config, &device, &prompts[row], &options, |_| {}).unwrap();
            assert_eq!((tokens, finish), (&want.0, &want.1), "row {row}");
        }
    }
}

#[test]
fn batch_generation_slides_past_the_context_and_rejects_bad_prompts() {
    let device = Device::flex();
    device.seed(9);
    let config = tiny();
    let model = Gpt::new(&config, &device);
    let options = GenerateOptions {
        max_new_tokens: 40,
        decoding: Decoding::Greedy,
        stop: vec![],
    };
    // One row slides exactly as the single-sequence decoder does.
    let alone = generate(&model, &config, &device, &[1, 2], &options, |_| {}).unwrap();
    let batch =
        generate_batch(&model, &config, &device, &[vec![1, 2]], &options, |_, _| {}).unwrap();
    assert_eq!(batch, vec![alone]);
    // Several rows of different lengths all get their 40 tokens.
    let prompts = vec![vec![1], vec![3; 10]];
    let batch = generate_batch(&model, &config, &device, &prompts, &options, |_, _| {}).unwrap();
    assert!(
        batch
            .iter()
            .all(|(t, f)| t.len() == 40 && *f == Finish::Length)
    );

    let generate = |prompts: &[Vec<u32>]| {
        generate_batch(&model, &config, &device, prompts, &options, |_, _| {})
    };
    assert_eq!(generate(&[]), Ok(vec![]));
    assert_eq!(generate(&[vec![1], vec![]]), Err(GenerateError::NoPrompt));
    assert_eq!(
        generate(&[vec![40]]),
        Err(GenerateError::UnknownToken { id: 40, vocab: 32 })
    );
    assert_eq!(
        generate(&[vec![1; 17]]),
        Err(GenerateError::TooLong(17, 16))
    );
}

#[test]
fn a_tiny_model_overfits_a_fixed_batch() {
    for config in both() {
        overfits(&config);
    }
}

fn overfits(config: &GptConfig) {
    let device = Device::flex().autodiff();
    device.seed(5);
    let config = config.clone();
    let mut model = Gpt::new(&config, &device);
    let mut optimizer = AdamWConfig::new().with_weight_decay(0.0).init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let batch: Vec<Vec<u32>> = (0..4)
        .map(|b| (0..13).map(|i| ((i * 7 + b * 3) % 32) as u32).collect())
        .collect();
    let flat = |range: std::ops::Range<usize>| -> Vec<i64> {
        batch
            .iter()
            .flat_map(|s| s[range.clone()].iter().map(|&t| i64::from(t)))
            .collect()
    };
    let inputs = Tensor::<1, Int>::from_ints(flat(0..12).as_slice(), &device).reshape([4, 12]);
    let targets = Tensor::<1, Int>::from_ints(flat(1..13).as_slice(), &device);
    let mut loss_value = f32::MAX;
    for _ in 0..150 {
        let logits = model
            .forward(inputs.clone())
            .reshape([48, config.vocab_size]);
        let loss = loss_fn.forward(logits, targets.clone());
        loss_value = loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optimizer.step(1e-2, model, grads);
    }
    assert!(
        loss_value < 0.1,
        "{:?}: loss after 150 steps: {loss_value}",
        config.position
    );
    let _ = model.num_params();
}

#[test]
fn model_directory_round_trip_is_bit_exact() {
    for config in both() {
        round_trip(config);
    }
}

fn round_trip(config: GptConfig) {
    use miracle_core::gpt::model_dir;
    use miracle_core::tokenizer::Tokenizer;
    let device = Device::flex();
    device.seed(6);
    let tokenizer = Tokenizer::shipped().unwrap();
    let config = GptConfig {
        vocab_size: tokenizer.vocab_size(),
        ..config
    };
    let model = Gpt::new(&config, &device);
    let dir = tempfile::tempdir().unwrap();
    model_dir::save(dir.path(), &config, &tokenizer, &model).unwrap();
    let loaded = model_dir::load(dir.path(), &device).unwrap();
    assert_eq!(loaded.config, config);
    let (a, b) = (
        model_dir::weights_bytes(&loaded.model).unwrap(),
        model_dir::weights_bytes(&model).unwrap(),
    );
    let first_difference = a.iter().zip(&b).position(|(x, y)| x != y);
    assert!(
        a.len() == b.len() && first_difference.is_none(),
        "weights differ: lengths {} vs {}, first difference at byte {first_difference:?}",
        a.len(),
        b.len()
    );
    let prompt = ids(&[1, 2, 3], &device);
    assert_eq!(
        floats(loaded.model.forward(prompt.clone())),
        floats(model.forward(prompt))
    );
}

#[test]
fn broken_model_directories_are_clear_errors() {
    use miracle_core::gpt::model_dir;
    use miracle_core::tokenizer::Tokenizer;
    let device = Device::flex();
    let tokenizer = Tokenizer::shipped().unwrap();
    let config = GptConfig {
        vocab_size: tokenizer.vocab_size(),
        ..tiny()
    };
    let dir = tempfile::tempdir().unwrap();
    model_dir::save(dir.path(), &config, &tokenizer, &Gpt::new(&config, &device)).unwrap();
    let weights = dir.path().join(model_dir::WEIGHTS_FILE);
    let good = std::fs::read(&weights).unwrap();

    std::fs::write(&weights, &good[..good.len() / 2]).unwrap();
    let err = model_dir::load(dir.path(), &device)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("model.safetensors: cannot read the weights"),
        "truncated: {err}"
    );

    std::fs::write(&weights, b"not safetensors at all").unwrap();
    assert!(model_dir::load(dir.path(), &device).is_err());

    // Weights of another shape: a config that says 3 layers.
    std::fs::write(&weights, &good).unwrap();
    let other = GptConfig {
        n_layer: 3,
        ..config.clone()
    };
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_string(&other).unwrap(),
    )
    .unwrap();
    let err = model_dir::load(dir.path(), &device)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("the weights do not fit this config: 12 tensors missing"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let zero_heads = serde_json::json!({"n_layer": 2, "n_head": 0, "n_embd": 16, "block_size": 16, "vocab_size": 8192});
    std::fs::write(dir.path().join("config.json"), zero_heads.to_string()).unwrap();
    let err = model_dir::load(dir.path(), &device)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("`n_head` must be at least 1"), "{err}");

    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        serde_json::to_string(&config).unwrap(),
    )
    .unwrap();
    let err = model_dir::load(dir.path(), &device)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("tokenizer.json"), "{err}");
}

#[test]
fn rotary_models_have_no_position_weights_and_need_even_heads() {
    let config = GptConfig {
        position: Position::Rotary,
        ..tiny()
    };
    let learned = tiny();
    assert_eq!(
        learned.parameter_count() - config.parameter_count(),
        learned.block_size * learned.n_embd
    );
    let model = Gpt::new(&config, &Device::flex());
    assert_eq!(model.num_params(), config.parameter_count());
    let odd = GptConfig {
        n_embd: 18,
        n_head: 2,
        ..config
    };
    assert!(odd.validate().unwrap_err().to_string().contains("even"));
}
