//! From the YAML file to a checked [`Workflow`]: every problem found, each where it is.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::template::{Expr, Root, Template};
use super::yaml::{self, Key, RawInput, RawStep, RawWorkflow};
use super::{Action, Condition, Host, Input, LoadError, Parse, Problem, Step, Type, Workflow};
use miracle_experts::{Expert, Registry};

/// Bounds that keep a hostile file from costing much.
const MAX_STEPS: usize = 256;
const MAX_RETRIES: u32 = 10;
const MAX_TIMEOUT: Duration = Duration::from_secs(600);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_MAX_TOKENS: usize = 64;
const MAX_TOKENS: usize = 1024;

pub fn load(text: &str, origin: &str, host: &Host<'_>) -> Result<Workflow, LoadError> {
    let raw = yaml::parse(text).map_err(|(at, message)| LoadError {
        problems: vec![Problem::new(origin, at, &message)],
    })?;
    let mut check = Checker {
        problems: Vec::new(),
    };
    let mut workflow = check.workflow(raw, origin, host);
    if check.problems.is_empty() {
        for (i, step) in workflow.steps.iter_mut().enumerate() {
            step.location = yaml::locate(text, &["steps".into(), i.into()]);
        }
        return Ok(workflow);
    }
    Err(LoadError {
        problems: check
            .problems
            .into_iter()
            .map(|(path, message)| Problem::new(origin, yaml::locate(text, &path), &message))
            .collect(),
    })
}

struct Checker {
    problems: Vec<(Vec<Key>, String)>,
}

/// What a template at some place may read.
struct Reach<'w> {
    inputs: &'w BTreeMap<String, Type>,
    /// Every step id, in order.
    steps: &'w [String],
    /// Steps before this one (all of them, for outputs).
    before: usize,
    /// The step itself, if a template belongs to one.
    this: Option<&'w str>,
    /// Inside a `foreach` step's action: `item` and `index` exist.
    item: bool,
}

impl Checker {
    fn problem(&mut self, path: Vec<Key>, message: impl Into<String>) {
        self.problems.push((path, message.into()));
    }

    fn workflow(&mut self, raw: RawWorkflow, origin: &str, host: &Host<'_>) -> Workflow {
        if !is_name(&raw.name) {
            self.problem(
                vec!["name".into()],
                format!(
                    "name {:?} is not a name: 1 to 64 lowercase letters, digits, `-` or `_` (it is part of URLs)",
                    raw.name
                ),
            );
        }
        let inputs = self.inputs(raw.inputs);
        // Paths in expert definitions are relative to the workflow file.
        let base = Path::new(origin).parent().unwrap_or(Path::new(""));
        let registry = self.experts(raw.experts, host, base);
        let types: BTreeMap<String, Type> =
            inputs.iter().map(|i| (i.name.clone(), i.kind)).collect();
        let ids: Vec<String> = raw.steps.iter().map(|s| s.id.clone()).collect();
        self.step_ids(&ids);
        let parses: BTreeMap<String, (Parse, bool)> = raw
            .steps
            .iter()
            .map(|s| (s.id.clone(), (s.parse, s.foreach.is_some())))
            .collect();
        let mut steps = Vec::new();
        for (i, step) in raw.steps.into_iter().enumerate() {
            let reach = |item| Reach {
                inputs: &types,
                steps: &ids,
                before: i,
                this: Some(ids[i].as_str()),
                item,
            };
            if let Some(step) = self.step(i, step, &registry, host, &reach, &parses) {
                steps.push(step);
            }
        }
        let all = Reach {
            inputs: &types,
            steps: &ids,
            before: ids.len(),
            this: None,
            item: false,
        };
        let outputs = self.outputs(raw.outputs, &all);
        Workflow {
            name: raw.name,
            description: raw.description,
            inputs,
            steps,
            outputs,
            registry,
            origin: origin.to_string(),
        }
    }

