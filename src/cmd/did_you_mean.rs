//! What `miracle` says to a mistyped subcommand. clap suggests only names that are close by
//! its own measure (Jaro similarity above 0.7), so a short name with two letters swapped
//! (`miracle aks`) got nothing, and a request typed without `ask` read as an
//! unknown subcommand. Where clap has no suggestion, this adds the subcommand the word
//! begins or is a few edits from, or `ask` for what reads as a request.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

use super::Cli;

/// Parses the command line; a parse error is printed, with a suggestion where one helps,
/// and the process exits as clap exits (2 for a usage error).
pub fn parse() -> Cli {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(mut error) => {
            let words: Vec<String> = args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            if let Some(tip) = tip(&error, &words) {
                error.insert(
                    ContextKind::Suggested,
                    ContextValue::StyledStrs(vec![tip.into()]),
                );
            }
            error.exit()
        }
    }
}

/// The suggestion for an unknown subcommand that clap left without one.
fn tip(error: &clap::Error, args: &[String]) -> Option<String> {
    if error.kind() != ErrorKind::InvalidSubcommand
        || error.get(ContextKind::SuggestedSubcommand).is_some()
    {
        return None;
    }
    let Some(ContextValue::String(typed)) = error.get(ContextKind::InvalidSubcommand) else {
        return None;
    };
    let (path, names) = subcommands_before(typed, args);
    if path.is_empty() && reads_as_a_request(typed) {
        return Some(format!(
            "to ask the agent, write: miracle ask {}",
            quoted(typed)
        ));
    }
    let near: Vec<String> = nearest(typed, &names)
        .into_iter()
        .map(|name| {
            format!(
                "'{}'",
                [path.as_slice(), std::slice::from_ref(&name)]
                    .concat()
                    .join(" ")
            )
        })
        .collect();
    (!near.is_empty()).then(|| format!("did you mean {}?", near.join(" or ")))
}

/// The subcommands already given before `typed` (e.g. `corpus`) and the names allowed at
/// its place.
fn subcommands_before<'a>(typed: &str, args: &'a [String]) -> (Vec<&'a str>, Vec<String>) {
    let mut command = Cli::command();
    let mut path = Vec::new();
    for arg in args.iter().skip(1) {
        if arg == typed {
            break;
        }
        let Some(found) = command.find_subcommand(arg).cloned() else {
            continue;
        };
        path.push(arg.as_str());
        command = found;
    }
    let names = command
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|name| name != "help")
        .collect();
    (path, names)
}

/// Words with spaces, a question mark or Chinese characters are a request, not a command.
fn reads_as_a_request(typed: &str) -> bool {
    typed.contains(char::is_whitespace) || typed.contains(['?', '？']) || !typed.is_ascii()
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The allowed names that `typed` begins (when only one does), or else those closest to it
/// within a third of their length (two edits at most); ties are all given.
fn nearest<'a>(typed: &str, names: &'a [String]) -> Vec<&'a str> {
    let typed = typed.to_lowercase();
    if typed.chars().count() >= 2 {
        let starting: Vec<&str> = names
            .iter()
            .filter(|n| n.starts_with(&typed))
            .map(String::as_str)
            .collect();
        if starting.len() == 1 {
            return starting;
        }
    }
    let close: Vec<(usize, &str)> = names
        .iter()
        .map(|name| (edits(&typed, name), name.as_str()))
        .filter(|(distance, name)| *distance <= (name.chars().count() / 3).clamp(1, 2))
        .collect();
    let best = close.iter().map(|(d, _)| *d).min();
    close
        .into_iter()
        .filter(|(d, _)| Some(*d) == best)
        .map(|(_, name)| name)
        .collect()
}

/// Edit distance with transpositions (optimal string alignment).
fn edits(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn near_names_are_found_by_prefix_or_a_few_edits() {
        let top = names(&[
            "ask",
            "chat",
            "eval",
            "search",
            "serve",
            "tokenizer",
            "train",
        ]);
        assert!(nearest("se", &top).is_empty(), "search or serve: no guess");
        assert_eq!(nearest("tok", &top), ["tokenizer"]);
        assert_eq!(nearest("serach", &top), ["search"]);
        assert_eq!(nearest("tarin", &top), ["train"]);
        assert!(nearest("xyzzy", &top).is_empty());
        assert_eq!(nearest("aks", &top), ["ask"]);
        let rlhf = names(&["ppo", "dpo", "rm"]);
        assert_eq!(nearest("tpo", &rlhf), ["ppo", "dpo"], "a tie gives both");
    }

    #[test]
    fn edits_count_a_swap_as_one() {
        assert_eq!(edits("serach", "search"), 1);
        assert_eq!(edits("", "ask"), 3);
        assert_eq!(edits("kitten", "sitting"), 3);
    }

    #[test]
    fn requests_are_told_apart_from_commands() {
        assert!(reads_as_a_request("What is 6 x 7?"));
        assert!(reads_as_a_request("你好"));
        assert!(!reads_as_a_request("serach"));
        assert_eq!(quoted(r#"say "hi""#), r#""say \"hi\"""#);
    }
}
