//! Prints the kernels of a few canonical programs (run with DEBUG=2 or DEBUG=4).
use ferrograd::{Tensor, init};
fn main() -> ferrograd::Result<()> {
    init();
    let a = Tensor::rand(&[1 << 22])?;
    let b = Tensor::rand(&[1 << 22])?;
    Tensor::realize_all(&[&a, &b])?;
    for _ in 0..3 {
        a.mul(&b)?.add_scalar(1.0)?.realize()?;
    }
    let s = Tensor::rand(&[2048, 2048])?;
    s.realize()?;
    s.softmax(-1)?.realize()?;
    Ok(())
}
