//! Requests that say in so many words that they want papers.
//!
//! The model routes by what its training showed, and a request for papers that carries
//! numbers ("… from 2009 to 2014", "MSX2 is induced 3 hours after …") or comes after a
//! calculation ("Find papers about graphene batteries." after "What is 17 * 23?") was
//! calculated instead. A patron who writes "find papers on", "are there studies about" or
//! "有没有…的论文" has chosen the expert already, so the agent's first call of such a turn
//! is held to the literature search; the model still writes the query.
//!
//! The phrases are a request verb before a literature noun ("look up articles on",
//! "any papers about"), a literature noun that opens a follow-up ("And papers on that?"),
//! and in Chinese a search verb or a topic's marker before 论文, 文献, 文章, 研究 or 资料
//! in one clause. Measured against the request generator's training requests, the dev suite
//! and GSM8K (docs/EVAL.md, "Requests that ask for papers"): no word problem and no
//! program request matches; requests for papers in other words ("point me to work on")
//! are left to the model.

use std::sync::LazyLock;

use regex::Regex;

/// Whether `request` asks for papers in words that leave no doubt.
pub fn asks_for_papers(request: &str) -> bool {
    static PHRASES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
        [
            // "find papers on", "could you look up articles on", "I'd like a paper about".
            format!(r"(?i)\b{VERB}{FILLER}\s+(?:{NOUNS}\b|{ONE}\s+{LINK}\b)"),
            // "what research exists on", but not "which studies take longer".
            format!(
                r"(?i)\b(?:what|which){FILLER}\s+{NOUNS}(?:\s+(?:exists?|is\s+there))?\s+{LINK}\b"
            ),
            // "what does the literature say about".
            format!(
                r"(?i)\bwhat\s+(?:does|do|did){FILLER}\s+{NOUNS}\s+(?:say|show|tell|find|suggest)\b"
            ),
            // A follow-up: "And papers on that?", "Studies about sleep?".
            format!(r"(?i)^\W*(?:(?:and|now|also|then)\s+)?(?:{NOUNS}|{ONE})\s+{LINK}\b"),
            // "查找关于沥青的文献", "有没有睡眠方面的研究": a search verb or a topic's
            // marker before the noun, in one clause ("我在写毕业论文。" alone is no request).
            format!("(?:{ZH_VERB})[^，。？！,.?!；;]{{0,40}}?(?:{ZH_NOUN})"),
            // "石墨烯电池的论文有哪些？"
            "(?:论文|文献)(?:有哪些|吗|呢)".to_string(),
        ]
        .iter()
        .map(|p| Regex::new(p).expect("the phrases are valid patterns"))
        .collect()
    });
    // "Search for graphene batteries.": an imperative search with no quantity (a program
    // that searches a list names its numbers).
    static SEARCH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)^\W*(?:(?:please|can\s+you|could\s+you|would\s+you)\s+)?search\s+(?:for|on)\b",
        )
        .expect("a valid pattern")
    });
    PHRASES.iter().any(|phrase| phrase.is_match(request))
        || (SEARCH.is_match(request) && !has_digits(request))
}

/// Whether `request` writes a quantity in digits: then it is no plain search or topic.
fn has_digits(request: &str) -> bool {
    request.chars().any(|c| c.is_ascii_digit())
}

/// Whether `request` is a follow-up that moves on to a topic of its own: "Now about vitamin D
/// and depression.", "What about graphene batteries?", "And how about coral reefs?",
/// "那维生素D和抑郁症呢？". After a turn that searched the literature, such a turn asks for
/// papers on its topic; the agent decides that with the turn before ([`crate::agent`]).
/// A quantity ("What about 5 more?") or a person ("What about you?", "那你呢？") is no topic.
pub fn moves_on(request: &str) -> bool {
    static FOLLOW_UP: LazyLock<[Regex; 2]> = LazyLock::new(|| {
        [
            r"(?i)^\W*(?:(?:and|so|ok|okay|then|also)[\s,]+)?(?:(?:now|what|how)\s+)?about\s+(?:(?:the|a|an)\s+)?(?P<topic>\w.*)$",
            r"^\W*(?:那么?|还有)(?:关于)?(?P<topic>.{1,40}?)(?:的(?:论文|文献|研究|文章))?呢\W*$",
        ]
        .map(|p| Regex::new(p).expect("a valid pattern"))
    });
    const PEOPLE: &[&str] = &[
        "you", "yourself", "me", "us", "him", "her", "你", "您", "我", "他", "她",
    ];
    if has_digits(request) {
        return false;
    }
    FOLLOW_UP.iter().any(|pattern| {
        pattern.captures(request.trim()).is_some_and(|c| {
            let topic = c["topic"].trim_end_matches(|c: char| !c.is_alphanumeric());
            !topic.is_empty() && !PEOPLE.contains(&topic.to_lowercase().as_str())
        })
    })
}

