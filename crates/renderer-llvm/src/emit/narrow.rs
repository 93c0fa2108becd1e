//! Narrow floats between registers and memory, for the flavor at hand. Registers always
//! hold a narrow float's value as a `float`. In memory it is either its bits, converted
//! by the IR helpers of `helpers::narrow` (the CPU, like the C renderer: scalars only),
//! or the target's own type (`half`, `bfloat`: `Flavor::native_narrow`, a GPU's), where
//! `fpext` and `fptrunc` convert, on vectors too. Both round to nearest, ties to even,
//! without saturating.

use uop_ir::DType;

use super::Emitter;
use crate::flavor::Flavor;
use crate::helpers::narrow::{decode, encode};
use crate::types::{int_type, memory_type, vector_of};

impl<F: Flavor + ?Sized> Emitter<'_, F> {
    /// The type of an element of `dtype` in memory.
    pub(super) fn memory_ty(&self, dtype: DType) -> Option<&'static str> {
        self.flavor
            .native_narrow(dtype)
            .or_else(|| memory_type(dtype))
    }

    /// Whether `lanes` values of the narrow float `dtype` can be converted at once.
    pub(super) fn narrow_lanes_ok(&self, dtype: DType, lanes: u8) -> Result<(), String> {
        if lanes > 1 && dtype.is_narrow_float() && self.flavor.native_narrow(dtype).is_none() {
            return Err(format!("no vectors of {dtype} in memory"));
        }
        Ok(())
    }

    /// `dest` = the `float` value of the narrow float `raw` (its memory form).
    pub(super) fn decode_into(&mut self, dtype: DType, raw: &str, lanes: u8, dest: &str) {
        let instruction = self.decode_instruction(dtype, raw, lanes);
        self.ins(dest, instruction);
    }

    /// The instruction giving the `float` value of the narrow float `raw`.
    pub(super) fn decode_instruction(&mut self, dtype: DType, raw: &str, lanes: u8) -> String {
        match self.flavor.native_narrow(dtype) {
            Some(native) => format!(
                "fpext {} {raw} to {}",
                vector_of(native, lanes),
                vector_of("float", lanes)
            ),
            None => {
                let f = decode(self.module, dtype);
                let mty = memory_type(dtype).unwrap_or("i16");
                format!("call float {f}({mty} {raw})")
            }
        }
    }

    /// The memory form of the `float` value `v` of the narrow float `dtype`.
    pub(super) fn encode_narrow(&mut self, dtype: DType, v: &str, lanes: u8) -> String {
        let t = self.temp();
        match self.flavor.native_narrow(dtype) {
            Some(native) => self.ins(
                &t,
                format!(
                    "fptrunc {} {v} to {}",
                    vector_of("float", lanes),
                    vector_of(native, lanes)
                ),
            ),
            None => {
                let f = encode(self.module, dtype);
                let mty = memory_type(dtype).unwrap_or("i16");
                self.ins(&t, format!("call {mty} {f}(float {v})"));
            }
        }
        t
    }

    /// The bits of the `float` value `v` of the narrow float `dtype`, as an integer.
    pub(super) fn narrow_bits(&mut self, dtype: DType, v: &str) -> String {
        let encoded = self.encode_narrow(dtype, v, 1);
        match self.flavor.native_narrow(dtype) {
            Some(native) => {
                let t = self.temp();
                let ity = int_type(dtype.itemsize());
                self.ins(&t, format!("bitcast {native} {encoded} to {ity}"));
                t
            }
            None => encoded,
        }
    }

    /// The instruction giving the `float` value of the narrow float `dtype` whose bits
    /// are the integer `bits`.
    pub(super) fn narrow_from_bits(&mut self, dtype: DType, bits: &str) -> String {
        let ity = int_type(dtype.itemsize());
        match self.flavor.native_narrow(dtype) {
            Some(native) => {
                let t = self.temp();
                self.ins(&t, format!("bitcast {ity} {bits} to {native}"));
                format!("fpext {native} {t} to float")
            }
            None => {
                let f = decode(self.module, dtype);
                format!("call float {f}({ity} {bits})")
            }
        }
    }
}
