//! The fused operations under autodiff, each with a handwritten backward that calls the inner
//! backend's kernels. The inner kernels themselves pass through untracked: they are the
//! pieces of these backward passes, not operations a model differentiates.

use burn::backend::Backend;
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn_autodiff::Autodiff;
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind, unary};

use super::{AdamWStep, FusedOps};

impl<B: Backend + FusedOps, C: CheckpointStrategy> FusedOps for Autodiff<B, C> {
    fn causal_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let nodes = [q.node(), k.node(), v.node()];
        let (q, k, v) = (q.into_primitive(), k.into_primitive(), v.into_primitive());
        let (out, lse) = B::flash_attention(q.clone(), k.clone(), v.clone());
        match CausalAttention
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(
                AttentionState {
                    qkv: [q, k, v],
                    out: out.clone(),
                    lse,
                },
                out,
            ),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }

    fn flash_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (out, lse) =
            B::flash_attention(q.into_primitive(), k.into_primitive(), v.into_primitive());
        (untracked::<B, C>(out), untracked::<B, C>(lse))
    }

    fn flash_attention_backward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        out: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (dq, dk, dv) = B::flash_attention_backward(
            q.into_primitive(),
            k.into_primitive(),
            v.into_primitive(),
            out.into_primitive(),
            lse.into_primitive(),
            grad.into_primitive(),
        );
        (
            untracked::<B, C>(dq),
            untracked::<B, C>(dk),
            untracked::<B, C>(dv),
        )
    }

    fn cross_entropy(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self> {
        let node = logits.node();
        let logits = logits.into_primitive();
        let losses = B::cross_entropy(logits.clone(), targets.clone());
        match CrossEntropy.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish((logits, targets, losses.clone()), losses),
            OpsKind::UnTracked(prep) => prep.finish(losses),
        }
    }

    fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let node = x.node();
        let x = x.into_primitive();
        let out = B::exact_gelu(x.clone());
        match Gelu.prepare::<C>([node]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(x, out),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }

    fn cross_entropy_backward(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
        losses: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        untracked::<B, C>(B::cross_entropy_backward(
            logits.into_primitive(),
            targets,
            losses.into_primitive(),
            grad.into_primitive(),
        ))
    }

    fn exact_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        untracked::<B, C>(B::exact_gelu_backward(
            x.into_primitive(),
            grad.into_primitive(),
        ))
    }

    fn cached_attention(
        q: FloatTensor<Self>,
        keys: FloatTensor<Self>,
        values: FloatTensor<Self>,
        len: usize,
    ) -> FloatTensor<Self> {
        // Decoding only: nothing to differentiate (the wrapper never sends autodiff here).
        untracked::<B, C>(B::cached_attention(
            q.into_primitive(),
            keys.into_primitive(),
            values.into_primitive(),
            len,
        ))
    }

    fn row_product(x: FloatTensor<Self>, w: FloatTensor<Self>) -> FloatTensor<Self> {
        untracked::<B, C>(B::row_product(x.into_primitive(), w.into_primitive()))
    }

    fn adamw(
        weights: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        step: AdamWStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (w, m, v) = B::adamw(
            weights.into_primitive(),
            grad.into_primitive(),
            m.into_primitive(),
            v.into_primitive(),
            step,
        );
        (
            untracked::<B, C>(w),
            untracked::<B, C>(m),
            untracked::<B, C>(v),
        )
    }
}

/// An output that no gradient flows through.
fn untracked<B: Backend, C: CheckpointStrategy>(
    tensor: FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>> {
    FloatTensor::<Autodiff<B, C>>::new(tensor)
}

#[derive(Debug)]
struct CausalAttention;

/// What attention's backward needs: the inputs, the output and each query's log-sum-exp
/// (not the probabilities, which the backward recomputes tile by tile, nor the scores, the
/// mask or the softmax's intermediate tensors, which the composed version keeps).
#[derive(Debug, Clone)]
struct AttentionState<B: Backend> {
    qkv: [FloatTensor<B>; 3],
    out: FloatTensor<B>,
    lse: FloatTensor<B>,
}

impl<B: Backend + FusedOps> Backward<B, 3> for CausalAttention {
    type State = AttentionState<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let AttentionState {
            qkv: [q, k, v],
            out,
            lse,
        } = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let (dq, dk, dv) = B::flash_attention_backward(q, k, v, out, lse, grad);
        for (node, gradient) in ops.parents.into_iter().zip([dq, dk, dv]) {
            if let Some(node) = node {
                grads.register::<B>(node.id, gradient);
            }
        }
    }
}

#[derive(Debug)]
struct CrossEntropy;

impl<B: Backend + FusedOps> Backward<B, 1> for CrossEntropy {
    /// The logits, the targets and the forward's losses.
    type State = (FloatTensor<B>, IntTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (logits, targets, losses) = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            B::cross_entropy_backward(logits, targets, losses, grad)
        });
    }
}

#[derive(Debug)]
struct Gelu;

impl<B: Backend + FusedOps> Backward<B, 1> for Gelu {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let x = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            B::exact_gelu_backward(x, grad)
        });
    }
}