/// Whether `request` is nothing but a social act: greetings, thanks, farewells and their
/// fillers ("Thanks, bye!", "Great, thanks! See you tomorrow.", "谢谢，再见！"), with nothing
/// to compute or look up. Such a turn is answered without an expert: after a calculation
/// the model had called the code expert for "Thanks, bye!", and after a search it searched
/// for "Great, thanks! See you tomorrow.".
pub fn only_social(request: &str) -> bool {
    static SOCIAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(r"(?i)(?:{EN_SOCIAL})\b|(?:{ZH_SOCIAL})")).expect("a valid pattern")
    });
    let rest = SOCIAL.replace_all(request, " ");
    !request.trim().is_empty()
        && rest.chars().all(|c| {
            c.is_whitespace() || c.is_ascii_punctuation() || "，。！？、～…：；".contains(c)
        })
}

/// English greetings, thanks and farewells, with the words that go with them; longest first
/// where one is the start of another.
const EN_SOCIAL: &str = r"\b(?:thank\s+you|thanks|thank\s+u|thx|ty|many\s+thanks|cheers|much\s+appreciated|(?:i\s+)?appreciate\s+it|good\s*bye|bye(?:-bye)?|bye\s+bye|see\s+you(?:\s+(?:later|soon|tomorrow|next\s+time|around))?|see\s+ya|take\s+care|have\s+a\s+(?:nice|good|great|lovely)\s+(?:day|evening|night|weekend)|good\s+(?:morning|afternoon|evening|night)|hello|hi|hey|(?:that|this|it)(?:'s|\s+is|\s+was)?\s+(?:very\s+|really\s+|so\s+)?(?:helpful|great|perfect|useful|wonderful)|(?:so|very)\s+much|a\s+lot|for\s+(?:the|your|all\s+the)\s+help|for\s+everything|(?:you(?:'re|\s+are)\s+)?(?:great|awesome|the\s+best|welcome)|ok(?:ay)?|great|perfect|awesome|nice|wonderful|again|all|everyone|there|miracle)";

/// The same in Chinese; characters need no word boundary.
const ZH_SOCIAL: &str = "谢谢|多谢|感谢|谢了|再见|拜拜|回头见|明天见|下次见|你好|您好|早上好|上午好|下午好|晚上好|晚安|辛苦了|太好了|好的|非常|十分|真是|真|你|您|的|帮助|帮忙|啦|了|呀|啊|哦|嗯|哈";

/// Words for the papers themselves, in the plural.
const NOUNS: &str =
    r"(?:papers|studies|literature|research|articles|references|publications|evidence|reviews)";

/// One of them, which must name its topic ("a paper on"): "reads the paper" is a newspaper.
const ONE: &str = r"(?:paper|article|study|review|publication)";

/// The same in Chinese: papers, literature, articles, studies, material.
const ZH_NOUN: &str = "论文|文献|文章|研究|资料";

/// A search verb ("find", "look up", "are there", "recommend") or a topic's marker ("about",
/// "related", "in the field of") before them.
const ZH_VERB: &str = "找|查|搜|检索|推荐|有没有|有哪些|哪些|需要|关于|有关|相关|方面";

/// A request's verb before them ("what" and "which" have patterns of their own).
const VERB: &str = r"(?:find|search|look\s+up|look\s+for|looking\s+for|show|give|list|recommend|suggest|any|are\s+there|is\s+there|need|want|like|see|get|fetch|locate|pull\s+up|dig\s+up|track\s+down|point\s+me\s+to|cite|share|send|collect|gather|compile|check|summari[sz]e)";

