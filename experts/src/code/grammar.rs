//! The program grammar the router decodes a code call under, one character at a time, as
//! the calculator's grammar does for arithmetic: a [`Program`] accepts a character only if
//! what has been written can still be completed into a program of the subset of Rhai below,
//! and every name it uses is one it declared. So a model that writes under it cannot leave
//! `if n % d = 0` (Rhai: "possibly a typo of '=='"), a `for` without its `{`, or a
//! variable it never declared (Rhai: "Variable not found"). [`Program::complete`] says when
//! the text is a whole program.
//!
//! The subset, which every program of the demonstrations and the expert's own examples is
//! written in:
//! - statements: `let x = e;`, `x = e;` (and `+= -= *= /= %=`, also on `x[i]`), `if e {…}`
//!   with `else if` and `else`, `while e {…}`, `loop {…}`, `for x in e {…}`, `break;` and
//!   `continue;` inside a loop, `fn f(a, b) {…}` at the top level, `return e;` inside one,
//!   an expression; the last statement of a block may leave out its `;` (its value);
//! - expressions: integers and decimals, strings, `true`, `false`, declared variables,
//!   calls of declared functions and of [`FUNCTIONS`], methods of [`METHODS`], `[a, b]`,
//!   `x[i]`, `( )`, unary `-` and `!`, and the operators of [`OPERATORS`] (ranges `a..b`,
//!   `a..=b` among them);
//! - names: a variable is visible after its `let` in its block and the blocks inside, a loop
//!   variable in its loop's body, a parameter in its function's body; a function's body
//!   sees its parameters and the functions, not the variables outside it (as Rhai has it).

use std::rc::Rc;

/// Functions a program may call besides its own (each runs in the code expert).
pub const FUNCTIONS: [&str; 2] = ["print", "abs"];

/// Methods a program may call on a value (each runs in the code expert).
pub const METHODS: [&str; 10] = [
    "len",
    "push",
    "pop",
    "reverse",
    "sort",
    "contains",
    "to_chars",
    "to_string",
    "abs",
    "sqrt",
];

/// Binary operators, assignments and punctuation, longest first where one extends another;
/// `--` and `<-` are none, but Rhai reads them as one symbol (reserved), so `3--4` and
/// `a<-1` are read as they are and refused rather than as `3 - -4` and `a < -1`.
pub const OPERATORS: [&str; 34] = [
    "**", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=", "%=", "..=", "..", "+", "-",
    "*", "/", "%", "<", ">", "!", "=", "(", ")", "{", "}", "[", "]", ",", ";", ".", "--", "<-",
];

const KEYWORDS: [&str; 13] = [
    "let", "if", "else", "while", "for", "in", "loop", "break", "continue", "fn", "return", "true",
    "false",
];

const BINARY: [&str; 16] = [
    "+", "-", "*", "/", "%", "**", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "..", "..=",
];

const ASSIGN: [&str; 6] = ["=", "+=", "-=", "*=", "/=", "%="];

/// The deepest nesting of blocks, brackets and expressions a program may have.
const MAX_FRAMES: usize = 64;

/// Where a program being written stands: the lexeme being written and the parse so far.
#[derive(Debug, Clone)]
pub struct Program {
    pending: Pending,
    parser: Parser,
    /// The last character was a space: a second is refused, or a model that lost its way
    /// could write spaces until its budget ran out (it did).
    spaced: bool,
}

impl Default for Program {
    fn default() -> Self {
        Program {
            spaced: false,
            pending: Pending::None,
            parser: Parser {
                frames: Rc::new(vec![Frame::Block(Block {
                    brace: false,
                    at: Stmt::Start,
                    mark: 0,
                    in_loop: false,
                    in_fn: false,
                })]),
                names: Rc::new(Vec::new()),
            },
        }
    }
}

impl Program {
    /// The program after `text`, or `None` if no program of the grammar starts so.
    pub fn after(&self, text: &str) -> Option<Program> {
        // Outside a string the grammar is ASCII: most of a vocabulary fails here, uncopied.
        let in_string = matches!(self.pending, Pending::Str { .. });
        if !in_string && text.starts_with(|c: char| !c.is_ascii()) {
            return None;
        }
        let mut next = self.clone();
        for c in text.chars() {
            next.push(c)?;
        }
        Some(next)
    }

    /// Whether the text so far is a whole program.
    pub fn complete(&self) -> bool {
        let mut end = self.clone();
        end.flush().is_some() && end.parser.feed(&Lex::End).is_some()
    }

