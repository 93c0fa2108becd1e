//! Values stored as protobuf messages, as the ONNX test data stores them: a `TensorProto`,
//! a `SequenceProto` of tensors, or an `OptionalProto`; which one is said by the type the
//! model declares for the value.

use prost::Message;

use crate::elem::ElemType;
use crate::error::{OnnxError, Result, invalid};
use crate::graph::ValueType;
use crate::proto;
use crate::tensor_proto::decode_tensor;
use crate::value::{Sequence, TensorValue, Value};

/// `SequenceProto.elem_type` / `OptionalProto.elem_type` of a tensor, and of a sequence.
const TENSOR: i32 = 1;
const SEQUENCE: i32 = 3;

/// Decodes a serialized `TensorProto` into a host tensor value.
pub fn read_tensor_pb(bytes: &[u8]) -> Result<TensorValue> {
    let t = proto::TensorProto::decode(bytes).map_err(|source| OnnxError::Decode {
        what: "tensor (TensorProto)",
        source,
    })?;
    Ok(TensorValue::from_host(decode_tensor(&t, None)?))
}

/// Decodes a serialized value of type `ty`.
pub fn read_value_pb(bytes: &[u8], ty: &ValueType) -> Result<Value> {
    match ty {
        ValueType::Sequence(elem) => {
            let s = proto::SequenceProto::decode(bytes).map_err(|source| OnnxError::Decode {
                what: "sequence (SequenceProto)",
                source,
            })?;
            Ok(Value::Sequence(sequence(&s, elem)?))
        }
        ValueType::Optional(inner) => {
            let o = proto::OptionalProto::decode(bytes).map_err(|source| OnnxError::Decode {
                what: "optional (OptionalProto)",
                source,
            })?;
            match o.elem_type.unwrap_or(0) {
                TENSOR => match &o.tensor_value {
                    Some(t) => Ok(Value::Tensor(TensorValue::from_host(decode_tensor(
                        t, None,
                    )?))),
                    None => Ok(Value::None),
                },
                SEQUENCE => match (&o.sequence_value, inner.as_ref()) {
                    (Some(s), ValueType::Sequence(elem)) => Ok(Value::Sequence(sequence(s, elem)?)),
                    (Some(s), other) => Ok(Value::Sequence(sequence(s, other)?)),
                    (None, _) => Ok(Value::None),
                },
                0 => Ok(Value::None),
                other => Err(invalid!(
                    "optional of element kind {other} is not supported"
                )),
            }
        }
        _ => Ok(Value::Tensor(read_tensor_pb(bytes)?)),
    }
}

fn sequence(s: &proto::SequenceProto, elem: &ValueType) -> Result<Sequence> {
    if s.elem_type.unwrap_or(TENSOR) != TENSOR {
        return Err(invalid!("only sequences of tensors are supported"));
    }
    let items: Vec<TensorValue> = s
        .tensor_values
        .iter()
        .map(|t| Ok(TensorValue::from_host(decode_tensor(t, None)?)))
        .collect::<Result<_>>()?;
    let elem = match (items.first(), elem) {
        (Some(first), _) => first.elem(),
        (None, ValueType::Tensor { elem, .. }) => ElemType::from_onnx(*elem)?,
        (None, _) => return Err(invalid!("an empty sequence of unknown element type")),
    };
    Ok(Sequence { elem, items })
}
