//! How a model directory holds its weights, in one of three forms:
//!
//! ```text
//! model.safetensors                      one file, f32 (what training writes) or bf16
//! model-00001-of-00003.safetensors …     shards of at most a given size (Hugging Face's
//! model.safetensors.index.json           convention), f32 or bf16, with their index
//! ```
//!
//! Shards travel where one large file cannot (a 16 MiB limit on an upload or a transfer);
//! bf16 halves the size for shipping. Whatever the form, [`read`] gives the f32 safetensors
//! bytes that the model is filled from, so every loader reads every form.
//!
//! A save is not atomic as a set of files. Each shard and the index carry the id of the save
//! they belong to, so that a directory holding shards of two saves (one interrupted) is
//! refused, never loaded as a silent mix of two models.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use safetensors::tensor::TensorView;
use safetensors::{Dtype as StDtype, SafeTensors};
use serde::{Deserialize, Serialize};

/// The one-file form's name.
pub const SINGLE_FILE: &str = "model.safetensors";
/// The sharded form's index.
pub const INDEX_FILE: &str = "model.safetensors.index.json";
/// The metadata key naming the save a file belongs to.
const SAVE_KEY: &str = "miracle_save";

/// The number type weights are stored in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dtype {
    /// What training writes: exact.
    #[default]
    F32,
    /// bfloat16: half the bytes, f32's range, 8 bits of mantissa (rounded to nearest even).
    Bf16,
}

/// Which form to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layout {
    pub dtype: Dtype,
    /// Shards of at most this many bytes each (a tensor larger than that gets a shard of its
    /// own); one file when `None`.
    pub max_shard_bytes: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The OS's reason is part of the message, not a source: a chain printed whole (`{:#}`)
    /// would say it twice.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: cannot read the weights: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The index file, as Hugging Face writes it (plus the save id in `metadata`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    metadata: IndexMetadata,
    weight_map: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct IndexMetadata {
    total_size: u64,
    #[serde(rename = "miracle_save")]
    save: String,
}

/// One tensor as it is written: its name, shape and bytes in the stored dtype.
struct Stored {
    name: String,
    shape: Vec<usize>,
    data: Vec<u8>,
}

/// One tensor as it is read: its values in f32.
struct Decoded {
    name: String,
    shape: Vec<usize>,
    values: Vec<f32>,
}

/// Writes f32 safetensors bytes (`model_dir::weights_bytes`) into `dir` in `layout`'s form,
/// then removes the files of any other form, so that one form is left.
pub fn write(dir: &Path, f32_weights: &[u8], layout: Layout) -> Result<(), WeightsError> {
    let invalid = |message: String| WeightsError::Invalid {
        path: dir.to_path_buf(),
        message,
    };
    let tensors = SafeTensors::deserialize(f32_weights).map_err(|e| invalid(e.to_string()))?;
    let save = save_id(f32_weights);
    let mut named: Vec<Stored> = Vec::new();
    for (name, view) in tensors.tensors() {
        if view.dtype() != StDtype::F32 {
            return Err(invalid(format!(
                "{name}: expected f32, found {:?}",
                view.dtype()
            )));
        }
        let (shape, data) = (view.shape().to_vec(), encode(view.data(), layout.dtype));
        named.push(Stored { name, shape, data });
    }
    named.sort_by(|a, b| a.name.cmp(&b.name));
    let dtype = match layout.dtype {
        Dtype::F32 => StDtype::F32,
        Dtype::Bf16 => StDtype::BF16,
    };
    let serialize = |group: &[Stored]| {
        let views = group.iter().map(|t| {
            let view = TensorView::new(dtype, t.shape.clone(), &t.data).expect("sizes agree");
            (t.name.clone(), view)
        });
        let metadata = HashMap::from([(SAVE_KEY.to_string(), save.clone())]);
        safetensors::serialize(views, Some(metadata)).map_err(|e| invalid(e.to_string()))
    };
    let Some(max) = layout.max_shard_bytes else {
        // One f32 file is the bytes as given (training's, byte for byte); bf16 is rewritten.
        let single = match layout.dtype {
            Dtype::F32 => f32_weights.to_vec(),
            Dtype::Bf16 => serialize(&named)?,
        };
        write_file(&dir.join(SINGLE_FILE), &single)?;
        return remove_all_but(dir, &[SINGLE_FILE.to_string()]);
    };
    let groups = shards(&named, max);
    let mut index = Index {
        metadata: IndexMetadata {
            total_size: named.iter().map(|t| t.data.len() as u64).sum(),
            save: save.clone(),
        },
        weight_map: BTreeMap::new(),
    };
    let mut keep = vec![INDEX_FILE.to_string()];
    for (i, group) in groups.iter().enumerate() {
        let file = format!("model-{:05}-of-{:05}.safetensors", i + 1, groups.len());
        write_file(&dir.join(&file), &serialize(group)?)?;
        for tensor in *group {
            index.weight_map.insert(tensor.name.clone(), file.clone());
        }
        keep.push(file);
    }
    let json = serde_json::to_string_pretty(&index).expect("the index serialises") + "\n";
    write_file(&dir.join(INDEX_FILE), json.as_bytes())?;
    remove_all_but(dir, &keep)
}

