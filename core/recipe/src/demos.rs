//! Instruction data made by running the real experts: the training demonstrations, and the
//! held-out requests as an evaluation suite; from the templates, the request generator
//! (`miracle-requests`) or GSM8K's worked solutions.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use miracle_router::demos::{Counts, Demo, Lang, Split, generate, gsm8k};

/// What to generate: template demos by `counts`, and composed ones when `compose` says so
/// (both from `seed`).
#[derive(Debug, Clone, PartialEq)]
pub struct DemoSpec {
    pub counts: Counts,
    pub seed: u64,
    pub compose: Option<miracle_requests::Plan>,
}

/// Generates the demos of `spec` into `dir`: `train.jsonl` (one [`Demo`] per line),
/// `prompts.jsonl` (the same requests in the evaluation suites' format, which RLHF samples
/// from) and `heldout.jsonl` (the template demos' held-out requests, in that format too).
/// Composed requests add to the first two, and write `heldout-composed.jsonl` (each line
/// saying why it is held out) and `held-out-forms.json` (the words no training request may
/// hold, to check data from elsewhere against).
pub fn write_demos(spec: &DemoSpec, dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    if let Some(plan) = &spec.compose {
        plan.check()?;
    }
    let registry = miracle_router::agent_registry();
    let runtime = crate::runtime()?;
    let demos = runtime
        .block_on(generate(
            &registry,
            &spec.counts,
            spec.seed,
            spec.compose
                .as_ref()
                .map_or(0.0, |plan| plan.running_totals),
        ))
        .context("generating demonstrations")?;
    let (train, held): (Vec<&Demo>, Vec<&Demo>) =
        demos.iter().partition(|d| d.split == Split::Train);
    let mut files = Files::default();
    // Beside composed requests, a template demo that holds a held-out form would void the
    // composed split: it is left out.
    let (train, voiding): (Vec<&Demo>, Vec<&Demo>) = match &spec.compose {
        Some(_) => {
            let forms = HeldForms::new();
            train.into_iter().partition(|d| !forms.held_by(d))
        }
        None => (train, Vec::new()),
    };
    // Prompts once each: the experts' own demonstrations are repeated for training.
    let mut seen = std::collections::HashSet::new();
    for demo in &train {
        files.train(demo, seen.insert(demo.request()))?;
    }
    for demo in &held {
        files.heldout += &format!("{}\n", demo.suite_line());
    }
    if !demos.is_empty() {
        writeln!(
            out,
            "{} training demonstrations and {} held-out requests from templates",
            train.len(),
            held.len(),
        )?;
    }
    if !voiding.is_empty() {
        writeln!(
            out,
            "  left out: {} template demonstrations that hold a word held out of the composed requests",
            voiding.len()
        )?;
    }
    if let Some(plan) = &spec.compose {
        let composed = runtime
            .block_on(miracle_requests::compose(&registry, plan, spec.seed))
            .context("composing requests")?;
        let mut held = 0;
        for c in &composed {
            match c.demo.split {
                Split::Train => files.train(&c.demo, c.demo.dialogue.exchanges.len() == 1)?,
                Split::HeldOut => {
                    held += 1;
                    let mut line = c.demo.suite_line();
                    line["held_out"] = serde_json::json!(c.marks);
                    files.composed_heldout += &format!("{line}\n");
                }
            }
        }
        writeln!(
            out,
            "{} composed requests, each checked on the experts: {} for training, {held} held out",
            composed.len(),
            composed.len() - held,
        )?;
    }
    files.write(dir, spec.compose.is_some())?;
    writeln!(out, "written to {}", dir.display())?;
    Ok(())
}

