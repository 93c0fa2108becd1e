//! The README's three-line example.
use ferrograd::{Tensor, init};

fn main() -> ferrograd::Result<()> {
    init();
    let a = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    println!(
        "{:?}",
        a.matmul(&a)?.relu()?.sum(&[1], false)?.to_vec::<f32>()?
    );
    Ok(())
}
