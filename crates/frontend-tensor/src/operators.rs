//! Arithmetic operators: `&a + &b`, `&a * 2.0`, `2.0 - &a`, `-&a`. Shapes broadcast and
//! dtypes promote as the methods do; a binary operator gives a `Result` (a shape mismatch
//! is an error, never a panic), negation cannot fail.

use std::ops::{Add, Div, Mul, Neg, Sub};

use crate::error::Result;
use crate::tensor::Tensor;

macro_rules! binary_operator {
    ($trait:ident, $method:ident, $tensor_fn:ident, $scalar_fn:expr, $rscalar_fn:expr) => {
        impl $trait<&Tensor> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                let (a, b): (&Tensor, &Tensor) = (&self, &rhs);
                Tensor::$tensor_fn(a, b)
            }
        }
        impl $trait<Tensor> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                let (a, b): (&Tensor, &Tensor) = (&self, &rhs);
                Tensor::$tensor_fn(a, b)
            }
        }
        impl $trait<&Tensor> for Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                let (a, b): (&Tensor, &Tensor) = (&self, &rhs);
                Tensor::$tensor_fn(a, b)
            }
        }
        impl $trait<Tensor> for Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                let (a, b): (&Tensor, &Tensor) = (&self, &rhs);
                Tensor::$tensor_fn(a, b)
            }
        }
        impl $trait<f64> for &Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: f64) -> Result<Tensor> {
                let f: fn(&Tensor, f64) -> Result<Tensor> = $scalar_fn;
                f(self, rhs)
            }
        }
        impl $trait<f64> for Tensor {
            type Output = Result<Tensor>;
            fn $method(self, rhs: f64) -> Result<Tensor> {
                let f: fn(&Tensor, f64) -> Result<Tensor> = $scalar_fn;
                f(&self, rhs)
            }
        }
        impl $trait<&Tensor> for f64 {
            type Output = Result<Tensor>;
            fn $method(self, rhs: &Tensor) -> Result<Tensor> {
                let f: fn(f64, &Tensor) -> Result<Tensor> = $rscalar_fn;
                f(self, rhs)
            }
        }
        impl $trait<Tensor> for f64 {
            type Output = Result<Tensor>;
            fn $method(self, rhs: Tensor) -> Result<Tensor> {
                let f: fn(f64, &Tensor) -> Result<Tensor> = $rscalar_fn;
                f(self, &rhs)
            }
        }
    };
}

binary_operator!(Add, add, add, |t, v| t.add_scalar(v), |v, t| t
    .add_scalar(v));
binary_operator!(Sub, sub, sub, |t, v| t.add_scalar(-v), |v, t| t
    .neg()
    .add_scalar(v));
binary_operator!(Mul, mul, mul, |t, v| t.mul_scalar(v), |v, t| t
    .mul_scalar(v));
binary_operator!(
    Div,
    div,
    div,
    |t, v| Tensor::div(t, &t.scalar_like(v)),
    |v, t| Tensor::div(&t.scalar_like(v), t)
);

impl Neg for &Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        // the inherent method (a method call would find this impl again)
        Tensor::neg(self)
    }
}

impl Neg for Tensor {
    type Output = Tensor;
    fn neg(self) -> Tensor {
        Tensor::neg(&self)
    }
}
