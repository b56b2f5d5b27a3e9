//! The words requests are made of, in pools of training and held-out entries. A held-out
//! entry appears in no training request (a test reads every training request for it); the
//! model meets it only in the held-out suite.

use miracle_router::demos::Lang;

use crate::choose::{self, Forms, Pool};

/// A person, with the pronoun English needs.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    pub name: &'static str,
    pub she: bool,
}

impl Forms for Person {
    fn forms(&self) -> Vec<&'static str> {
        vec![self.name]
    }
}

impl Person {
    pub fn pronoun(&self) -> &'static str {
        if self.she { "she" } else { "he" }
    }
}

/// A countable thing in English: plural and singular.
#[derive(Debug, Clone, Copy)]
pub struct Noun {
    pub many: &'static str,
    pub one: &'static str,
}

impl Forms for Noun {
    fn forms(&self) -> Vec<&'static str> {
        vec![self.many, self.one]
    }
}

/// A thing in Chinese with its measure word (本 for books, 支 for pencils).
#[derive(Debug, Clone, Copy)]
pub struct ZhNoun {
    pub noun: &'static str,
    pub measure: &'static str,
}

impl Forms for ZhNoun {
    fn forms(&self) -> Vec<&'static str> {
        vec![self.noun]
    }
}

/// An English verb in the present and the past.
#[derive(Debug, Clone, Copy)]
pub struct Verb {
    pub now: &'static str,
    pub past: &'static str,
}

impl Forms for Verb {
    fn forms(&self) -> Vec<&'static str> {
        vec![self.now, self.past]
    }
}

const fn p(name: &'static str, she: bool) -> Person {
    Person { name, she }
}
const fn n(many: &'static str, one: &'static str) -> Noun {
    Noun { many, one }
}
const fn z(noun: &'static str, measure: &'static str) -> ZhNoun {
    ZhNoun { noun, measure }
}
const fn v(now: &'static str, past: &'static str) -> Verb {
    Verb { now, past }
}

/// A whole of two kinds, for part-whole stories: "A class has 42 students. 19 of them are
/// girls. How many are boys?". Held out by the kind it asks for ("taken", "男生"), which no
/// other request says.
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    /// The things of the whole, and where they are: "students", "class" ("in" the class);
    /// in Chinese the place says its own preposition (书架上).
    pub whole: &'static str,
    pub place: &'static str,
    pub at: &'static str,
    /// The kind the story counts, and the kind it asks for.
    pub known: &'static str,
    pub other: &'static str,
    /// The measure word in Chinese (empty in English).
    pub measure: &'static str,
}

impl Forms for Parts {
    fn forms(&self) -> Vec<&'static str> {
        vec![self.other]
    }
}

const fn parts(
    whole: &'static str,
    place: &'static str,
    at: &'static str,
    known: &'static str,
    other: &'static str,
    measure: &'static str,
) -> Parts {
    Parts {
        whole,
        place,
        at,
        known,
        other,
        measure,
    }
}

pub const EN_PARTS: Pool<Parts> = Pool {
    name: "parts",
    train: &[
        parts("students", "class", "in", "girls", "boys", ""),
        parts("apples", "basket", "in", "red", "green", ""),
        parts("players", "team", "on", "adults", "children", ""),
        parts("cars", "car park", "in", "blue", "white", ""),
        parts("flowers", "garden", "in", "roses", "tulips", ""),
        parts("books", "shelf", "on", "novels", "comics", ""),
    ],
    held: &[
        parts("seats", "bus", "on", "empty", "taken", ""),
        parts("rooms", "hotel", "in", "booked", "vacant", ""),
    ],
};

pub const ZH_PARTS: Pool<Parts> = Pool {
    name: "parts",
    train: &[
        parts("苹果", "一筐", "", "红苹果", "青苹果", "个"),
        parts("球", "一个箱子里", "", "篮球", "足球", "个"),
        parts("花", "花园里", "", "红花", "黄花", "朵"),
        parts("书", "书架上", "", "故事书", "科技书", "本"),
        parts("车", "停车场里", "", "白色的车", "黑色的车", "辆"),
    ],
    held: &[parts("学生", "一个班", "", "女生", "男生", "名")],
};