/// Splits the tensors, in order, into groups whose files stay within `max` bytes: the data
/// plus a generous allowance for each tensor's header entry.
fn shards(named: &[Stored], max: u64) -> Vec<&[Stored]> {
    const FILE_OVERHEAD: u64 = 128;
    let cost = |t: &Stored| t.data.len() as u64 + t.name.len() as u64 + 96;
    let mut groups = Vec::new();
    let (mut start, mut size) = (0, FILE_OVERHEAD);
    for (i, tensor) in named.iter().enumerate() {
        if i > start && size + cost(tensor) > max {
            groups.push(&named[start..i]);
            (start, size) = (i, FILE_OVERHEAD);
        }
        size += cost(tensor);
    }
    if start < named.len() {
        groups.push(&named[start..]);
    }
    groups
}

/// Reads the weights of `dir`, whatever their form, as f32 safetensors bytes.
pub fn read(dir: &Path) -> Result<Vec<u8>, WeightsError> {
    let (single, index) = (dir.join(SINGLE_FILE), dir.join(INDEX_FILE));
    match (single.exists(), index.exists()) {
        (true, true) => Err(WeightsError::Invalid {
            path: dir.to_path_buf(),
            message: format!(
                "holds both {SINGLE_FILE} and {INDEX_FILE}; one of them is stale: remove it, or save the model again"
            ),
        }),
        (false, true) => read_sharded(dir, &index),
        _ => {
            let bytes = read_file(&single)?;
            let all_f32 = SafeTensors::deserialize(&bytes)
                .is_ok_and(|file| file.iter().all(|(_, view)| view.dtype() == StDtype::F32));
            if all_f32 {
                return Ok(bytes); // as training wrote it: no conversion
            }
            let mut tensors = Vec::new();
            decode_into(&single, &bytes, None, &mut tensors)?;
            to_f32_bytes(&single, tensors)
        }
    }
}

fn read_sharded(dir: &Path, index_path: &Path) -> Result<Vec<u8>, WeightsError> {
    let invalid = |path: &Path, message: String| WeightsError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let index: Index = serde_json::from_slice(&read_file(index_path)?)
        .map_err(|e| invalid(index_path, format!("not a shard index: {e}")))?;
    let mut files: Vec<&String> = index.weight_map.values().collect();
    files.sort();
    files.dedup();
    let mut tensors = Vec::new();
    for file in files {
        // A shard is a plain file name beside the index: never a path that leaves the folder.
        if file.contains(['/', '\\']) || file.starts_with('.') || !file.ends_with(".safetensors") {
            return Err(invalid(
                index_path,
                format!("`{file}` is not a shard file name"),
            ));
        }
        let path = dir.join(file);
        let bytes = read_file(&path)?;
        let before = tensors.len();
        decode_into(&path, &bytes, Some(&index.metadata.save), &mut tensors)?;
        for Decoded { name, .. } in &tensors[before..] {
            if index.weight_map.get(name) != Some(file) {
                return Err(invalid(
                    &path,
                    format!("holds `{name}`, which the index places elsewhere"),
                ));
            }
        }
    }
    for name in index.weight_map.keys() {
        if !tensors.iter().any(|t| &t.name == name) {
            let file = &index.weight_map[name];
            return Err(invalid(
                &dir.join(file),
                format!("lacks `{name}`, which the index places here"),
            ));
        }
    }
    to_f32_bytes(index_path, tensors)
}

