//! A program that embeds the pipeline runs a recipe without the command line: it gets the
//! model's folder back, every stage's progress as events, and a rerun resumes instead of
//! training again.
//!
//! This is such a program, with its own `main` (no test harness): demonstrations run the
//! code expert, whose programs run in a worker process started from the program's own
//! binary, so `main` first lets the binary serve as that worker, as any embedding must.

fn main() {
    miracle_experts::code::run_worker_if_requested();
    a_recipe_that_names_no_pass_is_refused_before_anything_is_written();
    a_program_runs_a_recipe_and_a_rerun_resumes();
    println!("embedding: 2 tests passed");
}

use std::path::{Path, PathBuf};

use miracle_recipe::{Backend, Progress, RecipeRun, Report};

/// What a run reported: its lines, and the steps and resumptions among its events.
#[derive(Default)]
struct Collected {
    lines: Vec<u8>,
    steps: Vec<u64>,
    resumed: Vec<PathBuf>,
}

impl std::io::Write for Collected {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.lines.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Report for Collected {
    fn progress(&mut self, event: Progress<'_>) {
        match event {
            Progress::Step(r) => self.steps.push(r.step),
            Progress::Resuming { checkpoint } => self.resumed.push(checkpoint.to_path_buf()),
            _ => {}
        }
    }
}

/// A recipe of 2 pretraining steps and one SFT pass of 3 on a handful of demonstrations.
fn tiny_recipe(dir: &Path) -> PathBuf {
    let tokenizer =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora/tokenizer/tokenizer.json");
    let schedule = |steps: u32| {
        format!(
            "  batch_size: 2\n  steps: {steps}\n  lr: 1.0e-3\n  min_lr: 1.0e-4\n  warmup_steps: 1\n  \
             eval_interval: {steps}\n  eval_iters: 1\n  checkpoint_interval: {steps}\n  seed: 1\n"
        )
    };
    let files = [
        (
            "recipe.yaml",
            format!(
                "tokenizer: {}\npretrain: pretrain.yaml\ndemos: {{calc: 2, code: 1, literature: 2, \
                 direct: 2, expert_demonstrations: 1, seed: 1}}\nsft: sft.yaml\n",
                tokenizer.display()
            ),
        ),
        (
            "pretrain.yaml",
            format!(
                "model: {{n_layer: 1, n_head: 2, n_embd: 16, block_size: 256, position: rotary}}\n\
                 data: {{collections: [scifact]}}\ntrain:\n{}",
                schedule(2)
            ),
        ),
        (
            "sft.yaml",
            format!("lm_weight: 0.1\nval_fraction: 0.2\ntrain:\n{}", schedule(3)),
        ),
    ];
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in &files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir.join("recipe.yaml")
}

fn a_program_runs_a_recipe_and_a_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = tiny_recipe(&dir.path().join("recipe"));
    let run = RecipeRun::new(&recipe, dir.path().join("run")).on(Backend::Flex);

    let mut first = Collected::default();
    let model = run.run(&mut first).unwrap();
    assert_eq!(model, dir.path().join("run/model"));
    // Pretraining's two steps, then SFT's three, each reported as it went.
    assert_eq!(first.steps, [1, 2, 1, 2, 3]);
    assert!(first.resumed.is_empty());
    let said = String::from_utf8(first.lines).unwrap();
    assert!(said.contains("== 2/4 pretraining"), "{said}");
    assert!(said.contains("done: the model is in"), "{said}");
    let weights = std::fs::read(model.join("model.safetensors")).unwrap();
    let device = burn::prelude::Device::flex();
    let loaded = miracle_recipe::load_model(Some(&model), &device).unwrap();
    assert_eq!(loaded.config.n_embd, 16);

    // Every stage is complete: the rerun resumes each from its last checkpoint, trains no
    // step, and leaves the same model.
    let mut again = Collected::default();
    run.run(&mut again).unwrap();
    assert!(again.steps.is_empty(), "{:?}", again.steps);
    assert_eq!(again.resumed.len(), 2, "{:?}", again.resumed);
    assert!(again.resumed[0].ends_with("pretrain/checkpoints/step-2"));
    assert!(again.resumed[1].ends_with("sft/checkpoints/step-3"));
    assert_eq!(
        std::fs::read(model.join("model.safetensors")).unwrap(),
        weights
    );
}

fn a_recipe_that_names_no_pass_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let recipe = tiny_recipe(&dir.path().join("recipe"));
    let text = std::fs::read_to_string(&recipe)
        .unwrap()
        .replace("sft: sft.yaml", "sft: []");
    std::fs::write(&recipe, text).unwrap();
    let out = dir.path().join("run");
    let err = RecipeRun::new(&recipe, &out)
        .run(&mut std::io::sink())
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("the list of passes is empty"),
        "{err:#}"
    );
    assert!(!out.exists());
}