    fn push(&mut self, c: char) -> Option<()> {
        let space = matches!(c, ' ' | '\t' | '\n' | '\r');
        let in_string = matches!(self.pending, Pending::Str { .. });
        if space && self.spaced && !in_string {
            return None;
        }
        self.spaced = space && !in_string;
        match &mut self.pending {
            Pending::Str { escaped } => {
                if *escaped {
                    *escaped = false;
                } else if c == '\\' {
                    *escaped = true;
                } else if c == '"' {
                    self.pending = Pending::None;
                    return self.parser.feed(&Lex::Str);
                } else if c == '\n' {
                    return None;
                }
                return Some(());
            }
            Pending::Word(word) if c.is_ascii_alphanumeric() || c == '_' => {
                word.push(c);
                return self.parser.word_may_be(word).then_some(());
            }
            Pending::Number(number) if c.is_ascii_digit() => {
                number.push(c);
                return Some(());
            }
            Pending::Number(number) if c == '.' && !number.contains('.') => {
                number.push(c);
                return Some(());
            }
            Pending::Number(number) if c == '.' && number.ends_with('.') => {
                // `1..`: the number was whole, and a range begins.
                number.pop();
                self.pending = Pending::Op(".".into());
                self.parser.feed(&Lex::Number)?;
                return self.push_op(c);
            }
            Pending::Number(_) if c.is_ascii_alphabetic() || c == '_' || c == '.' => return None,
            Pending::Op(op) => {
                let longer = format!("{op}{c}");
                if OPERATORS.iter().any(|o| o.starts_with(&longer)) {
                    *op = longer;
                    return self.parser.op_may_be(op).then_some(());
                }
            }
            _ => {}
        }
        self.flush()?;
        match c {
            ' ' | '\t' | '\n' | '\r' => Some(()),
            '0'..='9' => {
                self.pending = Pending::Number(c.to_string());
                self.parser.accepts(&Lex::Number).then_some(())
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let word = c.to_string();
                let possible = self.parser.word_may_be(&word);
                self.pending = Pending::Word(word);
                possible.then_some(())
            }
            '"' => {
                self.pending = Pending::Str { escaped: false };
                self.parser.accepts(&Lex::Str).then_some(())
            }
            c => {
                self.pending = Pending::Op(String::new());
                self.push_op(c)
            }
        }
    }

    /// `c` added to the operator being written.
    fn push_op(&mut self, c: char) -> Option<()> {
        let Pending::Op(op) = &mut self.pending else {
            unreachable!("called on an operator")
        };
        op.push(c);
        self.parser.op_may_be(op).then_some(())
    }

    /// Feeds the lexeme being written, if it is a whole one.
    fn flush(&mut self) -> Option<()> {
        match std::mem::replace(&mut self.pending, Pending::None) {
            Pending::None => Some(()),
            Pending::Str { .. } => None,
            Pending::Word(word) => self.parser.feed(&Lex::word(&word)),
            Pending::Number(number) if number.ends_with('.') => None,
            // A whole number Rhai cannot hold is refused (`.5` after it is still a number).
            Pending::Number(number) if !number.contains('.') && number.parse::<i64>().is_err() => {
                None
            }
            Pending::Number(_) => self.parser.feed(&Lex::Number),
            Pending::Op(op) => {
                let op = OPERATORS.iter().find(|o| **o == op)?;
                self.parser.feed(&Lex::Op(code(op)))
            }
        }
    }
}

