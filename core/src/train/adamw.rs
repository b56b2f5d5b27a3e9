//! AdamW with PyTorch's semantics, set explicitly, and clipping by the global gradient norm.
//!
//! burn's AdamW decays every parameter and clips tensor by tensor; GPT training (nanoGPT,
//! the PyTorch reference) decays only weights of two or more dimensions and clips the norm
//! of all gradients together. This is `torch.optim.AdamW` plus `clip_grad_norm_`.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

use crate::kernels::{self, AdamWStep};

/// AdamW's hyperparameters, PyTorch's names and meanings.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Decoupled weight decay, applied to parameters of two or more dimensions only.
    pub weight_decay: f64,
    /// Clip the global gradient norm to this (PyTorch's `clip_grad_norm_`); `None`: no clipping.
    pub grad_clip: Option<f64>,
}

impl Default for AdamWConfig {
    /// nanoGPT's and the PyTorch reference's settings.
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 0.1,
            grad_clip: Some(1.0),
        }
    }
}

/// First and second moments of one parameter, flattened.
#[derive(Clone)]
struct Moments {
    m: Tensor<1>,
    v: Tensor<1>,
}

/// The optimizer and its state: the step count and every parameter's moments, keyed by the
/// parameter's path in the model (`blocks.0.attn.c_attn.weight`), which survives a save and
/// a reload where parameter ids do not.
pub struct AdamW {
    config: AdamWConfig,
    step: u64,
    moments: HashMap<String, Moments>,
}

/// What one step measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
}

impl AdamW {
    pub fn new(config: AdamWConfig) -> Self {
        AdamW {
            config,
            step: 0,
            moments: HashMap::new(),
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The state as safetensors: `m.{path}` and `v.{path}` for every parameter, and the step
    /// count in the metadata. Deterministic: the same state gives the same bytes.
    pub fn state_bytes(&self) -> Result<Vec<u8>, String> {
        let mut names: Vec<&String> = self.moments.keys().collect();
        names.sort();
        let mut tensors: Vec<(String, Vec<u8>, usize)> = Vec::new();
        for name in names {
            let moments = &self.moments[name];
            for (prefix, tensor) in [("m", &moments.m), ("v", &moments.v)] {
                let values = tensor
                    .to_data()
                    .try_to_vec::<f32>()
                    .map_err(|e| format!("{e:?}"))?;
                let bytes: Vec<u8> = values.iter().flat_map(|f| f.to_le_bytes()).collect();
                tensors.push((format!("{prefix}.{name}"), bytes, values.len()));
            }
        }
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
            .iter()
            .map(|(name, bytes, len)| {
                let view = safetensors::tensor::TensorView::new(
                    safetensors::Dtype::F32,
                    vec![*len],
                    bytes,
                )
                .map_err(|e| e.to_string())?;
                Ok((name.clone(), view))
            })
            .collect::<Result<_, String>>()?;
        let metadata =
            std::collections::HashMap::from([("step".to_string(), self.step.to_string())]);
        safetensors::serialize(views, Some(metadata)).map_err(|e| e.to_string())
    }

    /// Restores a state written by [`AdamW::state_bytes`].
    pub fn load_state(&mut self, bytes: &[u8], device: &Device) -> Result<(), String> {
        let (_, header) =
            safetensors::SafeTensors::read_metadata(bytes).map_err(|e| e.to_string())?;
        let step = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get("step"))
            .and_then(|s| s.parse().ok())
            .ok_or("no step count in the optimizer state")?;
        let file = safetensors::SafeTensors::deserialize(bytes).map_err(|e| e.to_string())?;
        let mut moments = HashMap::new();
        for (name, view) in file.tensors() {
            let Some(path) = name.strip_prefix("m.") else {
                continue;
            };
            let v_view = file
                .tensor(&format!("v.{path}"))
                .map_err(|e| e.to_string())?;
            let to_tensor = |data: &[u8]| {
                let floats: Vec<f32> = data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                Tensor::<1>::from_floats(floats.as_slice(), device)
            };
            moments.insert(
                path.to_string(),
                Moments {
                    m: to_tensor(view.data()),
                    v: to_tensor(v_view.data()),
                },
            );
        }
        self.step = step;
        self.moments = moments;
        Ok(())
    }

    /// Updates every parameter of `model` that has a gradient, at learning rate `lr`.
    pub fn step<M: Module>(&mut self, lr: f64, model: M, grads: GradientsParams) -> (M, StepStats) {
        let mut norm = GradNorm {
            grads: &grads,
            sum: None,
        };
        model.visit(&mut norm);
        let grad_norm = norm
            .sum
            .map_or(0.0, |s| f64::from(s.into_scalar::<f32>()).sqrt());
        // As PyTorch: scale by max_norm / (norm + 1e-6) when that is below one.
        let scale = match self.config.grad_clip {
            Some(max) if grad_norm > 0.0 => (max / (grad_norm + 1e-6)).min(1.0),
            _ => 1.0,
        };
        self.step += 1;
        let mut update = Update {
            optimizer: self,
            grads,
            lr,
            scale,
            path: Vec::new(),
        };
        let model = model.map(&mut update);
        (model, StepStats { grad_norm })
    }
}

/// Sums the squares of every gradient (one device reduction per parameter, one sync).
struct GradNorm<'a> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<1>>,
}

impl ModuleVisitor for GradNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let squares = grad.powi_scalar(2).sum();
            self.sum = Some(match self.sum.take() {
                Some(sum) => sum + squares,
                None => squares,
            });
        }
    }
}

struct Update<'a> {
    optimizer: &'a mut AdamW,
    grads: GradientsParams,
    lr: f64,
    scale: f64,
    path: Vec<String>,
}