    fn inputs(&mut self, raw: Vec<(String, RawInput)>) -> Vec<Input> {
        let mut inputs = Vec::new();
        for (name, input) in raw {
            let path = vec!["inputs".into(), Key::Name(name.clone())];
            if !is_name(&name) {
                self.problem(
                    path.clone(),
                    format!(
                        "input name {name:?} is not a name: lowercase letters, digits, `-` or `_`"
                    ),
                );
            }
            let default = input.default.and_then(|d| {
                let checked = serde_json::to_value(&d)
                    .map_err(|e| e.to_string())
                    .and_then(|v| input.kind.check(v));
                let mut at = path.clone();
                at.push("default".into());
                checked
                    .map_err(|e| self.problem(at, format!("the default of `{name}`: {e}")))
                    .ok()
            });
            inputs.push(Input {
                name,
                kind: input.kind,
                default,
                description: input.description,
            });
        }
        inputs
    }

    /// The workflow's own registry: host experts it names, experts it defines.
    fn experts(
        &mut self,
        entries: Vec<serde_yaml::Value>,
        host: &Host<'_>,
        base: &Path,
    ) -> Registry {
        let mut registry = Registry::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let path = vec!["experts".into(), i.into()];
            let expert: Result<Arc<dyn Expert>, String> = match entry {
                serde_yaml::Value::String(name) => host.experts.get(&name).cloned().ok_or_else(|| {
                    format!(
                        "no expert named `{name}` here; available: {} (or define one: {{kind: …, name: …}})",
                        host.experts.names().join(", ")
                    )
                }),
                serde_yaml::Value::Mapping(mut settings) => {
                    relative_to(&mut settings, base);
                    host.kinds.build(serde_yaml::Value::Mapping(settings))
                }
                _ => Err("each expert is a name (calculator) or a definition ({kind: search, name: …})".into()),
            };
            match expert {
                Ok(expert) if registry.get(expert.name()).is_some() => {
                    self.problem(path, format!("expert `{}` is listed twice", expert.name()));
                }
                Ok(expert) => registry.add(expert),
                Err(message) => self.problem(path, message),
            }
        }
        registry
    }

    fn step_ids(&mut self, ids: &[String]) {
        if ids.is_empty() {
            self.problem(vec!["steps".into()], "a workflow needs at least one step");
        }
        if ids.len() > MAX_STEPS {
            self.problem(
                vec!["steps".into()],
                format!("{} steps; at most {MAX_STEPS}", ids.len()),
            );
        }
        for (i, id) in ids.iter().enumerate() {
            let path = vec!["steps".into(), i.into(), "id".into()];
            if !is_name(id) {
                self.problem(
                    path,
                    format!("step id {id:?} is not a name: lowercase letters, digits, `-` or `_`"),
                );
            } else if ids[..i].contains(id) {
                self.problem(
                    path,
                    format!("step id `{id}` is used twice; ids must be unique"),
                );
            }
        }
    }

    fn step<'w>(
        &mut self,
        i: usize,
        raw: RawStep,
        registry: &Registry,
        host: &Host<'_>,
        reach: &dyn Fn(bool) -> Reach<'w>,
        parses: &BTreeMap<String, (Parse, bool)>,
    ) -> Option<Step> {
        let at = |field: &str| -> Vec<Key> { vec!["steps".into(), i.into(), field.into()] };
        let whole = vec!["steps".into(), i.into()];
        let item = raw.foreach.is_some();
        let action = self.action(&raw, registry, host, &at, &whole, &reach(item));
        let foreach = raw.foreach.as_deref().and_then(|f| {
            let t = self.template(f, &at("foreach"), &reach(false))?;
            self.foreach_is_list(&t, &at("foreach"), reach(false).inputs, parses);
            Some(t)
        });
        let when = raw.when.as_deref().and_then(|w| match Condition::parse(w) {
            Ok(c) => {
                let exprs: Vec<Expr> = c.exprs().cloned().collect();
                self.exprs(&exprs, &at("when"), &reach(false));
                Some(c)
            }
            Err(e) => {
                self.problem(at("when"), e);
                None
            }
        });
        let timeout = match raw.timeout.as_deref().map(duration) {
            None => DEFAULT_TIMEOUT,
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                self.problem(at("timeout"), e);
                DEFAULT_TIMEOUT
            }
        };
        if raw.retries > MAX_RETRIES {
            self.problem(
                at("retries"),
                format!("{} retries; at most {MAX_RETRIES}", raw.retries),
            );
        }
        Some(Step {
            id: raw.id,
            description: raw.description,
            action: action?,
            when,
            foreach,
            parse: raw.parse,
            timeout,
            retries: raw.retries.min(MAX_RETRIES),
            location: None,
        })
    }

    fn action(
        &mut self,
        raw: &RawStep,
        registry: &Registry,
        host: &Host<'_>,
        at: &dyn Fn(&str) -> Vec<Key>,
        whole: &[Key],
        reach: &Reach<'_>,
    ) -> Option<Action> {
        let kinds = [
            raw.expert.is_some(),
            raw.ask.is_some(),
            raw.generate.is_some(),
        ];
        if kinds.iter().filter(|&&k| k).count() != 1 {
            self.problem(
                whole.to_vec(),
                format!(
                    "step `{}` must do exactly one thing: expert: (with input:), ask: or generate:",
                    raw.id
                ),
            );
            return None;
        }
        if raw.input.is_some() && raw.expert.is_none() {
            self.problem(at("input"), "`input:` belongs to an `expert:` step; an ask: or generate: step writes its text in place");
        }
        if raw.max_tokens.is_some() && raw.generate.is_none() {
            self.problem(
                at("max_tokens"),
                "`max_tokens:` belongs to a `generate:` step",
            );
        }
        if let Some(expert) = &raw.expert {
            if registry.get(expert).is_none() {
                let listed = registry.names();
                self.problem(
                    at("expert"),
                    format!(
                        "step `{}` calls `{expert}`, which the workflow does not list; list it under experts: (listed: {})",
                        raw.id,
                        if listed.is_empty() { "none".to_string() } else { listed.join(", ") }
                    ),
                );
            }
            let Some(input) = &raw.input else {
                self.problem(
                    whole.to_vec(),
                    format!("step `{}` calls `{expert}` but has no `input:`", raw.id),
                );
                return None;
            };
            let input = self.template(input, &at("input"), reach)?;
            return Some(Action::Expert {
                expert: expert.clone(),
                input,
            });
        }
        if host.model.is_none() {
            let field = if raw.ask.is_some() { "ask" } else { "generate" };
            self.problem(
                at(field),
                format!("`{field}:` steps need a language model, and none is loaded here"),
            );
        }
        if raw.ask.is_some() && registry.names().is_empty() {
            self.problem(at("ask"), "an `ask:` step lets the model call the workflow's experts: list at least one under experts:");
        }
        if let Some(ask) = &raw.ask {
            return Some(Action::Ask(self.template(ask, &at("ask"), reach)?));
        }
        let prompt = self.template(
            raw.generate.as_deref().unwrap_or_default(),
            &at("generate"),
            reach,
        )?;
        let max_tokens = raw.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
        if !(1..=MAX_TOKENS).contains(&max_tokens) {
            self.problem(
                at("max_tokens"),
                format!("max_tokens is {max_tokens}; 1 to {MAX_TOKENS}"),
            );
        }
        Some(Action::Generate {
            prompt,
            max_tokens: max_tokens.clamp(1, MAX_TOKENS),
        })
    }

    fn outputs(
        &mut self,
        raw: Vec<(String, String)>,
        reach: &Reach<'_>,
    ) -> Vec<(String, Template)> {
        if raw.is_empty() {
            self.problem(
                vec!["outputs".into()],
                "declare at least one output, e.g. outputs: { answer: ${steps.last.output} }",
            );
        }
        let mut outputs = Vec::new();
        for (name, text) in raw {
            let path = vec!["outputs".into(), Key::Name(name.clone())];
            if !is_name(&name) {
                self.problem(
                    path.clone(),
                    format!(
                        "output name {name:?} is not a name: lowercase letters, digits, `-` or `_`"
                    ),
                );
            }
            if let Some(t) = self.template(&text, &path, reach) {
                outputs.push((name, t));
            }
        }
        outputs
    }

    /// Parses a template and checks what it reads.
    fn template(&mut self, text: &str, path: &[Key], reach: &Reach<'_>) -> Option<Template> {
        match Template::parse(text) {
            Ok(t) => {
                let exprs: Vec<Expr> = t.exprs().cloned().collect();
                self.exprs(&exprs, path, reach);
                Some(t)
            }
            Err(e) => {
                self.problem(path.to_vec(), e);
                None
            }
        }
    }

    fn exprs(&mut self, exprs: &[Expr], path: &[Key], reach: &Reach<'_>) {
        for expr in exprs {
            for reference in expr.references() {
                if let Err(e) = reach.check(&reference.root) {
                    self.problem(path.to_vec(), format!("${{{reference}}}: {e}"));
                }
            }
        }
    }

    /// `foreach:` must name a list: a list input, a step run over a list, or a step whose
    /// output is parsed into one (checked again when it runs).
    fn foreach_is_list(
        &mut self,
        t: &Template,
        path: &[Key],
        inputs: &BTreeMap<String, Type>,
        parses: &BTreeMap<String, (Parse, bool)>,
    ) {
        let Some(expr) = t.sole() else {
            self.problem(
                path.to_vec(),
                "foreach takes one ${…} that is a list, e.g. foreach: ${inputs.years}",
            );
            return;
        };
        if !expr.filters.is_empty() || !expr.reference.path.is_empty() {
            return; // a filter or a field: known only when it runs
        }
        let not_list = match &expr.reference.root {
            Root::Input(name) => inputs
                .get(name)
                .filter(|&&t| t != Type::List)
                .map(|t| format!("input `{name}` is {}, not a list", t.name())),
            Root::Step(name) => parses
                .get(name)
                .filter(|&&(parse, each)| parse == Parse::Text && !each)
                .map(|_| format!("step `{name}` outputs text, not a list: give it `parse: lines` or `parse: json`, or write ${{steps.{name}.output | lines}}")),
            _ => None,
        };
        if let Some(message) = not_list {
            self.problem(path.to_vec(), format!("foreach needs a list; {message}"));
        }
    }
}

