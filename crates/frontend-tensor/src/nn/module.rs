//! The `Module` trait: a layer or a network, used by `&self`, with named parameters and
//! buffers as PyTorch names them (`weight`, `bias`, `running_mean`; a child's prefixed
//! with its field name and a dot: `conv1.weight`, `0.bias` in a `Sequential`).
//!
//! A module implements `forward` and says what it owns: its own parameters and buffers,
//! and its children. Everything else (the recursive names, the state dict, loading one,
//! training mode, saving to and loading from safetensors files) is provided.

use std::path::Path;

use crate::error::Result;
use crate::tensor::Tensor;

/// A layer or a network. Parameters are leaves created with `requires_grad_(true)`;
/// buffers are state that is saved and loaded but not trained (running statistics).
pub trait Module: Send + Sync {
    /// The module applied to `x`.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// This module's own trainable tensors by local name (`weight`, `bias`), not its
    /// children's, in a stable order.
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// This module's own non-trainable state by local name (`running_mean`), not its
    /// children's, in a stable order.
    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// The submodules, by field name (or index, in a `Sequential`), in a stable order.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        Vec::new()
    }

    /// Turns training mode on (batch statistics, dropout) or off (evaluation) for this
    /// module and its children. A module with a mode of its own overrides this and
    /// recurses into its children itself.
    fn set_training(&self, on: bool) {
        for (_, child) in self.children() {
            child.set_training(on);
        }
    }

    /// Training mode on (`model.train()` in PyTorch).
    fn train(&self) {
        self.set_training(true);
    }

    /// Training mode off (`model.eval()` in PyTorch).
    fn eval(&self) {
        self.set_training(false);
    }

    /// Every trainable tensor, this module's first, then each child's prefixed with its
    /// name (`conv1.weight`), as PyTorch's `named_parameters`.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut out = self.own_parameters();
        for (name, child) in self.children() {
            out.extend(prefixed(&name, child.named_parameters()));
        }
        out
    }

    /// Every non-trainable state tensor, named as in [`Module::named_parameters`].
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut out = self.own_buffers();
        for (name, child) in self.children() {
            out.extend(prefixed(&name, child.named_buffers()));
        }
        out
    }

    /// The trainable tensors, for an optimizer.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters()
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// The non-trainable state tensors (to realize with an optimizer's step: see
    /// `Optimizer::step_with`).
    fn buffers(&self) -> Vec<Tensor> {
        self.named_buffers().into_iter().map(|(_, t)| t).collect()
    }

    /// Parameters and buffers, in PyTorch's `state_dict` order: this module's parameters,
    /// its buffers, then each child's state dict under its name.
    fn state_dict(&self) -> Vec<(String, Tensor)> {
        let mut out = self.own_parameters();
        out.extend(self.own_buffers());
        for (name, child) in self.children() {
            out.extend(prefixed(&name, child.state_dict()));
        }
        out
    }

    /// Writes `state` into this module's parameters and buffers, in place (their
    /// buffers are overwritten, so an optimizer holding them keeps working). Every name
    /// of the state dict must be given, with its shape, dtype and device, and no other
    /// name: otherwise nothing is written and the error lists every name that is
    /// missing, unexpected or mismatched.
    fn load_state_dict(&self, state: &[(String, Tensor)]) -> Result<()> {
        super::state_dict::load_into(&self.state_dict(), state)
    }

    /// Saves the state dict to a safetensors file at `path`.
    fn save(&self, path: &Path) -> Result<()> {
        crate::state::save_safetensors(path, &self.state_dict())
    }

    /// Loads a safetensors file written by [`Module::save`] (or by PyTorch's
    /// `safetensors.torch.save_file(model.state_dict(), path)`) into this module.
    fn load(&self, path: &Path) -> Result<()> {
        let device = self
            .state_dict()
            .first()
            .map_or(crate::device::default_device().to_string(), |(_, t)| {
                t.device().to_string()
            });
        let state = crate::state::load_safetensors_on(path, &device)?;
        self.load_state_dict(&state)
    }
}

/// `tensors` with each name prefixed by `prefix.`.
fn prefixed(prefix: &str, tensors: Vec<(String, Tensor)>) -> Vec<(String, Tensor)> {
    tensors
        .into_iter()
        .map(|(name, t)| (format!("{prefix}.{name}"), t))
        .collect()
}
