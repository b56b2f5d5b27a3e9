//! Training the GPT: the language-modelling loss, PyTorch-exact AdamW, and one step.

mod adamw;
mod checkpoint;
pub mod data;
pub mod dpo;
mod pairs;
pub mod ppo;
pub mod ppo_training;
pub mod pretrain;
pub mod reward;
pub mod reward_training;
pub mod sft;
mod trainer;

use burn::optim::GradientsParams;
use burn::prelude::*;

pub use adamw::{AdamW, AdamWConfig, StepStats};
pub use checkpoint::latest_checkpoint;
pub use trainer::TrainError;

use crate::gpt::Gpt;
use crate::kernels;

/// Mean next-token cross-entropy of `model` on inputs `x` and targets `y`, both
/// `[batch, time]`.
pub fn lm_loss(model: &Gpt, x: Tensor<2, Int>, y: Tensor<2, Int>) -> Tensor<1> {
    let [b, t] = x.dims();
    let logits = model.forward(x);
    let vocab = logits.dims()[2];
    kernels::cross_entropy(logits.reshape([b * t, vocab]), y.reshape([b * t])).mean()
}

/// One optimisation step on one batch; returns the updated model, the loss before the
/// update, and the step's statistics.
pub fn train_step(
    model: Gpt,
    optimizer: &mut AdamW,
    lr: f64,
    x: Tensor<2, Int>,
    y: Tensor<2, Int>,
) -> (Gpt, f32, StepStats) {
    let loss = lm_loss(&model, x, y);
    let value = loss.clone().into_scalar::<f32>();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    let (model, stats) = optimizer.step(lr, model, grads);
    (model, value, stats)
}
