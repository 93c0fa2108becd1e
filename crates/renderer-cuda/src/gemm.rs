//! The tensor-core GEMM that the linearizer's TC opt asks for (a WMMA node naming a
//! `TcGemm`), written out as CUDA C with inline PTX:
//!
//! - a block of 256 threads (8 warps, 2 x 4) computes a `tile_m x tile_n` tile of C;
//!   each warp a `tile_m/2 x tile_n/4` part of it as 16 x 8 `mma.sync` tiles
//!   (`m16n8k16`, f16 or bf16 in, f32 accumulators in registers);
//! - A and B advance 32 along `k` at a time through two shared-memory stages filled by
//!   16-byte `cp.async` copies, the next stage loading while the tensor cores work on the
//!   current one; rows are padded by 16 bytes so `ldmatrix` reads hit distinct banks;
//! - fragments come from shared memory with `ldmatrix` (`.trans` for a row-major B);
//! - the epilogue scales by `alpha` (before or after rounding to the output dtype, as
//!   the program does), rounds pairs of outputs with one `cvt` and stores them 4 (f16,
//!   bf16) or 8 (f32, or a narrow result widened for its consumers) bytes at a time.
//!
//! Batch loops map to `blockIdx.z`, with any strides. This is the Ampere-style path: on
//! Hopper it runs well below the peak, which needs `wgmma` with TMA copies.

use std::fmt::Write;

use linearizer::opts::tc::TcGemm;
use uop_ir::DType;

fn ptx_type(d: DType) -> &'static str {
    if d == DType::BF16 { "bf16" } else { "f16" }
}

