//! Demonstrations for a plugin's experts, from the few each declares (request, input): each
//! is kept, and told again with other numbers — the numbers the request and the input share
//! are redrawn together — and every one is answered by calling the expert for real. A
//! variant the expert refuses (a number out of its range) is dropped, never answered.

use miracle_experts::Registry;

use super::{
    Category, Demo, DemoError, Dialogue, Draw, Exchange, Expect, Script, Split, made_lang,
    number_answer,
};

/// Up to `variants` demonstrations for each declared demonstration of each expert named in
/// `experts` (all in `registry`): the declared one first, then redrawn ones.
pub async fn plugin_demos(
    registry: &Registry,
    experts: &[&str],
    variants: usize,
    seed: u64,
) -> Result<Vec<Demo>, DemoError> {
    let mut draw = Draw::new(seed);
    let mut demos = Vec::new();
    for &name in experts {
        let Some(expert) = registry.get(name) else {
            return Err(DemoError::Expert {
                family: format!("plugin.{name}"),
                expert: name.to_string(),
                input: String::new(),
                message: "no expert of that name is registered".into(),
            });
        };
        for (d, shown) in expert.demonstrations().iter().enumerate() {
            let shared = shared_numbers(&shown.request, &shown.input);
            let mut seen = std::collections::HashSet::new();
            for v in 0..variants {
                let (request, input) = match v {
                    0 => (shown.request.clone(), shown.input.clone()),
                    _ if shared.is_empty() => break,
                    _ => redraw(&shown.request, &shown.input, &shared, &mut draw),
                };
                if !seen.insert(request.clone()) {
                    continue;
                }
                let mut script = Script::new(registry, "plugin");
                let Ok(result) = script.call(name, &input).await else {
                    continue;
                };
                let lang = made_lang(&request);
                let first = result.lines().next().unwrap_or_default().to_string();
                demos.push(Demo {
                    id: format!("plugin.{name}.{d}.{v}"),
                    lang,
                    category: Category::Direct,
                    family: format!("plugin.{name}"),
                    template: d,
                    split: Split::Train,
                    expect: Expect {
                        expert: Some(name.to_string()),
                        answer: Some(first.clone()),
                        docs: Vec::new(),
                        replies: Vec::new(),
                    },
                    dialogue: Dialogue {
                        system: None,
                        exchanges: vec![Exchange {
                            user: request,
                            steps: script.answer(number_answer(lang, &first)),
                        }],
                    },
                });
            }
        }
    }
    Ok(demos)
}

/// The numbers (runs of digits, with one inner `.`) of `input` that `request` writes too.
fn shared_numbers(request: &str, input: &str) -> Vec<String> {
    let in_request = numbers(request);
    let mut shared: Vec<String> = numbers(input)
        .into_iter()
        .filter(|n| in_request.contains(n))
        .collect();
    shared.dedup();
    shared
}

fn numbers(text: &str) -> Vec<String> {
    pieces(text)
        .into_iter()
        .filter_map(|(number, piece)| number.then_some(piece))
        .collect()
}

/// `text` cut into numbers (runs of digits, with one inner `.`) and what lies between
/// them, in order; each piece marked whether it is a number.
fn pieces(text: &str) -> Vec<(bool, String)> {
    let mut pieces: Vec<(bool, String)> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let in_number = pieces.last().is_some_and(|(number, _)| *number);
        let inner_dot = c == '.'
            && in_number
            && !pieces.last().is_some_and(|(_, p)| p.contains('.'))
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        let number = c.is_ascii_digit() || inner_dot;
        match pieces.last_mut() {
            Some((kind, piece)) if *kind == number => piece.push(c),
            _ => pieces.push((number, c.to_string())),
        }
    }
    pieces
}

/// `request` and `input` with each shared number replaced, in both, by one of as many
/// digits (and decimals).
fn redraw(request: &str, input: &str, shared: &[String], draw: &mut Draw) -> (String, String) {
    let fresh: Vec<(String, String)> = shared
        .iter()
        .map(|old| (old.clone(), like(old, draw)))
        .collect();
    (replace(request, &fresh), replace(input, &fresh))
}

/// A number written like `old`: the same count of whole digits (no leading zero) and of
/// decimals.
fn like(old: &str, draw: &mut Draw) -> String {
    let (whole, decimals) = old.split_once('.').unwrap_or((old, ""));
    let digits = whole.len().min(6) as u32;
    let lo = if digits == 1 {
        1
    } else {
        10i64.pow(digits - 1)
    };
    let mut text = draw.int(lo, 10i64.pow(digits) - 1).to_string();
    if !decimals.is_empty() {
        text.push('.');
        for _ in 0..decimals.len() {
            text.push_str(&draw.int(0, 9).to_string());
        }
    }
    text
}

/// `text` with every whole number in `fresh` (old, new) replaced; a number inside a longer
/// one is left alone.
fn replace(text: &str, fresh: &[(String, String)]) -> String {
    pieces(text)
        .into_iter()
        .map(|(number, piece)| {
            let new = (fresh.iter())
                .find(|(old, _)| number && *old == piece)
                .map(|(_, new)| new.clone());
            new.unwrap_or(piece)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_numbers_are_redrawn_together_and_others_kept() {
        let request = "How many metres is 3.5 km? Asked on day 2.";
        let input = "3.5 km in m";
        assert_eq!(shared_numbers(request, input), ["3.5"]);
        let mut draw = Draw::new(7);
        let (r, i) = redraw(request, input, &["3.5".into()], &mut draw);
        let new = i.split(' ').next().unwrap().to_string();
        assert_ne!(new, "3.5");
        assert_eq!(new.len(), 3, "{new}");
        assert_eq!(r, format!("How many metres is {new} km? Asked on day 2."));
        // 35 inside 350 is another number.
        assert_eq!(
            replace("35 or 350", &[("35".into(), "12".into())]),
            "12 or 350"
        );
        assert_eq!(numbers("2斤是几公斤？1.5."), ["2", "1.5"]);
    }
}