impl Reach<'_> {
    fn check(&self, root: &Root) -> Result<(), String> {
        match root {
            Root::Input(name) if self.inputs.contains_key(name) => Ok(()),
            Root::Input(name) => Err(if self.inputs.is_empty() {
                format!("no input `{name}`: the workflow declares no inputs")
            } else {
                format!(
                    "no input `{name}`; the inputs are {}",
                    self.inputs.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            }),
            Root::Step(name) => match self.steps.iter().position(|s| s == name) {
                Some(at) if at < self.before => Ok(()),
                Some(_) if self.this == Some(name.as_str()) => Err(format!(
                    "step `{name}` reads its own output; a step may read only steps before it"
                )),
                Some(_) => Err(format!(
                    "step `{name}` runs after this one; steps run in order and read only earlier steps (move it up)"
                )),
                None => Err(format!(
                    "no step `{name}`; the steps are {}",
                    self.steps.join(", ")
                )),
            },
            Root::Item | Root::Index if self.item => Ok(()),
            Root::Item | Root::Index => {
                Err("`item` and `index` exist only in the action of a foreach step".into())
            }
        }
    }
}

/// A relative `index:` (a search's index folder) made relative to the workflow's folder.
fn relative_to(settings: &mut serde_yaml::Mapping, base: &Path) {
    if let Some(serde_yaml::Value::String(dir)) = settings.get_mut("index")
        && Path::new(dir.as_str()).is_relative()
    {
        *dir = base.join(dir.as_str()).display().to_string();
    }
}

fn is_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A timeout within [`MAX_TIMEOUT`].
fn duration(text: &str) -> Result<Duration, String> {
    let timeout = super::duration(text).map_err(|e| format!("timeout {e}"))?;
    if timeout.is_zero() || timeout > MAX_TIMEOUT {
        return Err(format!("timeout {:?}: from 1ms to 10m", text.trim()));
    }
    Ok(timeout)
}
