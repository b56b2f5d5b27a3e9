//! The one file layout of the vectors kept beside an index (`words.bin`, `dense.bin`): a
//! magic line, a JSON header line, lines of text (one per word or paper), then
//! little-endian f32s. Written whole to a temporary file and renamed; read back with every
//! size checked against the header before anything is allocated for it.

use std::io::Write;
use std::path::Path;

use super::error::SearchError;

/// Writes `dir/file` as the layout says.
pub(super) fn write(
    dir: &Path,
    file: &str,
    magic: &str,
    header: &impl serde::Serialize,
    lines: impl IntoIterator<Item = String>,
    floats: impl IntoIterator<Item = f32>,
) -> Result<(), SearchError> {
    let path = dir.join(file);
    let tmp = dir.join(format!("{file}.tmp"));
    let mut bytes = Vec::new();
    let header = serde_json::to_string(header).expect("a plain header");
    writeln!(bytes, "{magic}\n{header}").expect("in memory");
    for line in lines {
        writeln!(bytes, "{line}").expect("in memory");
    }
    for x in floats {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(&tmp, bytes).map_err(|e| SearchError::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| SearchError::io(&path, e))
}

/// `dir/file` parsed by `parse`; `None` when there is no such file. A file `parse` refuses
/// is damage, reported with what to do.
pub(super) fn read<T>(
    dir: &Path,
    file: &str,
    parse: impl FnOnce(&mut Reader<'_>) -> Result<T, String>,
) -> Result<Option<T>, SearchError> {
    let path = dir.join(file);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SearchError::io(&path, e)),
    };
    parse(&mut Reader { rest: &bytes })
        .map(Some)
        .map_err(|detail| SearchError::Vectors { path, detail })
}

/// Reads a file of the layout front to back.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    /// The next line, without its newline.
    pub(super) fn line(&mut self) -> Result<&str, String> {
        let end = self
            .rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("the file ends inside its list of lines")?;
        let text = std::str::from_utf8(&self.rest[..end]).map_err(|_| "a line is not UTF-8")?;
        self.rest = &self.rest[end + 1..];
        Ok(text)
    }

    /// The magic line, then the header.
    pub(super) fn header<H: serde::de::DeserializeOwned>(
        &mut self,
        magic: &str,
    ) -> Result<H, String> {
        if self.line()? != magic {
            return Err(format!(
                "not a vectors file of this kind (no `{magic}` line)"
            ));
        }
        serde_json::from_str(self.line()?).map_err(|e| format!("its header: {e}"))
    }

    /// All that is left, as exactly `count` floats (`None`: more than memory holds).
    pub(super) fn floats(&mut self, count: Option<usize>) -> Result<Vec<f32>, String> {
        if count.and_then(|n| n.checked_mul(4)) != Some(self.rest.len()) {
            return Err(format!(
                "{} bytes of numbers where its header needs {}",
                self.rest.len(),
                count.map_or("more than memory holds".to_string(), |n| (n * 4)
                    .to_string())
            ));
        }
        let floats = self
            .rest
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        self.rest = &[];
        Ok(floats)
    }
}
