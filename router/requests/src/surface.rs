//! How a request is typed, apart from what it says: a polite opening or closing, a typo,
//! all lower case, no final mark, ASCII punctuation in Chinese. None of it changes the
//! meaning, so none of it may change the route or the answer.

use miracle_router::demos::Lang;

use crate::choose::{self, Chooser, Pool};

const EN_OPENINGS: Pool<&str> = Pool {
    name: "politeness",
    train: &[
        "Please, ",
        "Hey, ",
        "Quick question: ",
        "Can you help? ",
        "I have a question. ",
        "Hi! ",
    ],
    held: &["Pardon me, "],
};
const EN_CLOSINGS: &[&str] = &[" Thanks!", " Thank you.", " Please.", " Thanks in advance."];
const ZH_OPENINGS: Pool<&str> = Pool {
    name: "politeness",
    train: &["请问，", "你好，", "麻烦问一下：", "问个问题：", "您好！"],
    held: &["劳驾，"],
};
const ZH_CLOSINGS: &[&str] = &["谢谢！", "多谢。", "麻烦了。"];

/// `text` as one person might type it. `protected` spans (a search topic) are left as
/// written: a typo there would change what is searched for.
pub fn dress(ch: &mut Chooser, text: &str, lang: Lang, protected: &[&str]) -> String {
    let mut text = text.to_string();
    if ch.chance(0.15) {
        let opening = ch.from(match lang {
            Lang::En => &EN_OPENINGS,
            Lang::Zh => &ZH_OPENINGS,
        });
        text = format!("{opening}{text}");
    }
    if ch.chance(0.1) {
        let closing = ch.pick(match lang {
            Lang::En => EN_CLOSINGS,
            Lang::Zh => ZH_CLOSINGS,
        });
        text.push_str(closing);
    }
    match lang {
        Lang::En => {
            if ch.chance(0.08) {
                text = typo(ch, &text, protected);
            }
            if ch.chance(0.08) && protected.is_empty() {
                text = text.to_lowercase();
            }
            if ch.chance(0.08) {
                text = text.trim_end_matches(['.', '?', '!']).to_string();
            }
        }
        Lang::Zh => {
            if ch.chance(0.1) {
                text = text.replace('？', "?").replace('，', ",");
            }
            // A search's topic stays as written: spaced, it would be another query.
            if protected.is_empty() && ch.option(ch.shares().spacing) {
                ch.feature("surface:spaced");
                text = spaced(&text);
            }
        }
    }
    text
}

/// Chinese typed with a space between a Chinese character and a digit or Latin letter
/// beside it (盘古之白): "计算5减去1" as "计算 5 减去 1".
pub fn spaced(text: &str) -> String {
    let latin = |c: char| c.is_ascii_alphanumeric();
    let han = miracle_corpora::is_han;
    let mut out = String::with_capacity(text.len() + 8);
    let mut last: Option<char> = None;
    for c in text.chars() {
        if let Some(l) = last
            && ((han(l) && latin(c)) || (latin(l) && han(c)))
        {
            out.push(' ');
        }
        out.push(c);
        last = Some(c);
    }
    out
}

/// Two neighbouring letters swapped inside one longer word outside the protected spans.
fn typo(ch: &mut Chooser, text: &str, protected: &[&str]) -> String {
    let words: Vec<(usize, &str)> = text
        .split(' ')
        .scan(0, |at, word| {
            let start = *at;
            *at += word.len() + 1;
            Some((start, word))
        })
        .filter(|(start, word)| {
            word.len() >= 5
                && word.bytes().all(|b| b.is_ascii_lowercase())
                // A misspelt number word would change the quantity, and a misspelt
                // "average" would lose the count a mean admits unwritten.
                && !crate::lexicon::EN_SMALL.contains(word)
                && !word.starts_with("average")
                && !protected.iter().any(|p| {
                    text.find(p)
                        .is_some_and(|at| *start >= at && *start < at + p.len())
                })
        })
        .collect();
    if words.is_empty() {
        return text.to_string();
    }
    let (start, word) = *ch.pick(&words);
    let i = ch.int(1, word.len() as i64 - 2) as usize;
    let mut bytes = word.as_bytes().to_vec();
    bytes.swap(i, i + 1);
    let swapped = String::from_utf8(bytes).expect("ASCII letters");
    format!("{}{swapped}{}", &text[..start], &text[start + word.len()..])
}

pub fn held_forms(lang: Lang) -> Vec<&'static str> {
    match lang {
        Lang::En => choose::held_forms(&[&EN_OPENINGS]),
        Lang::Zh => choose::held_forms(&[&ZH_OPENINGS]),
    }
}

#[cfg(test)]
mod tests {
    use super::spaced;

    #[test]
    fn spaces_part_chinese_from_digits_and_latin_letters() {
        assert_eq!(spaced("计算5减去1。"), "计算 5 减去 1。");
        assert_eq!(spaced("用Python算12+3"), "用 Python 算 12+3");
        assert_eq!(spaced("又购进3箱，每箱1本"), "又购进 3 箱，每箱 1 本");
        assert_eq!(spaced("计算 5 减去 1"), "计算 5 减去 1");
    }
}