/// The lexeme being written.
#[derive(Debug, Clone)]
enum Pending {
    None,
    Word(String),
    Number(String),
    Op(String),
    Str { escaped: bool },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Lex<'a> {
    Number,
    Str,
    /// A keyword (`true` and `false` are operands, kept apart).
    Keyword(&'static str),
    Bool,
    Name(&'a str),
    /// An operator, as its [`code`].
    Op(u32),
    End,
}

impl<'a> Lex<'a> {
    fn word(word: &'a str) -> Lex<'a> {
        match KEYWORDS.iter().find(|k| **k == word) {
            Some(&"true" | &"false") => Lex::Bool,
            Some(k) => Lex::Keyword(k),
            None => Lex::Name(word),
        }
    }

    fn is(&self, op: &str) -> bool {
        matches!(self, Lex::Op(o) if *o == code(op))
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self, Lex::Keyword(k) if *k == word)
    }
}

/// An operator of up to four bytes as one number: compared without a string comparison,
/// which the decoder does for thousands of tokens a step.
const fn code(op: &str) -> u32 {
    let bytes = op.as_bytes();
    let mut packed = 0u32;
    let mut i = 0;
    while i < bytes.len() && i < 4 {
        packed = (packed << 8) | bytes[i] as u32;
        i += 1;
    }
    packed
}

const fn codes<const N: usize>(ops: [&str; N]) -> [u32; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = code(ops[i]);
        i += 1;
    }
    out
}

const BINARY_CODES: [u32; 16] = codes(BINARY);
const ASSIGN_CODES: [u32; 6] = codes(ASSIGN);

/// The parse: a stack of what is open, and the names declared.
#[derive(Debug, Clone)]
struct Parser {
    // Shared until changed: the decoder copies a program for every token it tries, and most
    // tokens change neither.
    frames: Rc<Vec<Frame>>,
    names: Rc<Vec<Name>>,
}

#[derive(Debug, Clone)]
enum Name {
    Var(Rc<str>),
    Fn(Rc<str>),
    /// A function's body begins: the variables before it are not visible inside.
    Wall,
}

#[derive(Debug, Clone)]
enum Frame {
    Block(Block),
    Let(Let),
    /// `if` or `while` (`looping`).
    Cond {
        looping: bool,
        at: CondAt,
    },
    For {
        var: Option<Rc<str>>,
        at: ForAt,
    },
    Loop {
        body: bool,
    },
    Fn(FnAt, Vec<Rc<str>>),
    Expr(Expr),
    /// `(` … `)`, and the lone literal it holds, if it holds one.
    Group(Lit),
    /// `[` … `]` of an index.
    Index,
    /// A list: call arguments (closed by `)`) or an array (`]`).
    List {
        close: &'static str,
        started: bool,
    },
    /// After `.`: the method's name, then its `(`.
    Method {
        named: bool,
    },
}

#[derive(Debug, Clone, Copy)]
struct Block {
    brace: bool,
    at: Stmt,
    mark: usize,
    in_loop: bool,
    in_fn: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stmt {
    Start,
    /// After a simple statement: `;`, or the block ends (its value).
    Simple,
    /// After a block statement: `;`, another statement, or the end.
    Compound,
}

#[derive(Debug, Clone)]
enum Let {
    Name,
    Eq(Rc<str>),
    Value(Rc<str>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CondAt {
    Test,
    Body,
    Else,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ForAt {
    Var,
    In,
    Iter,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum FnAt {
    Name,
    Open,
    Param,
    Comma,
    Body,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Next {
    /// An operand comes next.
    Operand,
    /// A function's name is written: its `(` comes next.
    Callee,
    /// An operand is whole: an operator, a postfix or the end may follow.
    Operator,
}

/// Whether the expression may still become an assignment's target.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Assign {
    /// A statement's expression before its first operand.
    Maybe,
    /// A variable, or an element of one, at a statement's start.
    Target,
    No,
}

/// The frames an action opens, without allocating (the decoder asks thousands of times a
/// step).
macro_rules! push {
    () => {
        [None, None]
    };
    ($a:expr) => {
        [Some($a), None]
    };
    ($a:expr, $b:expr $(,)?) => {
        [Some($a), Some($b)]
    };
}

/// An expression being written.
#[derive(Debug, Clone, Copy)]
struct Expr {
    at: Next,
    assign: Assign,
    role: Role,
    /// The operand being written is a lone literal of this kind: Rhai refuses one as an
    /// operand of `||` and `&&`, as a condition, or (a number) as what a loop runs over.
    lone: Lit,
    /// The operand began with `!` (then it is no lone literal).
    not: bool,
    /// The operand follows `||` or `&&`.
    after_logic: bool,
    /// No operator but `||` and `&&` yet: the operand is all of what `||` or `&&` would take
    /// (the others bind more tightly).
    unit: bool,
    /// No binary operator yet: the expression is its first operand.
    single: bool,
}

/// A literal standing alone, as Rhai's parser checks it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Lit {
    None,
    Number,
    Text,
    Array,
}

/// What an expression is for, where Rhai's parser checks literals.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Value,
    /// An `if` or `while` condition.
    Condition,
    /// What a `for` loop runs over.
    Iterated,
}

/// What the frame on top does with a lexeme.
enum Act {
    Reject,
    /// The frame is whole: it closes, and the frame under it takes the lexeme.
    Close,
    /// The lexeme is taken: the frame becomes `top` (or closes, `None`), `push` opens on
    /// it, and with `again` the lexeme goes on to the top frame after that.
    Take {
        top: Option<Frame>,
        push: [Option<Frame>; 2],
        again: bool,
    },
}

impl Act {
    fn to(top: Frame) -> Act {
        Act::Take {
            top: Some(top),
            push: push![],
            again: false,
        }
    }

    fn open(top: Frame, push: [Option<Frame>; 2]) -> Act {
        Act::Take {
            top: Some(top),
            push,
            again: false,
        }
    }

    fn closed() -> Act {
        Act::Take {
            top: None,
            push: push![],
            again: false,
        }
    }
}

/// A block about to open (`Parser::open` sets where its names begin).
fn new_block(in_loop: bool, in_fn: bool) -> Frame {
    Frame::Block(Block {
        brace: true,
        at: Stmt::Start,
        mark: 0,
        in_loop,
        in_fn,
    })
}

fn expr(assign: Assign) -> Frame {
    role_expr(assign, Role::Value)
}

fn role_expr(assign: Assign, role: Role) -> Frame {
    Frame::Expr(Expr {
        at: Next::Operand,
        assign,
        role,
        lone: Lit::None,
        not: false,
        after_logic: false,
        unit: true,
        single: true,
    })
}

impl Parser {
    /// Whether the lexeme can come next.
    fn accepts(&self, lex: &Lex) -> bool {
        matches!(self.taker(lex), Some((_, Act::Take { .. })))
    }

    /// The frame that would decide on `lex` (the first from the top that does not close on
    /// it), and what it would do.
    fn taker(&self, lex: &Lex) -> Option<(usize, Act)> {
        (0..self.frames.len())
            .rev()
            .map(|depth| (depth, self.act(depth, lex)))
            .find(|(_, act)| !matches!(act, Act::Close))
    }

    /// Whether a word that starts so can come next.
    fn word_may_be(&self, start: &str) -> bool {
        if self.declares() {
            return true;
        }
        let visible = self.visible().map(|n| n.as_ref());
        KEYWORDS
            .iter()
            .chain(FUNCTIONS.iter())
            .chain(METHODS.iter())
            .copied()
            .chain(visible)
            .filter(|w| w.starts_with(start))
            .any(|w| self.accepts(&Lex::word(w)))
    }

    /// Whether an operator that starts so can come next.
    fn op_may_be(&self, start: &str) -> bool {
        OPERATORS
            .iter()
            .filter(|o| o.starts_with(start))
            .any(|o| self.accepts(&Lex::Op(code(o))))
    }

    /// Whether the frame taking a name now takes a new one (a declaration).
    fn declares(&self) -> bool {
        self.taker(&Lex::Name("")).is_some_and(|(depth, act)| {
            matches!(act, Act::Take { .. })
                && matches!(
                    self.frames[depth],
                    Frame::Let(Let::Name)
                        | Frame::For { at: ForAt::Var, .. }
                        | Frame::Fn(FnAt::Name | FnAt::Param, _)
                )
        })
    }

    /// The names an expression may use as variables, innermost first.
    fn visible(&self) -> impl Iterator<Item = &Rc<str>> {
        let vars = self
            .names
            .iter()
            .rev()
            .take_while(|n| !matches!(n, Name::Wall))
            .filter_map(|n| match n {
                Name::Var(v) => Some(v),
                _ => None,
            });
        let fns = self.names.iter().filter_map(|n| match n {
            Name::Fn(f) => Some(f),
            _ => None,
        });
        vars.chain(fns)
    }

    fn is_var(&self, name: &str) -> bool {
        self.names
            .iter()
            .rev()
            .take_while(|n| !matches!(n, Name::Wall))
            .any(|n| matches!(n, Name::Var(v) if v.as_ref() == name))
    }

    fn is_fn(&self, name: &str) -> bool {
        FUNCTIONS.contains(&name)
            || self
                .names
                .iter()
                .any(|n| matches!(n, Name::Fn(f) if f.as_ref() == name))
    }

    /// Takes the lexeme, or says it cannot come here (the parse is then spoilt: callers
    /// work on a copy).
    fn feed(&mut self, lex: &Lex) -> Option<()> {
        loop {
            let depth = self.frames.len().checked_sub(1)?;
            match self.act(depth, lex) {
                Act::Reject => return None,
                Act::Close => self.close()?,
                Act::Take { top, push, again } => {
                    match top {
                        // A function's name is declared once written, for its own body too.
                        Some(Frame::Fn(FnAt::Open, name)) => {
                            Rc::make_mut(&mut self.names).push(Name::Fn(name[0].clone()));
                            Rc::make_mut(&mut self.frames)[depth] = Frame::Fn(FnAt::Open, name);
                        }
                        Some(top) => Rc::make_mut(&mut self.frames)[depth] = top,
                        None => self.close()?,
                    }
                    for frame in push.into_iter().flatten() {
                        self.open(frame);
                    }
                    if self.frames.len() > MAX_FRAMES {
                        return None;
                    }
                    if !again {
                        return Some(());
                    }
                }
            }
        }
    }

    /// Pushes a frame. A block notes where its names begin, and declares what the frame
    /// it opens in binds: a loop's variable, a function's parameters (behind a wall).
    fn open(&mut self, mut frame: Frame) {
        if let Frame::Block(block) = &mut frame {
            block.mark = self.names.len();
            match self.frames.last() {
                Some(Frame::For { var: Some(var), .. }) => {
                    Rc::make_mut(&mut self.names).push(Name::Var(var.clone()))
                }
                Some(Frame::Fn(_, params)) => {
                    Rc::make_mut(&mut self.names).push(Name::Wall);
                    let params = params.iter().skip(1).map(|p| Name::Var(p.clone()));
                    Rc::make_mut(&mut self.names).extend(params);
                }
                _ => {}
            }
        }
        Rc::make_mut(&mut self.frames).push(frame);
    }

    /// Closes the top frame: a block forgets its names, a `let` declares its own.
    fn close(&mut self) -> Option<()> {
        let frames = Rc::make_mut(&mut self.frames);
        match frames.pop()? {
            Frame::Block(block) => Rc::make_mut(&mut self.names).truncate(block.mark),
            Frame::Let(Let::Value(name)) => Rc::make_mut(&mut self.names).push(Name::Var(name)),
            // `(1)` is as lone a literal as `1`, for Rhai's parser.
            Frame::Expr(e) => {
                if let Some(Frame::Group(lit)) = frames.last_mut() {
                    *lit = if e.single && !e.not {
                        e.lone
                    } else {
                        Lit::None
                    };
                }
            }
            Frame::Group(lit) => {
                if let Some(Frame::Expr(outer)) = frames.last_mut() {
                    outer.lone = lit;
                }
            }
            _ => {}
        }
        // The file's own block never closes.
        (!self.frames.is_empty()).then_some(())
    }

    /// The innermost block's loop and function context.
    fn context(&self, depth: usize) -> (bool, bool) {
        self.frames[..=depth]
            .iter()
            .rev()
            .find_map(|f| match f {
                Frame::Block(b) => Some((b.in_loop, b.in_fn)),
                _ => None,
            })
            .unwrap_or((false, false))
    }

    /// What the frame at `depth` does with `lex`, were the frames above it closed.
    fn act(&self, depth: usize, lex: &Lex) -> Act {
        match &self.frames[depth] {
            Frame::Block(block) => self.in_block(depth, *block, lex),
            Frame::Let(at) => match (at, lex) {
                (Let::Name, Lex::Name(name)) => Act::to(Frame::Let(Let::Eq((*name).into()))),
                (Let::Eq(name), l) if l.is("=") => Act::open(
                    Frame::Let(Let::Value(name.clone())),
                    push![expr(Assign::No)],
                ),
                (Let::Value(_), _) => Act::Close,
                _ => Act::Reject,
            },
            Frame::Cond { looping, at } => self.in_cond(depth, *looping, *at, lex),
            Frame::For { var, at } => self.in_for(depth, var, *at, lex),
            Frame::Loop { body } => match (body, lex) {
                (false, l) if l.is("{") => Act::open(
                    Frame::Loop { body: true },
                    push![new_block(true, self.context(depth).1)],
                ),
                (true, _) => Act::Close,
                _ => Act::Reject,
            },
            Frame::Fn(at, params) => self.in_fn(*at, params, lex),
            Frame::Expr(e) => self.in_expr(*e, lex),
            Frame::Group(_) => close_on(lex, ")"),
            Frame::Index => close_on(lex, "]"),
            Frame::List { close, started } => match (started, lex) {
                (_, l) if l.is(close) => Act::closed(),
                (true, l) if l.is(",") => Act::open(
                    Frame::List {
                        close,
                        started: true,
                    },
                    push![expr(Assign::No)],
                ),
                (false, l) if self.starts_operand(l) => Act::Take {
                    top: Some(Frame::List {
                        close,
                        started: true,
                    }),
                    push: push![expr(Assign::No)],
                    again: true,
                },
                _ => Act::Reject,
            },
            Frame::Method { named } => match (named, lex) {
                (false, Lex::Name(name)) if METHODS.contains(name) => {
                    Act::to(Frame::Method { named: true })
                }
                (true, l) if l.is("(") => Act::to(Frame::List {
                    close: ")",
                    started: false,
                }),
                _ => Act::Reject,
            },
        }
    }

    fn in_block(&self, depth: usize, block: Block, lex: &Lex) -> Act {
        let at = |at: Stmt| Frame::Block(Block { at, ..block });
        let starts = matches!(block.at, Stmt::Start | Stmt::Compound);
        match lex {
            Lex::End if !block.brace => Act::to(at(block.at)),
            l if l.is("}") && block.brace => Act::closed(),
            l if l.is(";") && !starts || l.is(";") && block.at == Stmt::Compound => {
                Act::to(at(Stmt::Start))
            }
            _ if !starts => Act::Reject,
            Lex::Keyword("let") => Act::open(at(Stmt::Simple), push![Frame::Let(Let::Name)]),
            Lex::Keyword(k @ ("if" | "while")) => Act::open(
                at(Stmt::Compound),
                push![
                    Frame::Cond {
                        looping: *k == "while",
                        at: CondAt::Test,
                    },
                    role_expr(Assign::No, Role::Condition),
                ],
            ),
            Lex::Keyword("for") => Act::open(
                at(Stmt::Compound),
                push![Frame::For {
                    var: None,
                    at: ForAt::Var,
                }],
            ),
            Lex::Keyword("loop") => {
                Act::open(at(Stmt::Compound), push![Frame::Loop { body: false }])
            }
            Lex::Keyword("fn") if depth == 0 => {
                Act::open(at(Stmt::Compound), push![Frame::Fn(FnAt::Name, Vec::new())])
            }
            Lex::Keyword("break" | "continue") if block.in_loop => Act::to(at(Stmt::Simple)),
            Lex::Keyword("return") if block.in_fn => {
                Act::open(at(Stmt::Simple), push![expr(Assign::No)])
            }
            l if l.is("{") => Act::open(
                at(Stmt::Compound),
                push![new_block(block.in_loop, block.in_fn)],
            ),
            l if self.starts_operand(l) => Act::Take {
                top: Some(at(Stmt::Simple)),
                push: push![expr(Assign::Maybe)],
                again: true,
            },
            _ => Act::Reject,
        }
    }

    fn in_cond(&self, depth: usize, looping: bool, at: CondAt, lex: &Lex) -> Act {
        let (in_loop, in_fn) = self.context(depth);
        let cond = |at| Frame::Cond { looping, at };
        match at {
            CondAt::Test if lex.is("{") => Act::open(
                cond(CondAt::Body),
                push![new_block(in_loop || looping, in_fn)],
            ),
            CondAt::Body if !looping && lex.keyword("else") => Act::to(cond(CondAt::Else)),
            CondAt::Body => Act::Close,
            CondAt::Else if lex.keyword("if") => Act::open(
                cond(CondAt::Test),
                push![role_expr(Assign::No, Role::Condition)],
            ),
            CondAt::Else if lex.is("{") => Act::open(
                Frame::Cond {
                    looping: true, // no second `else`
                    at: CondAt::Body,
                },
                push![new_block(in_loop, in_fn)],
            ),
            _ => Act::Reject,
        }
    }

    fn in_for(&self, depth: usize, var: &Option<Rc<str>>, at: ForAt, lex: &Lex) -> Act {
        let frame = |at, var: Option<Rc<str>>| Frame::For { var, at };
        match (at, lex) {
            (ForAt::Var, Lex::Name(name)) => Act::to(frame(ForAt::In, Some((*name).into()))),
            (ForAt::In, l) if l.keyword("in") => Act::open(
                frame(ForAt::Iter, var.clone()),
                push![role_expr(Assign::No, Role::Iterated)],
            ),
            // The loop variable is declared in the body (`open`): the block forgets it.
            (ForAt::Iter, l) if l.is("{") => Act::open(
                frame(ForAt::Done, var.clone()),
                push![new_block(true, self.context(depth).1)],
            ),
            (ForAt::Done, _) => Act::Close,
            _ => Act::Reject,
        }
    }

    fn in_fn(&self, at: FnAt, params: &[Rc<str>], lex: &Lex) -> Act {
        let frame = |at, params: Vec<Rc<str>>| Frame::Fn(at, params);
        match (at, lex) {
            // The name first, then the parameters.
            (FnAt::Name, Lex::Name(name)) => {
                Act::to(frame(FnAt::Open, Vec::from([Rc::<str>::from(*name)])))
            }
            (FnAt::Open, l) if l.is("(") => Act::to(frame(FnAt::Param, params.to_vec())),
            (FnAt::Param, Lex::Name(name)) => {
                let mut params = params.to_vec();
                params.push((*name).into());
                Act::to(frame(FnAt::Comma, params))
            }
            (FnAt::Param, l) if l.is(")") && params.len() == 1 => {
                Act::to(frame(FnAt::Body, params.to_vec()))
            }
            (FnAt::Comma, l) if l.is(",") => Act::to(frame(FnAt::Param, params.to_vec())),
            (FnAt::Comma, l) if l.is(")") => Act::to(frame(FnAt::Body, params.to_vec())),
            (FnAt::Body, l) if l.is("{") => Act::open(
                frame(FnAt::Done, params.to_vec()),
                push![new_block(false, true)],
            ),
            (FnAt::Done, _) => Act::Close,
            _ => Act::Reject,
        }
    }

    fn in_expr(&self, e: Expr, lex: &Lex) -> Act {
        let to = |at: Next, lone: Lit| {
            Frame::Expr(Expr {
                at,
                assign: Assign::No,
                lone,
                ..e
            })
        };
        // A lone literal of another kind than a boolean is refused where one is needed.
        let literal = if e.not { Lit::None } else { e.lone };
        match e.at {
            Next::Operand => match lex {
                Lex::Number => Act::to(to(Next::Operator, Lit::Number)),
                Lex::Str => Act::to(to(Next::Operator, Lit::Text)),
                Lex::Bool => Act::to(to(Next::Operator, Lit::None)),
                Lex::Name(name) if self.is_var(name) => Act::to(Frame::Expr(Expr {
                    at: Next::Operator,
                    assign: match e.assign {
                        Assign::Maybe => Assign::Target,
                        _ => Assign::No,
                    },
                    lone: Lit::None,
                    ..e
                })),
                Lex::Name(name) if self.is_fn(name) => Act::to(to(Next::Callee, Lit::None)),
                l if l.is("(") => Act::open(
                    to(Next::Operator, Lit::None),
                    push![Frame::Group(Lit::None), expr(Assign::No)],
                ),
                l if l.is("[") => Act::open(
                    to(Next::Operator, Lit::Array),
                    push![Frame::List {
                        close: "]",
                        started: false,
                    }],
                ),
                l if l.is("!") => Act::to(Frame::Expr(Expr {
                    not: true,
                    assign: Assign::No,
                    ..e
                })),
                l if l.is("-") => Act::to(to(Next::Operand, Lit::None)),
                _ => Act::Reject,
            },
            Next::Callee if lex.is("(") => Act::open(
                to(Next::Operator, Lit::None),
                push![Frame::List {
                    close: ")",
                    started: false,
                }],
            ),
            Next::Callee => Act::Reject,
            Next::Operator => match lex {
                Lex::Op(op) if BINARY_CODES.contains(op) => {
                    let logic = *op == code("||") || *op == code("&&");
                    if logic && e.unit && literal != Lit::None {
                        return Act::Reject;
                    }
                    Act::to(Frame::Expr(Expr {
                        at: Next::Operand,
                        assign: Assign::No,
                        lone: Lit::None,
                        not: false,
                        after_logic: logic || e.after_logic,
                        unit: logic,
                        single: false,
                        ..e
                    }))
                }
                Lex::Op(op) if ASSIGN_CODES.contains(op) && e.assign == Assign::Target => {
                    Act::to(role_expr(Assign::No, e.role))
                }
                l if l.is(".") => Act::open(
                    to(Next::Operator, Lit::None),
                    push![Frame::Method { named: false }],
                ),
                // Rhai checks the index of a literal as it parses (`[1][true && x]`): a
                // literal is not indexed here.
                l if l.is("[") && e.lone != Lit::None => Act::Reject,
                l if l.is("[") => Act::open(
                    Frame::Expr(Expr {
                        lone: Lit::None,
                        ..e
                    }),
                    push![Frame::Index, expr(Assign::No)],
                ),
                _ if e.after_logic && e.unit && literal != Lit::None => Act::Reject,
                _ if e.single && e.role == Role::Condition && literal != Lit::None => Act::Reject,
                _ if e.single && e.role == Role::Iterated && literal == Lit::Number => Act::Reject,
                _ => Act::Close,
            },
        }
    }

    /// Whether `lex` can begin an expression.
    fn starts_operand(&self, lex: &Lex) -> bool {
        match lex {
            Lex::Number | Lex::Str | Lex::Bool => true,
            Lex::Name(name) => self.is_var(name) || self.is_fn(name),
            l => l.is("(") || l.is("[") || l.is("-") || l.is("!"),
        }
    }
}

fn close_on(lex: &Lex, close: &str) -> Act {
    if lex.is(close) {
        Act::closed()
    } else {
        Act::Reject
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Expert;
    use crate::code::{Limits, run_in_process};

    /// Whether `text`, written one character at a time, is a whole program.
    fn whole(text: &str) -> bool {
        let mut program = Program::default();
        for c in text.chars() {
            match program.after(&c.to_string()) {
                Some(next) => program = next,
                None => return false,
            }
        }
        program.complete()
    }

    const SHAPES: [&str; 14] = [
        "let c = 0; for i in 1..=100 { if i % 3 == 0 || i % 5 == 0 { c += 1; } } c",
        "let a = 0; let b = 1; for i in 0..20 { let t = a + b; a = b; b = t; } a",
        "let f = 1; for i in 1..=10 { f *= i; } f",
        "let s = 0; for n in 2..3889 { let p = true; for d in 2..n { if d * d > n { break; } if n % d == 0 { p = false; break; } } if p { s += n; } } s",
        "let n = 9875; let s = 0; while n > 0 { s += n % 10; n /= 10; } s",
        "let a = 84; let b = 36; while b != 0 { let t = a % b; a = b; b = t; } a",
        "let s = 0; for k in 1..=10 { s += k * k; } s",
        "fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } } fib(20)",
        "let c = \"library\".to_chars(); c.reverse(); let s = \"\"; for x in c { s += x; } print(s);",
        "let x = 6 * 7; print(x)",
        "let v = [3, 1, 2]; v.sort(); v[0] = -v[2]; v.len()",
        "fn add(a, b) { return a + b; } let i = 0; loop { i += 1; if i >= 5 { break; } else if i == 2 { continue; } else { i += 0; } } add(i, 2.5)",
        "let s = 0; for i in 1..10 { s += i; }; { let t = s; s = t ** 2; } !(s > 3) && s != 4",
        "let q = 2; let r = abs(-q) + (q).abs(); r.to_string().len()",
    ];

    #[test]
    fn the_programs_of_the_demonstrations_are_whole() {
        for text in SHAPES {
            assert!(whole(text), "{text}");
        }
        // What Rhai's parser takes, where a literal needs a boolean.
        for text in [
            "let x = true; x || 2 < 3",
            "true && !1",
            "let x = true; x || 2 .. 4",
            "if (1 < 2) { 1 }",
            "for c in \"ab\" { }",
            "for i in [1, 2] { }",
        ] {
            assert!(whole(text), "{text}");
        }
        for demo in crate::code::Code::new().demonstrations() {
            assert!(whole(&demo.input), "{}", demo.input);
        }
    }

    /// Every program of the grammar above runs in the code expert: the grammar admits no
    /// function, method or form that Rhai reads otherwise.
    #[test]
    fn what_the_grammar_admits_rhai_runs() {
        for text in SHAPES {
            let outcome = run_in_process(text, &Limits::default());
            assert!(outcome.is_ok(), "{text}: {outcome:?}");
        }
        for method in METHODS {
            let call = match method {
                "push" | "contains" => format!("let v = [1.0]; v.{method}(2.0)"),
                "to_chars" | "len" | "to_string" => format!("let v = \"ab\"; v.{method}()"),
                "abs" | "sqrt" => format!("let v = 4.0; v.{method}()"),
                _ => format!("let v = [2, 1]; v.{method}()"),
            };
            assert!(whole(&call), "{call}");
            let outcome = run_in_process(&call, &Limits::default());
            assert!(outcome.is_ok(), "{call}: {outcome:?}");
        }
        for function in FUNCTIONS {
            let call = format!("{function}(-3)");
            assert!(whole(&call), "{call}");
            assert!(run_in_process(&call, &Limits::default()).is_ok(), "{call}");
        }
    }

    #[test]
    fn malformed_programs_cannot_be_written() {
        for (text, why) in [
            (
                "let s = 0; for n in 2..9 { if n % 3 = 0 { s += n; } } s",
                "= for ==",
            ),
            (
                "let s = 0; for n in 2..9 { c += n; } s",
                "an undeclared variable",
            ),
            (
                "let s = 0; for i in 1..5 s += i; s",
                "a loop without its block",
            ),
            ("(s - .", "the calculator's junk"),
            ("let 5 = 3;", "a number declared"),
            ("let if = 3;", "a keyword declared"),
            ("break;", "break outside a loop"),
            (
                "let a = 1; fn f() { a }",
                "an outer variable inside a function",
            ),
            ("for i in 0..3 { } i", "a loop variable after its loop"),
            ("{ let t = 1; } t", "a block's variable outside it"),
            ("if true { fn f() { 1 } }", "a function inside a block"),
            ("let x = 1; x x", "two operands without an operator"),
            ("let x = 1; x + 1 = 2", "an assignment to an expression"),
            ("let x = 1 x", "a statement without its ;"),
            ("let v = [1]; v.frobnicate()", "an unknown method"),
            ("eval(\"1\")", "an unknown function"),
            ("let x = 1..", "a range without its end"),
            ("let x = \"open", "an open string"),
            ("let x = 1.", "a number without its decimals"),
            ("fn f(a, a2,) { a }", "a trailing comma in the parameters"),
            ("return 1;", "return outside a function"),
            ("let x = true; x || 2", "a number as an operand of ||"),
            ("1 && true", "a number as an operand of &&"),
            (
                "let x = true; x || (2)",
                "a number in parentheses as an operand of ||",
            ),
            ("if 1 { 2 }", "a number as a condition"),
            ("while \"a\" { break; }", "a string as a condition"),
            ("if -1 { 2 }", "a negative number as a condition"),
            ("for x in 5 { }", "a loop over a number"),
            ("3--4", "Rhai's reserved --"),
            ("let a = 1; a<-1", "Rhai's reserved <-"),
            ("99999999999999999999", "a whole number over i64"),
            ("5 [true && false]", "an index on a literal"),
        ] {
            assert!(!whole(text), "{why}: {text}");
        }
    }

    /// A prefix stays open for what completes it, and nothing else.
    #[test]
    fn prefixes_wait_for_what_completes_them() {
        let at = |text: &str| Program::default().after(text).expect(text);
        assert!(
            !at("let s = 0; for i in 1..5 { s += i; ").complete(),
            "an open block"
        );
        assert!(
            !at("let s = 0; for i in 1..5 { s += i").complete(),
            "an open block"
        );
        assert!(at("let s = 0; for i in 1..5 { s += i; } s").complete());
        assert!(
            at("let s = 0; s").after("u").is_none(),
            "no variable starts su"
        );
        assert!(at("let sum = 0; s").after("u").is_some());
        assert!(
            at("let s = 0; while s < 3 ").after("s").is_none(),
            "the body's {{ first"
        );
        assert!(
            at("let total").after("s = 1; totals").is_some(),
            "a new name is free"
        );
        assert!(at("le").after("t x = 1").is_some());
        assert!(at("1").after(";;").is_none(), "no empty statement");
        assert!(
            at("let x = 1;").after("  x").is_none(),
            "one space at a time"
        );
        assert!(
            at("let x = \"a  ").after("  b\"").is_some(),
            "in a string, any"
        );
        assert!(at("let x = 1; x ").after("=").is_some());
        assert!(at("let x = 1; x + 2 ").after("=").is_some(), "as ==");
        assert!(
            at("let x = 1; x + 2 =").after(" ").is_none(),
            "not an assignment"
        );
    }
}