pub const EN_PEOPLE: Pool<Person> = Pool {
    name: "person",
    train: &[
        p("Roger", false),
        p("Mia", true),
        p("Ahmed", false),
        p("Lena", true),
        p("Kenji", false),
        p("Sofia", true),
        p("Omar", false),
        p("Grace", true),
        p("Ivan", false),
        p("Priya", true),
        p("Lucas", false),
        p("Hannah", true),
        p("Diego", false),
        p("Amara", true),
        p("Tom", false),
        p("Olivia", true),
    ],
    held: &[p("Beatrice", true), p("Tomasz", false), p("Ingrid", true)],
};

pub const ZH_PEOPLE: Pool<&str> = Pool {
    name: "person",
    train: &[
        "小明",
        "小红",
        "王老师",
        "李华",
        "张伟",
        "刘洋",
        "陈静",
        "赵磊",
        "小刚",
        "妈妈",
        "爷爷",
        "小丽",
    ],
    held: &["周敏", "孙悦"],
};

pub const EN_THINGS: Pool<Noun> = Pool {
    name: "thing",
    train: &[
        n("pencils", "pencil"),
        n("books", "book"),
        n("stamps", "stamp"),
        n("marbles", "marble"),
        n("cards", "card"),
        n("apples", "apple"),
        n("stickers", "sticker"),
        n("shells", "shell"),
        n("notebooks", "notebook"),
        n("cookies", "cookie"),
        n("tennis balls", "tennis ball"),
        n("eggs", "egg"),
        n("toy cars", "toy car"),
        n("crayons", "crayon"),
        n("oranges", "orange"),
        n("buttons", "button"),
    ],
    held: &[
        n("kites", "kite"),
        n("lanterns", "lantern"),
        n("acorns", "acorn"),
    ],
};

pub const ZH_THINGS: Pool<ZhNoun> = Pool {
    name: "thing",
    train: &[
        z("铅笔", "支"),
        z("书", "本"),
        z("邮票", "张"),
        z("弹珠", "颗"),
        z("卡片", "张"),
        z("苹果", "个"),
        z("贴纸", "张"),
        z("贝壳", "个"),
        z("笔记本", "本"),
        z("饼干", "块"),
        z("鸡蛋", "个"),
        z("网球", "个"),
        z("橘子", "个"),
        z("蜡笔", "支"),
    ],
    held: &[z("风筝", "只"), z("灯笼", "盏"), z("松果", "个")],
};

pub const EN_CONTAINERS: Pool<Noun> = Pool {
    name: "container",
    train: &[
        n("boxes", "box"),
        n("bags", "bag"),
        n("packs", "pack"),
        n("cans", "can"),
        n("crates", "crate"),
        n("jars", "jar"),
    ],
    held: &[n("trays", "tray"), n("bundles", "bundle")],
};

pub const ZH_CONTAINERS: Pool<&str> = Pool {
    name: "container",
    train: &["盒", "袋", "箱", "包", "罐"],
    held: &["捆"],
};

/// Verbs of getting more.
pub const EN_GAIN: Pool<Verb> = Pool {
    name: "gain",
    train: &[
        v("buys", "bought"),
        v("gets", "got"),
        v("finds", "found"),
        v("receives", "received"),
        v("wins", "won"),
        v("is given", "was given"),
    ],
    held: &[v("collects", "collected")],
};

/// Verbs of having fewer.
pub const EN_LOSE: Pool<Verb> = Pool {
    name: "lose",
    train: &[
        v("gives away", "gave away"),
        v("sells", "sold"),
        v("loses", "lost"),
        v("uses up", "used up"),
        v("lends out", "lent out"),
    ],
    held: &[v("donates", "donated")],
};

/// More training entries for a story's slots, drawn at [`crate::Plan::wide_words`]: the
/// things, containers and verbs of change people write beside the few above. None is a
/// held-out form of any slot (a test reads every training request for them).
pub const EN_THINGS_MORE: &[Noun] = &[
    n("balloons", "balloon"),
    n("candies", "candy"),
    n("toys", "toy"),
    n("coins", "coin"),
    n("photos", "photo"),
    n("comics", "comic"),
    n("beads", "bead"),
    n("pens", "pen"),
    n("erasers", "eraser"),
    n("cupcakes", "cupcake"),
];

pub const ZH_THINGS_MORE: &[ZhNoun] = &[
    z("气球", "个"),
    z("糖果", "颗"),
    z("玩具", "个"),
    z("硬币", "枚"),
    z("照片", "张"),
    z("钢笔", "支"),
    z("橡皮", "块"),
    z("香蕉", "根"),
    z("珠子", "颗"),
    z("明信片", "张"),
];