/// The forms held out of the composed requests, in both languages.
struct HeldForms([(Lang, Vec<&'static str>); 2]);

impl HeldForms {
    fn new() -> Self {
        HeldForms(
            [Lang::En, Lang::Zh].map(|lang| (lang, miracle_requests::lexicon::held_forms(lang))),
        )
    }

    /// Whether a turn of `demo` holds one of the forms.
    fn held_by(&self, demo: &Demo) -> bool {
        demo.dialogue.exchanges.iter().any(|exchange| {
            self.0.iter().any(|(lang, forms)| {
                forms
                    .iter()
                    .any(|form| miracle_requests::contains_form(&exchange.user, form, *lang))
            })
        })
    }
}

/// The text of the files `write_demos` writes.
#[derive(Default)]
struct Files {
    train: String,
    prompts: String,
    heldout: String,
    composed_heldout: String,
}

impl Files {
    /// A training demo, and its request as a prompt when `prompt` (once per request, and
    /// single turns only: a suite line holds one request).
    fn train(&mut self, demo: &Demo, prompt: bool) -> anyhow::Result<()> {
        self.train += &(serde_json::to_string(demo)? + "\n");
        if prompt {
            self.prompts += &format!("{}\n", demo.suite_line());
        }
        Ok(())
    }

    fn write(self, dir: &Path, composed: bool) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut files = vec![
            ("train.jsonl", self.train),
            ("prompts.jsonl", self.prompts),
            ("heldout.jsonl", self.heldout),
        ];
        if composed {
            let forms = serde_json::json!({
                "en": miracle_requests::lexicon::held_forms(Lang::En),
                "zh": miracle_requests::lexicon::held_forms(Lang::Zh),
            });
            files.push(("heldout-composed.jsonl", self.composed_heldout));
            files.push(("held-out-forms.json", format!("{forms:#}\n")));
        }
        for (name, text) in files {
            crate::write_file(&dir.join(name), text.as_bytes())?;
        }
        Ok(())
    }
}

/// GSM8K's problems as demonstrations (`train.jsonl`, with their requests as
/// `prompts.jsonl`) and a validation suite (`heldout.jsonl`), in `dir`.
pub fn write_gsm8k(
    file: &Path,
    heldout_every: usize,
    dir: &Path,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    anyhow::ensure!(heldout_every >= 2, "--heldout-every must be at least 2");
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let problems = gsm8k::read(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let registry = miracle_router::agent_registry();
    let runtime = crate::runtime()?;
    let converted = runtime.block_on(gsm8k::convert(&problems, &registry, heldout_every));
    let lines = |values: Vec<String>| values.concat();
    let train = lines(
        (converted.train.iter())
            .map(|d| serde_json::to_string(d).map(|l| l + "\n"))
            .collect::<Result<_, _>>()?,
    );
    let prompts = lines(
        (converted.train.iter())
            .map(|d| format!("{}\n", d.suite_line()))
            .collect(),
    );
    let heldout = lines(
        (converted.validation.iter())
            .map(|p| format!("{}\n", p.suite_line()))
            .collect(),
    );
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, text) in [
        ("train.jsonl", train),
        ("prompts.jsonl", prompts),
        ("heldout.jsonl", heldout),
    ] {
        crate::write_file(&dir.join(name), text.as_bytes())?;
    }
    let training = problems.len() - converted.validation.len();
    writeln!(
        out,
        "{} problems: {} validation (every {heldout_every}th, whole), {} training, of which {} became demonstrations; written to {}",
        problems.len(),
        converted.validation.len(),
        training,
        converted.train.len(),
        dir.display()
    )?;
    for (reason, count) in &converted.left_out {
        writeln!(out, "  left out of training: {count}: {reason}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use miracle_router::demos::{Category, Expect};
    use miracle_router::protocol::{Dialogue, Exchange};

    use super::*;

    fn demo(user: &str) -> Demo {
        Demo {
            id: "t".into(),
            lang: Lang::En,
            category: Category::Calc,
            family: "calc.mul".into(),
            template: 0,
            split: Split::Train,
            expect: Expect {
                expert: None,
                answer: None,
                docs: Vec::new(),
                replies: Vec::new(),
            },
            dialogue: Dialogue {
                system: None,
                exchanges: vec![Exchange {
                    user: user.into(),
                    steps: Vec::new(),
                }],
            },
        }
    }

    #[test]
    fn template_demos_with_a_held_out_word_are_found() {
        let forms = HeldForms::new();
        assert!(forms.held_by(&demo("What is the product of 3 and 4?")));
        assert!(forms.held_by(&demo("小明有3只风筝。")));
        assert!(!forms.held_by(&demo("What is 3 times 4?")));
        assert!(!forms.held_by(&demo("It is overdue.")));
    }
}