impl ModuleMapper for Update<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let key = self.path.join(".");
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let config = &self.optimizer.config;
        let shape = tensor.dims();
        let numel: usize = shape.iter().product();
        let is_autodiff = tensor.device().is_autodiff();
        let weights = if is_autodiff { tensor.inner() } else { tensor };
        let weights: Tensor<1> = weights.reshape([numel]);
        let grad: Tensor<1> = grad.reshape([numel]);

        let moments = self
            .optimizer
            .moments
            .remove(&key)
            .unwrap_or_else(|| Moments {
                m: Tensor::zeros([numel], &grad.device()),
                v: Tensor::zeros([numel], &grad.device()),
            });
        let t = self.optimizer.step as i32;
        let step = AdamWStep {
            lr: self.lr,
            beta1: config.beta1,
            beta2: config.beta2,
            eps: config.eps,
            weight_decay: if D >= 2 { config.weight_decay } else { 0.0 },
            bias1: 1.0 - config.beta1.powi(t),
            bias2: 1.0 - config.beta2.powi(t),
            grad_scale: self.scale,
        };
        let (weights, m, v) = kernels::adamw_update(weights, grad, moments.m, moments.v, step);
        self.optimizer.moments.insert(key, Moments { m, v });

        let weights: Tensor<D> = weights.reshape(shape);
        let weights = if is_autodiff {
            Tensor::from_inner(weights).require_grad()
        } else {
            weights
        };
        Param::from_mapped_value(id, weights, mapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};

    /// A 2×2 weight and a 2-vector bias with loss = Σ W∘c + Σ b∘d, so the gradients are c and d.
    fn step_once(config: AdamWConfig, steps: usize) -> (Vec<f32>, Vec<f32>, f64) {
        let device = Device::flex().autodiff();
        let mut layer: Linear = LinearConfig::new(2, 2).init(&device);
        layer.weight = Param::from_tensor(
            Tensor::<1>::from_floats([1.0, -2.0, 0.5, 3.0], &device).reshape([2, 2]),
        );
        layer.bias = Some(Param::from_tensor(Tensor::from_floats(
            [0.25, -0.5],
            &device,
        )));
        let c = Tensor::<1>::from_floats([3.0, -4.0, 0.0, 0.0], &device).reshape([2, 2]);
        let d = Tensor::<1>::from_floats([0.0, 12.0], &device);
        let mut optimizer = AdamW::new(config);
        let mut norm = 0.0;
        for _ in 0..steps {
            let bias = layer.bias.as_ref().unwrap().val();
            let loss = (layer.weight.val() * c.clone()).sum() + (bias * d.clone()).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &layer);
            let (next, stats) = optimizer.step(0.1, layer, grads);
            layer = next;
            norm = stats.grad_norm;
        }
        let w = layer.weight.val().into_data().try_to_vec::<f32>().unwrap();
        let b = layer
            .bias
            .unwrap()
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        (w, b, norm)
    }

    fn close(a: &[f32], b: &[f64]) {
        for (x, y) in a.iter().zip(b) {
            assert!((f64::from(*x) - y).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn first_step_matches_pytorch_by_hand() {
        // Step 1: m̂ = g, v̂ = g², so the update is lr·g/(|g|+eps) = ±0.1 where g ≠ 0;
        // decay (lr·wd = 0.01) shrinks the 2-D weight first, never the bias.
        let config = AdamWConfig {
            grad_clip: None,
            ..AdamWConfig::default()
        };
        let (w, b, norm) = step_once(config, 1);
        close(
            &w,
            &[1.0 * 0.99 - 0.1, -2.0 * 0.99 + 0.1, 0.5 * 0.99, 3.0 * 0.99],
        );
        close(&b, &[0.25, -0.5 - 0.1]);
        assert!((norm - 13.0).abs() < 1e-4, "‖(3, -4, 12)‖ = 13, got {norm}");
    }

    #[test]
    fn second_step_uses_bias_corrected_moments() {
        // Constant gradient g: m̂ = g and v̂ = g² again, so each step moves by lr·sign(g)
        // (up to eps), after decay.
        let config = AdamWConfig {
            grad_clip: None,
            weight_decay: 0.0,
            ..AdamWConfig::default()
        };
        let (w, b, _) = step_once(config, 2);
        close(&w, &[1.0 - 0.2, -2.0 + 0.2, 0.5, 3.0]);
        close(&b, &[0.25, -0.5 - 0.2]);
    }

    #[test]
    fn clipping_scales_all_gradients_together() {
        // With eps = 1 the first step is lr·g/(|g| + 1), which depends on g's size. The global
        // norm is 13: clipped to 1, g = 3 becomes 3/13 and moves the weight by
        // 0.1·(3/13)/(3/13 + 1) = 0.01875 instead of 0.1·3/4 = 0.075.
        let base = AdamWConfig {
            eps: 1.0,
            weight_decay: 0.0,
            ..AdamWConfig::default()
        };
        let (clipped, _, norm) = step_once(
            AdamWConfig {
                grad_clip: Some(1.0),
                ..base.clone()
            },
            1,
        );
        let (plain, _, _) = step_once(
            AdamWConfig {
                grad_clip: None,
                ..base
            },
            1,
        );
        assert!(
            (f64::from(clipped[0]) - (1.0 - 0.01875)).abs() < 1e-5,
            "{clipped:?}"
        );
        assert!(
            (f64::from(plain[0]) - (1.0 - 0.075)).abs() < 1e-5,
            "{plain:?}"
        );
        assert!(
            (norm - 13.0).abs() < 1e-4,
            "the norm reported is the one before clipping"
        );
    }
}