pub const EN_CONTAINERS_MORE: &[Noun] = &[
    n("packets", "packet"),
    n("cartons", "carton"),
    n("tins", "tin"),
    n("sacks", "sack"),
];

pub const ZH_CONTAINERS_MORE: &[&str] = &["筐", "盘", "桶", "套"];

/// Getting more, as people write it: "picks up", "is handed", "brings home".
pub const EN_GAIN_MORE: &[Verb] = &[
    v("picks up", "picked up"),
    v("is handed", "was handed"),
    v("brings home", "brought home"),
    v("earns", "earned"),
    v("borrows", "borrowed"),
    v("adds", "added"),
    v("is sent", "was sent"),
    v("takes home", "took home"),
];

/// Giving up, as people write it: "hands out", "returns", "drops".
pub const EN_LOSE_MORE: &[Verb] = &[
    v("gives out", "gave out"),
    v("hands out", "handed out"),
    v("drops", "dropped"),
    v("throws away", "threw away"),
    v("trades away", "traded away"),
    v("gives back", "gave back"),
    v("returns", "returned"),
    v("leaves behind", "left behind"),
];

pub const ZH_GAIN_MORE: &[&str] = &[
    "拿到了",
    "借来了",
    "换来了",
    "分到了",
    "买来了",
    "添了",
    "收集了",
    "带回了",
];

pub const ZH_LOSE_MORE: &[&str] = &[
    "弄丢了",
    "扔掉了",
    "分给弟弟",
    "送给邻居",
    "还给老师",
    "寄走了",
    "卖出了",
    "用了",
];

/// An institution that keeps a stock ("A library had 67 magazines. It discarded 5."): told
/// with "A" at first, then "the library" or "it" ([`crate::Plan::institutions`]).
#[derive(Debug, Clone, Copy)]
pub struct Body {
    pub noun: &'static str,
    /// Where it keeps its things ("The shop has 40 pens in stock.").
    pub keeps: &'static str,
}

impl Forms for Body {
    fn forms(&self) -> Vec<&'static str> {
        vec![self.noun]
    }
}

const fn b(noun: &'static str, keeps: &'static str) -> Body {
    Body { noun, keeps }
}

pub const EN_BODIES: Pool<Body> = Pool {
    name: "institution",
    train: &[
        b("library", "on its shelves"),
        b("shop", "in stock"),
        b("school", "in its storeroom"),
        b("bakery", "in the back room"),
        b("museum", "in its collection"),
        b("toy store", "in stock"),
    ],
    held: &[b("kiosk", "behind the counter")],
};

/// Verbs of an institution getting more.
pub const EN_BODY_GAIN: Pool<Verb> = Pool {
    name: "gain",
    train: &[
        v("receives", "received"),
        v("buys", "bought"),
        v("orders", "ordered"),
        v("gets", "got"),
    ],
    held: &[v("stocks up on", "stocked up on")],
};

/// Verbs of an institution having fewer.
pub const EN_BODY_LOSE: Pool<Verb> = Pool {
    name: "lose",
    train: &[
        v("discards", "discarded"),
        v("sells", "sold"),
        v("lends out", "lent out"),
        v("throws away", "threw away"),
        v("gives away", "gave away"),
    ],
    held: &[v("scraps", "scrapped")],
};

pub const ZH_BODIES: Pool<&str> = Pool {
    name: "institution",
    train: &["图书馆", "商店", "学校", "超市", "书店", "面包店"],
    held: &["文具店"],
};

pub const ZH_BODY_GAIN: Pool<&str> = Pool {
    name: "gain",
    train: &["购进了", "购进", "运来了", "收到了", "买进了"],
    held: &["新进了"],
};

pub const ZH_BODY_LOSE: Pool<&str> = Pool {
    name: "lose",
    train: &["卖出了", "借出了", "处理掉了", "送出了"],
    held: &["报废了"],
};

pub const ZH_GAIN: Pool<&str> = Pool {
    name: "gain",
    train: &["买了", "得到了", "捡到了", "收到了", "赢了"],
    held: &["领到了"],
};

pub const ZH_LOSE: Pool<&str> = Pool {
    name: "lose",
    train: &["送给同学", "卖掉了", "丢了", "用掉了", "借给朋友"],
    held: &["捐出了"],
};