/// Reads the tensors of one safetensors file as f32 values; with `save`, the file must carry
/// that save id.
fn decode_into(
    path: &Path,
    bytes: &[u8],
    save: Option<&str>,
    out: &mut Vec<Decoded>,
) -> Result<(), WeightsError> {
    let invalid = |message: String| WeightsError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let (_, metadata) = SafeTensors::read_metadata(bytes)
        .map_err(|e| invalid(format!("not a safetensors file: {e}")))?;
    if let Some(save) = save {
        let found = metadata.metadata().as_ref().and_then(|m| m.get(SAVE_KEY));
        if found.map(String::as_str) != Some(save) {
            return Err(invalid(
                "belongs to another save than the index (an interrupted save?); save the model again"
                    .into(),
            ));
        }
    }
    let file = SafeTensors::deserialize(bytes).map_err(|e| invalid(e.to_string()))?;
    for (name, view) in file.tensors() {
        let values = decode(view.dtype(), view.data()).ok_or_else(|| {
            invalid(format!(
                "{name}: {:?} weights are not read (f32 or bf16)",
                view.dtype()
            ))
        })?;
        let shape = view.shape().to_vec();
        out.push(Decoded {
            name,
            shape,
            values,
        });
    }
    Ok(())
}

fn to_f32_bytes(path: &Path, mut tensors: Vec<Decoded>) -> Result<Vec<u8>, WeightsError> {
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    let data: Vec<Vec<u8>> = tensors
        .iter()
        .map(|t| t.values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors.iter().zip(&data).map(|(t, bytes)| {
        let view = TensorView::new(StDtype::F32, t.shape.clone(), bytes).expect("sizes agree");
        (t.name.clone(), view)
    });
    safetensors::serialize(views, None).map_err(|e| WeightsError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn encode(f32_data: &[u8], dtype: Dtype) -> Vec<u8> {
    match dtype {
        Dtype::F32 => f32_data.to_vec(),
        Dtype::Bf16 => f32_data
            .chunks_exact(4)
            .flat_map(|b| {
                let value = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                half::bf16::from_f32(value).to_le_bytes()
            })
            .collect(),
    }
}

fn decode(dtype: StDtype, data: &[u8]) -> Option<Vec<f32>> {
    match dtype {
        StDtype::F32 => Some(
            data.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        ),
        StDtype::BF16 => Some(
            data.chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        ),
        _ => None,
    }
}

/// A stable id of a save: FNV-1a over its f32 bytes.
fn save_id(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Removes the weight files of `dir` that are not in `keep`: the other forms, and shards of
/// an earlier save with another count.
fn remove_all_but(dir: &Path, keep: &[String]) -> Result<(), WeightsError> {
    let io = |error| WeightsError::Io {
        path: dir.to_path_buf(),
        error,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let name = entry
            .map_err(io)?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let weights = name == SINGLE_FILE
            || name == INDEX_FILE
            || (name.starts_with("model-") && name.ends_with(".safetensors"));
        if weights && !keep.contains(&name) {
            std::fs::remove_file(dir.join(&name)).map_err(io)?;
        }
    }
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WeightsError> {
    crate::fs::write_atomic(path, bytes).map_err(|error| WeightsError::Io {
        path: path.to_path_buf(),
        error,
    })
}

fn read_file(path: &Path) -> Result<Vec<u8>, WeightsError> {
    std::fs::read(path).map_err(|error| WeightsError::Io {
        path: path.to_path_buf(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bf16_rounds_to_nearest_even_and_reads_back_exactly_what_it_holds() {
        let values = [1.0f32, -2.5, 1.0 + 1.0 / 256.0, 0.1234567, 1e-30, 65504.0];
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let back = decode(StDtype::BF16, &encode(&bytes, Dtype::Bf16)).unwrap();
        assert_eq!(back[0], 1.0);
        assert_eq!(back[1], -2.5);
        assert_eq!(back[2], 1.0, "halfway: to the even neighbour");
        for (v, b) in values.iter().zip(&back) {
            assert!((v - b).abs() <= v.abs() / 128.0, "{v} -> {b}");
        }
    }

    #[test]
    fn shards_stay_under_the_limit_unless_one_tensor_is_larger() {
        let t = |n: usize| Stored {
            name: format!("t{n}"),
            shape: vec![n],
            data: vec![0u8; n],
        };
        let named = vec![t(100), t(300), t(200), t(2000), t(50)];
        let groups = shards(&named, 1000);
        let sizes: Vec<Vec<usize>> = groups
            .iter()
            .map(|g| g.iter().map(|t| t.data.len()).collect())
            .collect();
        assert_eq!(sizes, vec![vec![100, 300], vec![200], vec![2000], vec![50]]);
    }
}