/// The CUDA C of `g` as the kernel `name`.
pub fn render_gemm(g: &TcGemm, name: &str) -> String {
    let (bm, bn) = (g.tile_m, g.tile_n);
    let (wm, wn) = (bm / 2, bn / 4);
    let (mi, ni) = (wm / 16, wn / 8);
    let ty = ptx_type(g.dtype_in);
    let (a_rows, a_cols) = (bm, 40);
    let (b_rows, b_cols) = if g.b_transposed {
        (bn, 40)
    } else {
        (32, bn + 8)
    };
    let mut args = vec![String::new(); 3];
    let [c_slot, a_slot, b_slot] = g.slots;
    for (slot, decl) in [
        (
            c_slot,
            // C holds f32 also when the result is rounded narrow and widened again
            if g.dtype_out == DType::F32 || g.store_f32 {
                "float"
            } else {
                "unsigned short"
            },
        ),
        (a_slot, "const unsigned short"),
        (b_slot, "const unsigned short"),
    ] {
        if let Some(a) = args.get_mut(slot as usize) {
            *a = format!("{decl}* __restrict__ data{slot}");
        }
    }
    let mut batch = String::new();
    for d in g.batch.iter().rev() {
        let _ = writeln!(
            batch,
            "  {{ long long i = rem % {e}LL; rem /= {e}LL; a_off += i * {a}LL; b_off += i * {b}LL; c_off += i * {c}LL; }}",
            e = d.extent,
            a = d.a,
            b = d.b,
            c = d.c
        );
    }
    let (a, b, c) = (
        format!("data{a_slot}"),
        format!("data{b_slot}"),
        format!("data{c_slot}"),
    );
    let (n, k) = (g.n, g.k);
    let a_chunks = bm * 4 / 256;
    let b_chunks = bn * 4 / 256;
    let b_load = if g.b_transposed {
        format!(
            "      int row = ch >> 2, col = (ch & 3) * 8;\n      cp_async16(&Bs[buf][row][col], {b} + b_off + (long long)(n0 + row) * {k} + k0 + col);"
        )
    } else {
        format!(
            "      int row = ch / {per}, col = (ch % {per}) * 8;\n      cp_async16(&Bs[buf][row][col], {b} + b_off + (long long)(k0 + row) * {n} + n0 + col);",
            per = bn / 8
        )
    };
    let b_frag = if g.b_transposed {
        "        ldsm_x2(bf[j], &Bs[buf][wn0 + j * 8 + (lane & 7)][kk + ((lane >> 3) & 1) * 8]);"
    } else {
        "        ldsm_x2_trans(bf[j], &Bs[buf][kk + (lane & 15)][wn0 + j * 8]);"
    };
    let store = if g.store_f32 && g.dtype_out != DType::F32 {
        // round to the narrow dtype, then store the f32 it widens to
        let t = ptx_type(g.dtype_out);
        let back = if g.dtype_out == DType::BF16 {
            "__uint_as_float((unsigned)h << 16)"
        } else {
            "__half_bits_to_float(h)"
        };
        format!(
            "  float w0, w1;\n  {{ unsigned short h; asm(\"cvt.rn.{t}.f32 %0, %1;\" : \"=h\"(h) : \"f\"(v0)); w0 = {back}; }}\n  {{ unsigned short h; asm(\"cvt.rn.{t}.f32 %0, %1;\" : \"=h\"(h) : \"f\"(v1)); w1 = {back}; }}\n  *((float2*)(c + (long long)row * N + col)) = make_float2(w0, w1);"
        )
    } else if g.dtype_out == DType::F32 {
        "  *((float2*)(c + (long long)row * N + col)) = make_float2(v0, v1);".to_string()
    } else {
        format!(
            "  uint32_t p; asm(\"cvt.rn.{out}x2.f32 %0, %1, %2;\" : \"=r\"(p) : \"f\"(v1), \"f\"(v0));\n  *((uint32_t*)(c + (long long)row * N + col)) = p;",
            out = ptx_type(g.dtype_out)
        )
    };
    let scale = if g.scale_after_cast && g.dtype_out != DType::F32 {
        // round to the output dtype, scale in f32, and round again
        let t = ptx_type(g.dtype_out);
        let round = |v: &str| {
            format!(
                "  {{ unsigned short h; asm(\"cvt.rn.{t}.f32 %0, %1;\" : \"=h\"(h) : \"f\"({v})); {v} = {back}; }}\n",
                back = if g.dtype_out == DType::BF16 {
                    "__uint_as_float((unsigned)h << 16)".to_string()
                } else {
                    "__half_bits_to_float(h)".to_string()
                }
            )
        };
        format!(
            "  float v0 = acc[i][j][2 * h], v1 = acc[i][j][2 * h + 1];\n{}{}  v0 *= {alpha:?}f; v1 *= {alpha:?}f;",
            round("v0"),
            round("v1"),
            alpha = g.alpha as f32
        )
    } else {
        format!(
            "  const float v0 = acc[i][j][2 * h] * {alpha:?}f, v1 = acc[i][j][2 * h + 1] * {alpha:?}f;",
            alpha = g.alpha as f32
        )
    };
    format!(
        r#"typedef unsigned int uint32_t;

static __device__ __forceinline__ float __half_bits_to_float(unsigned short h) {{
  float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f;
}}

static __device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {{
  unsigned s = (unsigned)__cvta_generic_to_shared(smem);
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"(s), "l"(gmem));
}}

static __device__ __forceinline__ void ldsm_x4(uint32_t* r, const void* smem) {{
  unsigned s = (unsigned)__cvta_generic_to_shared(smem);
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {{%0,%1,%2,%3}}, [%4];"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(s));
}}

static __device__ __forceinline__ void ldsm_x2(uint32_t* r, const void* smem) {{
  unsigned s = (unsigned)__cvta_generic_to_shared(smem);
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {{%0,%1}}, [%2];" : "=r"(r[0]), "=r"(r[1]) : "r"(s));
}}

static __device__ __forceinline__ void ldsm_x2_trans(uint32_t* r, const void* smem) {{
  unsigned s = (unsigned)__cvta_generic_to_shared(smem);
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {{%0,%1}}, [%2];" : "=r"(r[0]), "=r"(r[1]) : "r"(s));
}}

static __device__ __forceinline__ void mma16816(float* d, const uint32_t* a, const uint32_t* b) {{
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.{ty}.{ty}.f32 {{%0,%1,%2,%3}}, {{%4,%5,%6,%7}}, {{%8,%9}}, {{%0,%1,%2,%3}};"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}}

extern "C" __global__ void __launch_bounds__(256) {name}({args}) {{
  const int N = {n};
  __shared__ __align__(16) unsigned short As[2][{a_rows}][{a_cols}];
  __shared__ __align__(16) unsigned short Bs[2][{b_rows}][{b_cols}];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int n0 = blockIdx.x * {bn}, m0 = blockIdx.y * {bm};
  const int wm0 = (warp >> 2) * {wm}, wn0 = (warp & 3) * {wn};
  long long rem = blockIdx.z, a_off = 0, b_off = 0, c_off = 0;
{batch}  float acc[{mi}][{ni}][4];
  for (int i = 0; i < {mi}; i++)
    for (int j = 0; j < {ni}; j++)
      for (int e = 0; e < 4; e++) acc[i][j][e] = 0.0f;
  auto load = [&](int buf, int k0) {{
    for (int i = 0; i < {a_chunks}; i++) {{
      int ch = tid + i * 256, row = ch >> 2, col = (ch & 3) * 8;
      cp_async16(&As[buf][row][col], {a} + a_off + (long long)(m0 + row) * {k} + k0 + col);
    }}
    for (int i = 0; i < {b_chunks}; i++) {{
      int ch = tid + i * 256;
{b_load}
    }}
  }};
  const int tiles = {k} / 32;
  load(0, 0);
  asm volatile("cp.async.commit_group;");
  for (int t = 0; t < tiles; t++) {{
    const int buf = t & 1;
    if (t + 1 < tiles) load(buf ^ 1, (t + 1) * 32);
    asm volatile("cp.async.commit_group;");
    asm volatile("cp.async.wait_group 1;");
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < 32; kk += 16) {{
      uint32_t af[{mi}][4], bf[{ni}][2];
#pragma unroll
      for (int i = 0; i < {mi}; i++)
        ldsm_x4(af[i], &As[buf][wm0 + i * 16 + (lane & 15)][kk + (lane >> 4) * 8]);
#pragma unroll
      for (int j = 0; j < {ni}; j++)
{b_frag}
#pragma unroll
      for (int i = 0; i < {mi}; i++)
#pragma unroll
        for (int j = 0; j < {ni}; j++) mma16816(acc[i][j], af[i], bf[j]);
    }}
    __syncthreads();
  }}
  auto c = {c} + c_off;
#pragma unroll
  for (int i = 0; i < {mi}; i++)
#pragma unroll
    for (int j = 0; j < {ni}; j++)
#pragma unroll
      for (int h = 0; h < 2; h++) {{
  const int row = m0 + wm0 + i * 16 + (lane >> 2) + h * 8, col = n0 + wn0 + j * 8 + (lane & 3) * 2;
{scale}
{store}
      }}
}}
"#,
        args = args.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use linearizer::opts::tc::GemmUnit;

    #[test]
    fn the_gemm_names_its_instructions() {
        let g = TcGemm {
            unit: GemmUnit::M16n8k16,
            m: 256,
            n: 128,
            k: 64,
            dtype_in: DType::BF16,
            dtype_out: DType::BF16,
            b_transposed: false,
            alpha: 1.0,
            scale_after_cast: false,
            store_f32: false,
            tile_m: 128,
            tile_n: 128,
            batch: Vec::new(),
            slots: [0, 1, 2],
        };
        let code = render_gemm(&g, "gemm_k");
        assert!(
            code.contains("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"),
            "{code}"
        );
        assert!(
            code.contains("ldmatrix.sync.aligned.m8n8.x2.trans"),
            "{code}"
        );
        assert!(code.contains("cvt.rn.bf16x2.f32"), "{code}");
        assert!(
            code.contains("unsigned short* __restrict__ data0"),
            "{code}"
        );
    }

    #[test]
    fn a_result_widened_to_f32_is_stored_through_a_float_pointer() {
        // (a @ b).cast(f32) rounded to f16 first: C is an f32 buffer, and its offsets
        // count floats
        let g = TcGemm {
            unit: GemmUnit::M16n8k16,
            m: 128,
            n: 128,
            k: 32,
            dtype_in: DType::F16,
            dtype_out: DType::F16,
            b_transposed: false,
            alpha: 1.0,
            scale_after_cast: false,
            store_f32: true,
            tile_m: 128,
            tile_n: 128,
            batch: Vec::new(),
            slots: [0, 1, 2],
        };
        let code = render_gemm(&g, "gemm_w");
        assert!(code.contains("float* __restrict__ data0"), "{code}");
        assert!(code.contains("*((float2*)(c + "), "{code}");
    }
}