/// Times a tally is told over, in order ("on Monday", "on Tuesday"). No entry is held out:
/// the template demonstrations that hold a held-out form are left out of training, and
/// these times were in them before tallies existed ("in the morning").
pub const EN_PERIODS: &[&[&str]] = &[
    &["on Monday", "on Tuesday", "on Wednesday"],
    &["in the morning", "in the afternoon", "in the evening"],
    &["last week", "this week"],
    &["in May", "in June", "in July"],
    &["on the first day", "on the second day", "on the third day"],
];

pub const ZH_PERIODS: &[&[&str]] = &[
    &["星期一", "星期二", "星期三"],
    &["上午", "下午", "晚上"],
    &["上周", "本周"],
    &["五月", "六月", "七月"],
    &["第一天", "第二天", "第三天"],
];

/// Times an average is told over, in order, with the unit it is asked per: up to four, as
/// many as the held-out scores hold.
pub const EN_AVERAGE_PERIODS: &[(&[&str], &str)] = &[
    (
        &["on Monday", "on Tuesday", "on Wednesday", "on Thursday"],
        "day",
    ),
    (
        &[
            "on the first day",
            "on the second day",
            "on the third day",
            "on the fourth day",
        ],
        "day",
    ),
    (&["last week", "this week"], "week"),
    (&["in May", "in June", "in July", "in August"], "month"),
];

/// The same in Chinese, with the unit's measure ("这3天平均每天", "这两个月平均每个月").
pub const ZH_AVERAGE_PERIODS: &[(&[&str], &str)] = &[
    (&["星期一", "星期二", "星期三", "星期四"], "天"),
    (&["第一天", "第二天", "第三天", "第四天"], "天"),
    (&["上周", "本周"], "周"),
    (&["五月", "六月", "七月", "八月"], "个月"),
];

/// Things measured one by one, whose mean an average asks for ([`crate::Plan::average_frames`]):
/// "Three parcels weigh 12 kg, 15 kg and 18 kg. What is their average weight?".
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    pub many: &'static str,
    /// The measures told, around `{}`: "weigh {}", "are {} tall".
    pub told: &'static str,
    pub unit: &'static str,
    /// What the mean is of: "weight".
    pub quantity: &'static str,
    /// The question per thing, after "On average, ": "how much does a parcel weigh".
    pub each: &'static str,
}

const fn measure(
    many: &'static str,
    told: &'static str,
    unit: &'static str,
    quantity: &'static str,
    each: &'static str,
) -> Measure {
    Measure {
        many,
        told,
        unit,
        quantity,
        each,
    }
}

pub const EN_MEASURES: &[Measure] = &[
    measure(
        "parcels",
        "weigh {}",
        "kg",
        "weight",
        "how much does a parcel weigh",
    ),
    measure(
        "pumpkins",
        "weigh {}",
        "kg",
        "weight",
        "how much does a pumpkin weigh",
    ),
    measure(
        "sunflowers",
        "are {} tall",
        "cm",
        "height",
        "how tall is a sunflower",
    ),
    measure("ropes", "are {} long", "m", "length", "how long is a rope"),
    measure(
        "journeys",
        "take {}",
        "minutes",
        "time",
        "how long does a journey take",
    ),
];

/// The same in Chinese: (thing, its measure word, the verb, unit, what the mean is of):
/// "3个箱子分别重12千克、15千克和18千克".
pub const ZH_MEASURES: &[(&str, &str, &str, &str, &str)] = &[
    ("箱子", "个", "重", "千克", "重量"),
    ("西瓜", "个", "重", "千克", "重量"),
    ("向日葵", "棵", "高", "厘米", "高度"),
    ("绳子", "根", "长", "米", "长度"),
    ("木板", "块", "长", "厘米", "长度"),
];

/// The held-out telling of an average, test scores ("Ingrid scored 81, 67 and 92 on three
/// tests. What is the average score?", "小明三次考试的成绩分别是…平均分是多少？"), known by
/// these forms: no training request holds one, whatever the plan.
pub const EN_AVERAGE_HELD: &[&str] = &["average score", "scored"];
pub const ZH_AVERAGE_HELD: &[&str] = &["平均分是多少", "次考试的成绩"];

pub fn held_average(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => EN_AVERAGE_HELD,
        Lang::Zh => ZH_AVERAGE_HELD,
    }
}

