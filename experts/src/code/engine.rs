//! The Rhai engine a program runs in, with every limit of [`Limits`] that Rhai itself can
//! enforce, and `print`/`debug` captured instead of written to stdout (which, in the worker,
//! carries the reply). No `eval`, no `import` (the crate is built with `no_module`), and Rhai
//! has no file, process or network functions to begin with.

use std::cell::RefCell;
use std::rc::Rc;

use rhai::{Dynamic, Engine, EvalAltResult};

use super::Limits;

/// What a finished program left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Everything it printed, one line per `print`.
    pub output: String,
    /// Its value (the last expression), unless it was `()`.
    pub value: Option<String>,
}

/// Captured output, shared between the engine's callbacks.
#[derive(Default)]
struct Printed {
    text: String,
    overflowed: bool,
}

/// Runs `program` under `limits`; the error says which limit was hit or what is wrong where.
pub fn run(program: &str, limits: &Limits) -> Result<Outcome, String> {
    if program.len() > limits.max_program_bytes {
        return Err(format!(
            "the program is {} bytes; at most {} are accepted",
            program.len(),
            limits.max_program_bytes
        ));
    }
    let printed = Rc::new(RefCell::new(Printed::default()));
    let engine = engine(limits, &printed);
    let result = engine.eval::<Dynamic>(program);
    let printed = printed.take();
    if printed.overflowed {
        return Err(output_too_large(limits));
    }
    let value = result.map_err(|e| one_line(&explain(*e, limits)))?;
    let value = (!value.is_unit()).then(|| value.to_string());
    let size = printed.text.len() + value.as_ref().map_or(0, String::len);
    if size > limits.max_output_bytes {
        return Err(output_too_large(limits));
    }
    Ok(Outcome {
        output: printed.text,
        value,
    })
}

fn engine(limits: &Limits, printed: &Rc<RefCell<Printed>>) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_depth)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth)
        .set_max_string_size(limits.max_string_bytes)
        .set_max_array_size(limits.max_array_len)
        .set_max_map_size(limits.max_map_len)
        .set_max_variables(10_000)
        .set_max_functions(1_000)
        .disable_symbol("eval");
    // Rhai's `sleep` blocks the thread in a system call the sandbox forbids, which crashed
    // the worker; a program has nothing to wait for, so it is refused like any error.
    engine.register_fn("sleep", |_: rhai::INT| -> Result<(), Box<EvalAltResult>> {
        Err(NO_SLEEP.into())
    });
    engine.register_fn(
        "sleep",
        |_: rhai::FLOAT| -> Result<(), Box<EvalAltResult>> { Err(NO_SLEEP.into()) },
    );
    let cap = limits.max_output_bytes;
    let sink = printed.clone();
    engine.on_print(move |line| capture(&sink, line, cap));
    let sink = printed.clone();
    engine.on_debug(move |line, _, _| capture(&sink, line, cap));
    // `print` cannot fail, so an overflowing print only sets a flag; the next progress
    // check stops the program.
    let sink = printed.clone();
    engine.on_progress(move |_| {
        sink.borrow()
            .overflowed
            .then(|| Dynamic::from("output limit"))
    });
    engine
}

const NO_SLEEP: &str =
    "sleep is not available: a program runs to its deadline and has nothing to wait for";

/// Longest error message passed on: a `throw` of a huge string must not flood the reply.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// An error message on one line (the protocol's rule), at most [`MAX_MESSAGE_BYTES`].
pub fn one_line(message: &str) -> String {
    let joined = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.len() <= MAX_MESSAGE_BYTES {
        return joined;
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !joined.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &joined[..end], joined.len())
}

fn capture(printed: &RefCell<Printed>, line: &str, cap: usize) {
    let mut printed = printed.borrow_mut();
    if printed.overflowed || printed.text.len() + line.len() + 1 > cap {
        printed.overflowed = true;
        return;
    }
    printed.text.push_str(line);
    printed.text.push('\n');
}

fn output_too_large(limits: &Limits) -> String {
    format!(
        "the program printed more than {} bytes (the output limit)",
        limits.max_output_bytes
    )
}

/// Rhai's error, with the limit it hit named in our terms.
fn explain(error: EvalAltResult, limits: &Limits) -> String {
    let at = error.position();
    let at = if at.is_none() {
        String::new()
    } else {
        format!(" ({at})")
    };
    match error {
        EvalAltResult::ErrorTooManyOperations(..) => format!(
            "the program ran more than {} operations, the limit (an endless loop?){at}",
            limits.max_operations
        ),
        EvalAltResult::ErrorStackOverflow(..) => format!(
            "function calls nested deeper than {}, the limit (runaway recursion?){at}",
            limits.max_call_depth
        ),
        EvalAltResult::ErrorDataTooLarge(what, ..) => format!(
            "{what} over the limit (strings {} bytes, arrays {} elements, maps {} entries){at}",
            limits.max_string_bytes, limits.max_array_len, limits.max_map_len
        ),
        EvalAltResult::ErrorParsing(kind, pos) => format!("syntax error: {kind} ({pos})"),
        other => other.to_string(),
    }
}
