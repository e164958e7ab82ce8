//! What screening heard, kept for review (issue 8 item 5): the caller's audio of the listen
//! and press-5 windows as one G.711 µ-law file per call, deleted by age, and served to a
//! supervisor as WAV. The capture itself is in the detector ([`super::CallDetector::
//! screening_audio`]); this module is the files: sans clock (time is an argument).
//!
//! Files are `DIR/<call>.ul`, where `<call>` is the call id with every byte outside
//! `[A-Za-z0-9._-]` written as `%XX`, so that any id maps to one file inside `DIR` and back.
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Why a clip could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The file system refused.
    #[error("screening audio {path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The folder of kept clips and how long they stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioStore {
    dir: PathBuf,
    retention: Option<Duration>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AudioError + '_ {
    move |source| AudioError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The file name of a call's clip.
pub fn file_name(call_id: &str) -> String {
    let mut s = String::with_capacity(call_id.len() + 3);
    for b in call_id.bytes() {
        if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    // "." and ".." are ids too, but not file names.
    if s.chars().all(|c| c == '.') {
        s = s.replace('.', "%2E");
    }
    s + ".ul"
}

impl AudioStore {
    /// Clips in `dir`, kept `retention_days` (0 = keep nothing: [`AudioStore::save`] is a
    /// no-op and [`AudioStore::sweep`] deletes everything).
    pub fn new(dir: impl Into<PathBuf>, retention_days: u32) -> AudioStore {
        AudioStore {
            dir: dir.into(),
            retention: (retention_days > 0)
                .then(|| Duration::from_secs(u64::from(retention_days) * 86_400)),
        }
    }

    /// Keeping clips at all.
    pub fn enabled(&self) -> bool {
        self.retention.is_some()
    }

    /// Writes the clip of `call_id` (replacing an earlier one); `None` when keeping is off.
    pub fn save(&self, call_id: &str, ulaw: &[u8]) -> Result<Option<PathBuf>, AudioError> {
        if !self.enabled() {
            return Ok(None);
        }
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.dir.join(file_name(call_id));
        // Write beside, then rename: a reader never sees half a clip.
        let tmp = path.with_extension("ul.tmp");
        std::fs::write(&tmp, ulaw).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(Some(path))
    }

    /// The clip of `call_id`, if kept.
    pub fn load(&self, call_id: &str) -> Result<Option<Vec<u8>>, AudioError> {
        let path = self.dir.join(file_name(call_id));
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Deletes the clips older than the retention at `now` (all of them when keeping is
    /// off); returns how many. A missing folder is nothing to delete.
    pub fn sweep(&self, now: SystemTime) -> Result<usize, AudioError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        let mut deleted = 0;
        for entry in entries {
            let entry = entry.map_err(io(&self.dir))?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("ul") {
                continue;
            }
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .map_err(io(&path))?;
            let age = now.duration_since(modified).unwrap_or(Duration::ZERO);
            if self.retention.is_none_or(|keep| age > keep) {
                std::fs::remove_file(&path).map_err(io(&path))?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

/// A µ-law clip as a WAV file (PCM 16-bit, 8 kHz, mono: plays everywhere).
pub fn to_wav(ulaw: &[u8]) -> Vec<u8> {
    let data_len = u32::try_from(ulaw.len() * 2).unwrap_or(u32::MAX - 36);
    let mut w = Vec::with_capacity(44 + ulaw.len() * 2);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&16000u32.to_le_bytes()); // bytes per second
    w.extend_from_slice(&2u16.to_le_bytes()); // block align
    w.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for &u in ulaw {
        w.extend_from_slice(&crate::media::g711::ulaw_to_linear(u).to_le_bytes());
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_call_id_maps_to_one_file_inside_the_folder() {
        assert_eq!(file_name("abc-1.x_y"), "abc-1.x_y.ul");
        assert_eq!(file_name("a/../b@c d"), "a%2F..%2Fb%40c%20d.ul");
        assert_eq!(file_name(".."), "%2E%2E.ul");
        assert_ne!(file_name("a%2F"), file_name("a/"));
    }

    #[test]
    fn save_load_sweep_by_age_and_off() {
        let dir = tempfile::tempdir().unwrap();
        let store = AudioStore::new(dir.path().join("clips"), 30);
        assert_eq!(store.load("c1").unwrap(), None);
        assert_eq!(store.sweep(SystemTime::now()).unwrap(), 0, "no folder yet");
        let path = store.save("c1", &[0xFF; 160]).unwrap().expect("kept");
        assert_eq!(store.load("c1").unwrap().map(|b| b.len()), Some(160));
        let now = SystemTime::now();
        assert_eq!(store.sweep(now).unwrap(), 0);
        assert_eq!(
            store.sweep(now + Duration::from_secs(31 * 86_400)).unwrap(),
            1
        );
        assert!(!path.exists());
        let off = AudioStore::new(dir.path().join("clips"), 0);
        assert_eq!(off.save("c2", &[1, 2]).unwrap(), None);
        store.save("c3", &[1]).unwrap();
        assert_eq!(off.sweep(now).unwrap(), 1, "off deletes what was kept");
    }

    #[test]
    fn wav_is_pcm16_8k_mono_and_reads_back() {
        let ulaw: Vec<u8> = (0..=255).collect();
        let wav = to_wav(&ulaw);
        assert_eq!(wav.len(), 44 + 512);
        let back = super::super::input::from_wav(&wav).expect("our own reader takes it");
        let bytes: Vec<u8> = back
            .iter()
            .flat_map(|p| p.payload.iter().copied())
            .collect();
        // µ-law → linear → µ-law is exact except for the two zeros (0x7F, 0xFF).
        let same = ulaw.iter().zip(&bytes).filter(|(a, b)| a == b).count();
        assert!(same >= 255, "{same}");
    }
}