/// Places that hold things in Chinese equal-groups problems, counted with 个 ("一个篮子放9个苹果"). No
/// entry is held out, for the reason [`EN_PERIODS`] gives.
pub const ZH_PLACES: &[&str] = &["篮子", "盘子", "柜子", "抽屉", "盒子", "口袋"];

/// A place things are kept, for equal groups told by where they are ([`crate::Plan::group_places`]):
/// "There are 24 books on a shelf." / "书架上有24本书". Held out by its own word.
#[derive(Debug, Clone, Copy)]
pub struct Holder {
    /// Plural and singular (the Chinese name twice: 书架, counted with 个).
    pub many: &'static str,
    pub one: &'static str,
    /// Where on it: "on", "in"; in Chinese the word after the place (上, 里).
    pub at: &'static str,
}

impl Forms for Holder {
    fn forms(&self) -> Vec<&'static str> {
        if self.many == self.one {
            vec![self.one]
        } else {
            vec![self.many, self.one]
        }
    }
}

const fn h(many: &'static str, one: &'static str, at: &'static str) -> Holder {
    Holder { many, one, at }
}

pub const EN_HOLDERS: Pool<Holder> = Pool {
    name: "holder",
    train: &[
        h("shelves", "shelf", "on"),
        h("baskets", "basket", "in"),
        h("drawers", "drawer", "in"),
        h("tables", "table", "on"),
        h("plates", "plate", "on"),
        h("racks", "rack", "on"),
    ],
    held: &[h("wagons", "wagon", "in"), h("benches", "bench", "on")],
};

pub const ZH_HOLDERS: Pool<Holder> = Pool {
    name: "holder",
    train: &[
        h("书架", "书架", "上"),
        h("篮子", "篮子", "里"),
        h("抽屉", "抽屉", "里"),
        h("盘子", "盘子", "里"),
        h("柜子", "柜子", "里"),
        h("箱子", "箱子", "里"),
    ],
    held: &[h("花盆", "花盆", "里"), h("推车", "推车", "里")],
};

/// Verbs a tally counts, as (base, past): "How many did she sell?" / "She sold 8.". Not
/// "collected": it is a held-out verb of getting more.
pub const EN_TALLY: &[(&str, &str)] = &[
    ("sell", "sold"),
    ("make", "made"),
    ("find", "found"),
    ("buy", "bought"),
    ("pack", "packed"),
];

/// The same in Chinese, as (the question's verb, the story's).
pub const ZH_TALLY: &[(&str, &str)] = &[
    ("卖出", "卖出了"),
    ("收集", "收集了"),
    ("做", "做了"),
    ("捡到", "捡到了"),
    ("买", "买了"),
];

/// Words for a small count, for numbers written as words ("three tests").
pub const EN_SMALL: [&str; 11] = [
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
];
pub const ZH_SMALL: [&str; 9] = ["两", "三", "四", "五", "六", "七", "八", "九", "十"];

/// Every held-out surface form of every pool in `lang`: none appears in a training
/// request.
pub fn held_forms(lang: Lang) -> Vec<&'static str> {
    let mut forms = match lang {
        Lang::En => [
            choose::held_forms(&[&EN_PEOPLE]),
            choose::held_forms(&[&EN_THINGS, &EN_CONTAINERS]),
            choose::held_forms(&[&EN_GAIN, &EN_LOSE, &EN_BODY_GAIN, &EN_BODY_LOSE]),
            choose::held_forms(&[&EN_BODIES]),
            choose::held_forms(&[&EN_PARTS]),
            choose::held_forms(&[&EN_HOLDERS]),
        ]
        .concat(),
        Lang::Zh => [
            choose::held_forms(&[&ZH_PEOPLE, &ZH_CONTAINERS, &ZH_GAIN, &ZH_LOSE]),
            choose::held_forms(&[&ZH_BODIES, &ZH_BODY_GAIN, &ZH_BODY_LOSE]),
            choose::held_forms(&[&ZH_THINGS]),
            choose::held_forms(&[&ZH_PARTS]),
            choose::held_forms(&[&ZH_HOLDERS]),
        ]
        .concat(),
    };
    forms.extend(held_average(lang));
    forms.extend(crate::bare::held_forms(lang));
    forms.extend(crate::program::held_forms(lang));
    forms.extend(crate::literature::held_forms(lang));
    forms.extend(crate::social::held_forms(lang));
    forms.extend(crate::surface::held_forms(lang));
    forms
}
