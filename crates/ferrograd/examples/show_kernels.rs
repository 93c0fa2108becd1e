//! Prints the C of a few canonical kernels (run with DEBUG=4).
use ferrograd::{Tensor, init};
fn main() -> ferrograd::Result<()> {
    init();
    let a = Tensor::rand(&[1 << 12])?;
    a.sum(&[], false)?.realize()?;
    let x = Tensor::rand(&[64, 64])?;
    x.matmul(&x)?.realize()?;
    Ok(())
}
