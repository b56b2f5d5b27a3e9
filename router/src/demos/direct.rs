//! Requests the assistant answers itself, without an expert: greetings, thanks and questions
//! about what it is and can do.

use super::{Draw, Expect, Lang, Made, Templates, template_for};

struct Intent {
    family: &'static str,
    /// Requests; the last of each language is held out.
    requests: Templates,
    answer_en: &'static str,
    answer_zh: &'static str,
}

const INTENTS: &[Intent] = &[
    Intent {
        family: "direct.greeting",
        requests: Templates {
            en: &[
                "Hi!",
                "Hello",
                "Hello there!",
                "Good morning!",
                "Hey",
                "Hi, how are you?",
                "Good evening.",
            ],
            zh: &["你好", "您好！", "早上好", "嗨", "你好呀", "晚上好！"],
        },
        answer_en: "Hello! I can do exact arithmetic, search the science literature and run small programs. What would you like to know?",
        answer_zh: "你好！我可以精确计算、检索科技文献、运行小程序。有什么可以帮你？",
    },
    Intent {
        family: "direct.about",
        requests: Templates {
            en: &[
                "What can you do?",
                "Who are you?",
                "What are you?",
                "How can you help me?",
                "Tell me about yourself.",
                "What are your skills?",
            ],
            zh: &[
                "你能做什么？",
                "你是谁？",
                "介绍一下你自己。",
                "你有什么功能？",
                "你可以帮我做什么？",
            ],
        },
        answer_en: "I am Miracle, a small language model that calls experts: a calculator for exact arithmetic, a literature search over science and technology papers in Chinese and English, and a sandboxed code runner.",
        answer_zh: "我是Miracle，一个会调用专家的小型语言模型：用计算器做精确计算，检索中英文科技文献，在沙箱中运行程序。",
    },
    Intent {
        family: "direct.thanks",
        requests: Templates {
            en: &[
                "Thanks!",
                "Thank you very much.",
                "Thanks a lot.",
                "Great, thank you!",
                "Thank you!",
                "Many thanks.",
            ],
            zh: &["谢谢", "非常感谢！", "多谢", "谢谢你的帮助。", "太感谢了"],
        },
        answer_en: "You are welcome!",
        answer_zh: "不客气！",
    },
    Intent {
        family: "direct.farewell",
        requests: Templates {
            en: &[
                "Bye!",
                "Goodbye.",
                "See you later.",
                "Have a nice day!",
                "Good night.",
                "Talk to you soon.",
            ],
            zh: &["再见", "拜拜！", "回头见。", "晚安", "下次见！"],
        },
        answer_en: "Goodbye! Come back any time you need a calculation, a paper or a program.",
        answer_zh: "再见！需要计算、查文献或运行程序时随时找我。",
    },
];

/// The answer the shipped demonstrations give to an intent (`direct.greeting`,
/// `direct.about`, `direct.thanks`).
pub fn answer(family: &str, lang: Lang) -> Option<&'static str> {
    let intent = INTENTS.iter().find(|i| i.family == family)?;
    Some(match lang {
        Lang::En => intent.answer_en,
        Lang::Zh => intent.answer_zh,
    })
}

/// The replies that answer an intent: its own shipped answer, and for a question about the
/// assistant also the greeting's, which says what it can do. A greeting answered with a
/// goodbye, or thanks with a greeting, answers nothing that was said.
pub fn replies(family: &str, lang: Lang) -> Vec<String> {
    let mut replies: Vec<String> = answer(family, lang).into_iter().map(String::from).collect();
    if family == "direct.about" {
        replies.extend(answer("direct.greeting", lang).map(String::from));
    }
    replies
}

/// The `i`-th direct request in `lang`, cycling through the intents and their phrasings.
pub(crate) fn make(lang: Lang, i: usize, draw: &mut Draw) -> (&'static str, Made) {
    let intent = &INTENTS[i % INTENTS.len()];
    let (template, text, split) =
        template_for(intent.family, &intent.requests, lang, i / INTENTS.len());
    let user = draw.phrase(text, lang, split);
    let answer = match lang {
        Lang::En => intent.answer_en,
        Lang::Zh => intent.answer_zh,
    };
    let made = Made {
        template,
        split,
        user,
        steps: vec![crate::protocol::Step::Answer {
            text: answer.to_string(),
        }],
        expect: Expect {
            expert: None,
            answer: None,
            docs: Vec::new(),
            replies: replies(intent.family, lang),
        },
    };
    (intent.family, made)
}
