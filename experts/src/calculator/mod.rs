//! The calculator expert: exact arithmetic on our own fast parser for everyday expressions
//! and evalexpr's parser for the rest (pinned to 11.3.1; 12.0 and later are AGPL-3.0). Numbers, + − × ÷ % ^, parentheses and an allowlist of functions; no
//! assignment, strings or variables. Integers are exact (overflow is an error, never a wrong
//! number) and results are printed canonically.

mod eval;
mod fast;

use async_trait::async_trait;

pub use eval::{
    FUNCTIONS, MAX_BYTES, MAX_DEPTH, Number, evaluate, evaluate_fast, evaluate_general, format,
};

use crate::{Context, Demonstration, Expert, ExpertError, Grounded, InputFormat, Observation};

/// Stack for the evaluation thread. The input limits already bound the recursion; a thread
/// of our own makes the bound independent of whoever calls us.
const STACK_BYTES: usize = 4 << 20;

pub struct Calculator {
    name: String,
    format: InputFormat,
    demonstrations: Vec<Demonstration>,
}

impl Calculator {
    pub fn new() -> Self {
        Calculator {
            name: "calculator".into(),
            // Operands come from the conversation. A request with unstated constants (the
            // seconds of a leap year below) then needs an ungrounded agent; we measured that
            // offering common constants (2, 12, 100…) lets a small model write `12 * 12` for
            // "357 times 995".
            format: InputFormat::alphabet(
                "an arithmetic expression, e.g. (3 + 4) * 2 or sqrt(2) ^ 10",
                MAX_BYTES,
                "0123456789.+-*/%^(), \t\nabcdefghijklmnopqrstuvwxyz×÷−（），",
            )
            .grounded(Grounded::Numbers),
            demonstrations: vec![
                Demonstration::new("What is 17% of 2,350?", "2350 * 17 / 100", "399.5"),
                Demonstration::new(
                    "How many seconds are in a leap year?",
                    "366 * 24 * 60 * 60",
                    "31622400",
                ),
                Demonstration::new("一个半径为3的圆面积是多少？", "pi * 3 ^ 2", "28.2743338823"),
            ],
        }
    }

    /// The same calculator under another name.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// Evaluates on a thread with an explicit stack, so no input can overflow the caller's
    /// (everyday expressions take the fast path, on this thread).
    pub fn evaluate(&self, expression: &str) -> Result<String, ExpertError> {
        if let Some(answer) = evaluate_fast(expression) {
            return answer
                .map(format)
                .map_err(|message| ExpertError::invalid(&self.name, message));
        }
        let worker = on_own_stack(expression, |result| result)
            .map_err(|e| ExpertError::failed(&self.name, format!("cannot start a thread: {e}")))?;
        match worker.join() {
            Ok(result) => result.map_err(|message| ExpertError::invalid(&self.name, message)),
            Err(_) => Err(ExpertError::failed(
                &self.name,
                "the evaluation failed unexpectedly",
            )),
        }
    }
}

/// Evaluates `expression` on a new thread with a [`STACK_BYTES`] stack and hands the
/// formatted result (or the error message) to `done` there.
fn on_own_stack<T: Send + 'static>(
    expression: &str,
    done: impl FnOnce(Result<String, String>) -> T + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<T>> {
    let owned = expression.to_string();
    std::thread::Builder::new()
        .name("calculator".into())
        .stack_size(STACK_BYTES)
        .spawn(move || done(evaluate(&owned).map(format)))
}

impl Default for Calculator {
    fn default() -> Self {
        Calculator::new()
    }
}

#[async_trait]
impl Expert for Calculator {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        "exact arithmetic: + - * / % ^, parentheses, sqrt pow abs min max round floor ceil ln log10 exp sin cos tan, pi, e"
    }

    fn input_format(&self) -> &InputFormat {
        &self.format
    }

    fn demonstrations(&self) -> &[Demonstration] {
        &self.demonstrations
    }

    async fn call(&self, input: &str, _ctx: &Context) -> Result<Observation, ExpertError> {
        // Everyday expressions: the fast path's recursion is bounded by its own limits, so
        // it runs here, without the thread.
        if let Some(answer) = evaluate_fast(input) {
            return answer
                .map(|n| Observation::new(format(n)))
                .map_err(|message| ExpertError::invalid(&self.name, message));
        }
        // The same thread with an explicit stack as `evaluate`, awaited through a channel so
        // the async worker thread is not blocked while it runs.
        let (send, receive) = tokio::sync::oneshot::channel();
        on_own_stack(input, move |result| {
            let _ = send.send(result);
        })
        .map_err(|e| ExpertError::failed(&self.name, format!("cannot start a thread: {e}")))?;
        match receive.await {
            Ok(Ok(value)) => Ok(Observation::new(value)),
            Ok(Err(message)) => Err(ExpertError::invalid(&self.name, message)),
            Err(_) => Err(ExpertError::failed(
                &self.name,
                "the evaluation failed unexpectedly",
            )),
        }
    }
}
