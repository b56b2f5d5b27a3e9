//! Where a trained model goes wrong on demonstrations, read with teacher forcing: for each
//! category, the share of trained tokens it predicts (argmax) right, split into digits that
//! start a number, other digits, and the rest.
//!
//!   cargo run --release -p miracle-router --example teacher_forced -- MODEL_DIR DEMOS.jsonl [N]

use std::collections::BTreeMap;
use std::path::Path;

use burn::prelude::*;
use miracle_core::gpt::model_dir;
use miracle_router::demos::Demo;
use miracle_router::protocol::render;

#[derive(Default)]
struct Tally {
    right: usize,
    all: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, demos, rest @ ..] = args.as_slice() else {
        return Err("usage: teacher_forced MODEL_DIR DEMOS.jsonl [N]".into());
    };
    let n: usize = rest.first().map_or(Ok(300), |s| s.parse())?;
    let device = Device::flex();
    let loaded = model_dir::load(Path::new(dir), &device)?;
    let text = std::fs::read_to_string(demos)?;
    let lines: Vec<&str> = text.lines().collect();
    let step = (lines.len() / n).max(1);
    let mut tallies: BTreeMap<(String, &str), Tally> = BTreeMap::new();
    for (k, line) in lines.iter().step_by(step).take(n).enumerate() {
        let demo: Demo = serde_json::from_str(line)?;
        let rendered = render(&demo.dialogue, &loaded.tokenizer)?;
        let ids = &rendered.ids[..rendered.ids.len().min(loaded.config.block_size)];
        let input = Tensor::<1, Int>::from_data(
            TensorData::new(
                ids.iter().map(|&i| i as i64).collect::<Vec<_>>(),
                [ids.len()],
            ),
            &device,
        )
        .reshape([1, ids.len()]);
        let logits = loaded.model.forward(input);
        let predicted: Vec<i64> = logits
            .argmax(2)
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .map_err(|e| format!("{e:?}"))?;
        let mut shown = String::new();
        for t in 1..ids.len() {
            if !rendered.trained[t] {
                continue;
            }
            let token = loaded.tokenizer.decode(&ids[t..=t])?;
            let before = loaded.tokenizer.decode(&ids[t - 1..t])?;
            let is_digit = token.chars().all(|c| c.is_ascii_digit()) && !token.is_empty();
            let class = if !is_digit {
                "other"
            } else if before.chars().all(|c| c.is_ascii_digit()) && !before.is_empty() {
                "digit (inside a number)"
            } else {
                "digit (starts a number)"
            };
            let right = predicted[t - 1] as u32 == ids[t];
            let tally = tallies
                .entry((format!("{:?}", demo.category), class))
                .or_default();
            tally.all += 1;
            tally.right += usize::from(right);
            if k < 6 && is_digit {
                let guess = loaded.tokenizer.decode(&[predicted[t - 1] as u32])?;
                shown.push_str(&format!("{token}{}", if right { "" } else { "*" }));
                if !right {
                    shown.push_str(&format!("({guess})"));
                }
                shown.push(' ');
            }
        }
        if k < 6 {
            println!(
                "{}: {}\n  digits: {shown}",
                demo.id, demo.dialogue.exchanges[0].user
            );
        }
    }
    for ((category, class), t) in &tallies {
        println!(
            "{category:<12} {class:<26} {:>6.1}% of {}",
            100.0 * t.right as f64 / t.all as f64,
            t.all
        );
    }
    Ok(())
}
