//! GPU discovery from the KFD topology in sysfs (`/sys/class/kfd/kfd/topology`): each
//! `nodes/N` directory is a CPU or a GPU; a GPU has a non-zero `gpu_id` and a
//! `properties` file of `key value` lines, from which the runtime needs the processor
//! (`gfx_target_version`), its DRM render node, CU and wave counts, LDS size and XCCs.
//! Without the directory (no amdgpu driver, or not Linux) or without a GPU node, the
//! error says which.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::{AmdError, Generation, Result, gfx_name};

/// Where Linux puts the KFD topology.
pub const TOPOLOGY: &str = "/sys/class/kfd/kfd/topology";

/// A GPU node of the topology.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuNode {
    /// The node's number (its directory).
    pub node: u32,
    /// The id the KFD's ioctls take.
    pub gpu_id: u32,
    /// `90402` is gfx942.
    pub gfx_target_version: u32,
    /// `/dev/dri/renderD{drm_render_minor}`.
    pub drm_render_minor: u32,
    pub simd_count: u32,
    pub simd_per_cu: u32,
    pub array_count: u32,
    pub simd_arrays_per_engine: u32,
    pub cu_per_simd_array: u32,
    pub max_waves_per_simd: u32,
    pub lds_size_in_kb: u32,
    /// XCCs (compute dies); 1 when the kernel does not report it.
    pub num_xcc: u32,
    pub max_slots_scratch_cu: u32,
}

impl GpuNode {
    /// `gfx942`, `gfx1100`, ...
    pub fn gfx_name(&self) -> String {
        gfx_name(self.gfx_target_version)
    }

    /// The command-format generation, if ferrograd knows it.
    pub fn generation(&self) -> Option<Generation> {
        Generation::of_target_version(self.gfx_target_version)
    }

    /// Compute units over all XCCs.
    pub fn cu_count(&self) -> u32 {
        self.simd_count / self.simd_per_cu.max(1)
    }

    /// Waves a CU holds.
    pub fn waves_per_cu(&self) -> u32 {
        self.max_waves_per_simd * self.simd_per_cu
    }

    /// The DRM render node to open next to `/dev/kfd`.
    pub fn render_node(&self) -> PathBuf {
        PathBuf::from(format!("/dev/dri/renderD{}", self.drm_render_minor))
    }
}

/// The `key value` lines of a `properties` file (values are decimal integers; lines
/// that are not are skipped).
pub fn parse_properties(text: &str) -> HashMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let key = parts.next()?;
            let value = parts.next()?.parse::<u64>().ok()?;
            Some((key.to_string(), value))
        })
        .collect()
}

/// The GPU of node `node` from its `gpu_id` and properties, or why they do not describe
/// one ferrograd can drive.
pub fn gpu_node(node: u32, gpu_id: u32, props: &HashMap<String, u64>) -> Result<GpuNode> {
    let get = |key: &str| -> Result<u32> {
        let v = props.get(key).ok_or_else(|| {
            AmdError::Topology(format!("node {node}: its properties have no {key}"))
        })?;
        u32::try_from(*v).map_err(|_| {
            AmdError::Topology(format!("node {node}: {key} = {v} does not fit 32 bits"))
        })
    };
    let optional = |key: &str, default: u32| get(key).unwrap_or(default);
    Ok(GpuNode {
        node,
        gpu_id,
        gfx_target_version: get("gfx_target_version")?,
        drm_render_minor: get("drm_render_minor")?,
        simd_count: get("simd_count")?,
        simd_per_cu: optional("simd_per_cu", 4),
        array_count: optional("array_count", 1),
        simd_arrays_per_engine: optional("simd_arrays_per_engine", 1),
        cu_per_simd_array: optional("cu_per_simd_array", 1),
        max_waves_per_simd: get("max_waves_per_simd")?,
        lds_size_in_kb: optional("lds_size_in_kb", 64),
        num_xcc: optional("num_xcc", 1).max(1),
        max_slots_scratch_cu: optional("max_slots_scratch_cu", 32),
    })
}