/// Words that may stand between the verb and the noun: "find me a few recent papers".
const FILLER: &str = r"(?:\s+(?:me|us|to|some|a|few|the|any|recent|relevant|related|more|good|several|published|scientific|academic|other|of|what|existing|current|latest|new|key|main|important))*";

/// What ties the noun to its topic.
const LINK: &str = r"(?:on|about|regarding|concerning|into|showing|that|linking|of)";

#[cfg(test)]
mod tests {
    use super::{asks_for_papers, moves_on, only_social};

    #[test]
    fn requests_for_papers_in_a_patrons_words() {
        for request in [
            "Find papers about graphene batteries.",
            "Find papers about: Incidence of sepsis has fallen substantially from 2009 to 2014.",
            "Are there studies showing that MSX2 is induced 3 hours after the addition of BMP4?",
            "Any research on sleep and memory?",
            "Can you dig up some studies on vitamin D and depression?",
            "I'm looking for literature on coral bleaching.",
            "What research exists on malaria and immune responses?",
            "And papers on that?",
            "Search the literature for CRISPR in Shigella.",
            "有关于石墨烯电池的论文吗？",
            "帮我查一下睡眠与记忆的研究",
            "查找关于沥青的文献",
            "石墨烯电池的论文有哪些？",
            "What does the literature say about coral bleaching?",
            "I'd like a paper on CRISPR screens.",
            "Search for graphene batteries.",
        ] {
            assert!(asks_for_papers(request), "{request}");
        }
    }

    #[test]
    fn word_problems_programs_and_chat_do_not() {
        for request in [
            "What is 6 x 7?",
            "Tom wrote 3 papers a week for 5 weeks. How many papers did he write?",
            "Which studies take longer, math or art, if math takes 3 hours and art 2?",
            "A researcher reads 12 articles a day. How many does she read in a week?",
            "She studies for 3 hours a day. How many hours in a week?",
            "Write a program that prints the first 10 primes.",
            "小明一天看3篇文章，一周看几篇？",
            "研究小组有12人，平均分成3组，每组几人？",
            "我在写毕业论文。帮我算一下3乘4。",
            "Every morning Harry takes 15 minutes to read the paper. How long in a week?",
            "Tom gets the paper every morning. How many papers does he get in 3 weeks?",
            "Search for the largest of 3, 8 and 5.",
            "What about vitamin D?",
            "Thanks, see you tomorrow.",
            "",
        ] {
            assert!(!asks_for_papers(request), "{request}");
        }
    }

    #[test]
    fn greetings_thanks_and_farewells_alone_are_social() {
        for request in [
            "Thanks, bye!",
            "Great, thanks! See you tomorrow.",
            "Thank you so much!",
            "ok thx",
            "Hello there!",
            "Good morning, Miracle.",
            "That was really helpful, thanks a lot.",
            "谢谢，再见！",
            "太好了，谢谢你的帮助！",
            "你好",
        ] {
            assert!(only_social(request), "{request}");
        }
        for request in [
            "Thanks! What is 6 x 7?",
            "Hi, can you find papers on sleep?",
            "Thanks, and add 9 to that.",
            "Good. Now divide it by 4.",
            "谢谢，再算一下3加4。",
            "你好，有没有关于睡眠的论文？",
            "What are your skills?",
            "Hi 5",
            "",
        ] {
            assert!(!only_social(request), "{request}");
        }
    }

    #[test]
    fn follow_ups_that_move_on_to_a_topic() {
        for request in [
            "Now about vitamin D and depression.",
            "What about graphene batteries?",
            "And how about coral reefs?",
            "OK, what about the gut microbiome",
            "那维生素D和抑郁症呢？",
            "那么关于石墨烯电池的论文呢？",
            "还有睡眠与记忆呢",
        ] {
            assert!(moves_on(request), "{request}");
        }
        for request in [
            "What about 5 more?",
            "What about you?",
            "那你呢？",
            "那3个苹果呢？",
            "Tell me about yourself.",
            "What is 6 x 7?",
            "Now add 9 to that.",
            "Thanks!",
            "",
        ] {
            assert!(!moves_on(request), "{request}");
        }
    }

    #[test]
    fn hostile_input_is_read_in_linear_time() {
        let long = format!("{}{}", "find ".repeat(100_000), "a ".repeat(100_000));
        assert!(!asks_for_papers(&long));
        assert!(asks_for_papers(&format!("{long} papers on x")));
    }
}
