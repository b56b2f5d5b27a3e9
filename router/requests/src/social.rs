//! Social acts — greetings, thanks, farewells, questions about the assistant — composed
//! from parts, answered without an expert as the shipped demonstrations answer them.

use miracle_router::demos::{Lang, Split};

use crate::choose::{self, Chooser, Pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Greeting,
    Thanks,
    Farewell,
    About,
}

impl Act {
    pub fn draw(ch: &mut Chooser) -> Act {
        *ch.pick(&[Act::Greeting, Act::Thanks, Act::Farewell, Act::About])
    }

    /// The intent's family in the shipped demonstrations, whose answer it shares.
    pub fn family(self) -> &'static str {
        match self {
            Act::Greeting => "direct.greeting",
            Act::Thanks => "direct.thanks",
            Act::Farewell => "direct.farewell",
            Act::About => "direct.about",
        }
    }

    pub fn tell(self, ch: &mut Chooser, lang: Lang) -> String {
        ch.feature(format!("social:{}", self.family()));
        let (heads, tails) = parts(self, lang);
        // A training request may take its phrase from the wider list
        // ([`crate::Plan::social_phrases`]); a held-out one never does.
        let wider = ch.split() == Split::Train && ch.option(ch.shares().social_phrases);
        let head = if wider {
            *ch.pick(more(self, lang))
        } else {
            ch.from(&heads)
        };
        let tail = *ch.pick(tails);
        format!("{head}{tail}")
    }
}

const fn pool(train: &'static [&'static str], held: &'static [&'static str]) -> Pool<&'static str> {
    Pool {
        name: "social",
        train,
        held,
    }
}

fn parts(act: Act, lang: Lang) -> (Pool<&'static str>, &'static [&'static str]) {
    match (act, lang) {
        (Act::Greeting, Lang::En) => (
            pool(
                &[
                    "Hi",
                    "Hello",
                    "Hey",
                    "Good morning",
                    "Good afternoon",
                    "Good evening",
                    "Hi there",
                    "Hello Miracle",
                ],
                &["Howdy", "Greetings", "Hiya", "Good day", "Hey buddy"],
            ),
            &[
                "!",
                ".",
                "",
                "! How are you?",
                ", how's it going?",
                "! Nice to meet you.",
            ],
        ),
        (Act::Thanks, Lang::En) => (
            pool(
                &[
                    "Thanks",
                    "Thank you",
                    "Many thanks",
                    "Cheers",
                    "Great, thanks",
                    "Perfect, thank you",
                    "Thanks a lot",
                ],
                &[
                    "Much obliged",
                    "Appreciate it",
                    "Thanks a bunch",
                    "I owe you one",
                ],
            ),
            &[
                "!",
                ".",
                "",
                " for your help!",
                " so much.",
                ", that helps.",
            ],
        ),
        (Act::Farewell, Lang::En) => (
            pool(
                &[
                    "Bye",
                    "Goodbye",
                    "See you",
                    "See you tomorrow",
                    "See you later",
                    "Good night",
                    "Have a nice day",
                    "Take care",
                ],
                &[
                    "Catch you later",
                    "Farewell",
                    "So long",
                    "Bye for now",
                    "Until next time",
                ],
            ),
            &["!", ".", "", ", thanks!"],
        ),
        (Act::About, Lang::En) => (
            pool(
                &[
                    "What can you do",
                    "Who are you",
                    "What are you able to help with",
                    "Tell me about yourself",
                    "What kind of questions can you answer",
                ],
                &[
                    "What are you good at",
                    "What do you do",
                    "What are you for",
                    "What can I ask you",
                ],
            ),
            &["?", "", "? Just curious."],
        ),
        (Act::Greeting, Lang::Zh) => (
            pool(
                &["你好", "您好", "嗨", "早上好", "下午好", "晚上好", "你好呀"],
                &["哈喽", "早安", "哈罗", "午安"],
            ),
            &["", "！", "。", "，最近怎么样？", "，很高兴认识你。"],
        ),
        (Act::Thanks, Lang::Zh) => (
            pool(
                &["谢谢", "多谢", "谢谢你", "非常感谢", "太感谢了", "谢啦"],
                &["感激不尽", "辛苦了", "万分感谢", "感恩"],
            ),
            &["", "！", "。", "，帮大忙了。"],
        ),
        (Act::Farewell, Lang::Zh) => (
            pool(
                &["再见", "拜拜", "明天见", "回头见", "晚安", "下次见"],
                &["后会有期", "再会", "告辞", "改天见"],
            ),
            &["", "！", "。"],
        ),
        (Act::About, Lang::Zh) => (
            pool(
                &[
                    "你能做什么",
                    "你是谁",
                    "介绍一下你自己",
                    "你会些什么",
                    "你能帮我干什么",
                ],
                &["你擅长什么", "你都会干啥", "你有哪些本事", "你能干嘛"],
            ),
            &["？", "", "？好奇问问。"],
        ),
    }
}

/// More training phrases for each act, as people write them: taught at
/// [`crate::Plan::social_phrases`], so that an act is learnt from many phrases rather than
/// from a handful. None holds a held-out phrase of [`parts`] (a test checks).
fn more(act: Act, lang: Lang) -> &'static [&'static str] {
    match (act, lang) {
        (Act::Greeting, Lang::En) => &[
            "Hey there",
            "Morning",
            "Hello again",
            "Hi Miracle",
            "Good to see you",
            "Hey, hello",
            "Hello, anyone there",
            "Hi, it's me again",
        ],
        (Act::Thanks, Lang::En) => &[
            "Thank you kindly",
            "Thanks so much",
            "Much appreciated",
            "That's great, thanks",
            "Thanks, that was helpful",
            "Cheers mate",
            "Thank you, that's just what I needed",
            "Brilliant, thank you",
        ],
        (Act::Farewell, Lang::En) => &[
            "Bye bye",
            "See ya",
            "I'm off now",
            "Goodbye for today",
            "Have a good one",
            "Take it easy",
            "That's all for today, bye",
            "Good night and thanks",
        ],
        (Act::About, Lang::En) => &[
            "What are you",
            "What is Miracle",
            "What jobs can you handle",
            "Are you a bot",
            "What are your abilities",
            "How do you work",
            "What sort of help do you offer",
            "What things can you help me with",
        ],
        (Act::Greeting, Lang::Zh) => &[
            "嗨，你好",
            "在吗",
            "你好啊",
            "上午好",
            "大家好",
            "嘿，你好",
            "您好呀",
            "你好，在不在",
        ],
        (Act::Thanks, Lang::Zh) => &[
            "谢谢啦",
            "感谢你",
            "谢谢您",
            "多谢了",
            "太好了，谢谢",
            "麻烦你了",
            "谢谢你呀",
            "真是太谢谢你了",
        ],
        (Act::Farewell, Lang::Zh) => &[
            "再见啦",
            "拜",
            "我先走了",
            "下回见",
            "明儿见",
            "回见",
            "今天就到这儿，再见",
            "那我走了",
        ],
        (Act::About, Lang::Zh) => &[
            "你会做什么",
            "你是什么",
            "你有什么用",
            "你能做点什么",
            "你都能帮什么忙",
            "说说你自己",
            "你是干什么的",
            "你能提供什么服务",
        ],
    }
}

pub fn held_forms(lang: Lang) -> Vec<&'static str> {
    let pools =
        [Act::Greeting, Act::Thanks, Act::Farewell, Act::About].map(|act| parts(act, lang).0);
    choose::held_forms(&pools.each_ref())
}