/// The GPU nodes under the topology directory `root`, in node order.
pub fn discover(root: &Path) -> Result<Vec<GpuNode>> {
    let nodes_dir = root.join("nodes");
    let entries = std::fs::read_dir(&nodes_dir).map_err(|e| {
        AmdError::NoGpu(format!(
            "there is no KFD topology at {} ({e}): the amdgpu driver is not loaded, or this is not Linux",
            nodes_dir.display()
        ))
    })?;
    let mut numbers: Vec<u32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect();
    numbers.sort_unstable();
    let mut gpus = Vec::new();
    for node in &numbers {
        let dir = nodes_dir.join(node.to_string());
        let read = |file: &str| {
            std::fs::read_to_string(dir.join(file)).map_err(|e| {
                AmdError::Topology(format!("cannot read {}: {e}", dir.join(file).display()))
            })
        };
        let gpu_id: u32 = read("gpu_id")?.trim().parse().map_err(|_| {
            AmdError::Topology(format!("{}: gpu_id is not a number", dir.display()))
        })?;
        if gpu_id == 0 {
            continue; // a CPU node
        }
        gpus.push(gpu_node(
            *node,
            gpu_id,
            &parse_properties(&read("properties")?),
        )?);
    }
    if gpus.is_empty() {
        return Err(AmdError::NoGpu(format!(
            "the KFD topology at {} lists {} node(s), none of them a GPU",
            root.display(),
            numbers.len()
        )));
    }
    Ok(gpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A topology directory of `nodes` (gpu_id, properties), removed on drop.
    struct Fixture(PathBuf);

    impl Fixture {
        fn new(name: &str, nodes: &[(u32, &str)]) -> Fixture {
            let root = std::env::temp_dir().join(format!("kfd-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            for (k, (gpu_id, props)) in nodes.iter().enumerate() {
                let dir = root.join("nodes").join(k.to_string());
                std::fs::create_dir_all(&dir).expect("fixture dir");
                std::fs::write(dir.join("gpu_id"), format!("{gpu_id}\n")).expect("gpu_id");
                std::fs::write(dir.join("properties"), props).expect("properties");
            }
            Fixture(root)
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const MI300X: &str = "cpu_cores_count 0\nsimd_count 1216\nmax_waves_per_simd 8\n\
        lds_size_in_kb 64\ngfx_target_version 90402\ndrm_render_minor 128\n\
        simd_arrays_per_engine 1\ncu_per_simd_array 10\narray_count 32\nnum_xcc 8\n\
        simd_per_cu 4\nmax_slots_scratch_cu 32\nvendor_id 4098\n";

    #[test]
    fn finds_the_gpu_nodes_and_reads_them() {
        let f = Fixture::new("mi300", &[(0, "cpu_cores_count 96\n"), (52_340, MI300X)]);
        let gpus = discover(&f.0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gpus.len(), 1);
        let g = &gpus[0];
        assert_eq!(
            (g.node, g.gpu_id, g.gfx_name()),
            (1, 52_340, "gfx942".to_string())
        );
        assert_eq!((g.cu_count(), g.waves_per_cu(), g.num_xcc), (304, 32, 8));
        assert_eq!(g.generation(), Some(Generation::Gfx9));
        assert_eq!(g.render_node(), PathBuf::from("/dev/dri/renderD128"));
    }

    #[test]
    fn says_why_there_is_no_gpu() {
        let missing = discover(Path::new("/nonexistent/kfd/topology")).expect_err("none");
        assert!(
            missing.to_string().contains("amdgpu driver is not loaded"),
            "{missing}"
        );
        let f = Fixture::new("cpu", &[(0, "cpu_cores_count 2\n")]);
        let cpus = discover(&f.0).expect_err("cpus only").to_string();
        assert!(cpus.contains("1 node(s), none of them a GPU"), "{cpus}");
        let f = Fixture::new("bad", &[(7, "simd_count 4\n")]);
        let bad = discover(&f.0).expect_err("incomplete").to_string();
        assert!(
            bad.contains("node 0: its properties have no gfx_target_version"),
            "{bad}"
        );
    }

    #[test]
    fn properties_parse_integer_lines_only() {
        let p = parse_properties("a 1\nb x\n\nc 18446744073709551615\nd\n");
        assert_eq!(p.len(), 2);
        assert_eq!(p["c"], u64::MAX);
    }
}
