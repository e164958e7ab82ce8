//! The shipped prompts, compiled into the binary: an installed `siaga` (no source tree) and
//! `siaga demo` always have them, and a prompt file that cannot be read (a wrong path in the
//! configuration, a missing package file) falls back to the built-in recording instead of
//! leaving a 112 caller in silence. The files under `config/prompts/` stay the source (see
//! `config/prompts/make-prompts.sh`); a configured file replaces the built-in one.

use super::b2bua::Prompt;

/// The built-in recording of `prompt` (G.711 µ-law, 8 kHz, headerless).
pub fn builtin(prompt: Prompt) -> &'static [u8] {
    match prompt {
        Prompt::Greeting => include_bytes!("../../config/prompts/greeting.ul"),
        Prompt::Press5 => include_bytes!("../../config/prompts/press5.ul"),
        Prompt::Queue => include_bytes!("../../config/prompts/queue.ul"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prompt_is_built_in_and_matches_the_shipped_file() {
        for (prompt, file) in [
            (Prompt::Greeting, "greeting.ul"),
            (Prompt::Press5, "press5.ul"),
            (Prompt::Queue, "queue.ul"),
        ] {
            let shipped = std::fs::read(format!(
                "{}/config/prompts/{file}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            assert_eq!(builtin(prompt), &shipped[..], "{file}");
            assert!(
                builtin(prompt).len() > 8000,
                "{file}: at least a second of audio"
            );
        }
    }
}
