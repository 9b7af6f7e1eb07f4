//! Replays every fuzz corpus on stable, without a fuzzing engine: each file under
//! `fuzz/corpus/<target>/` (the seeds and what fuzzing kept, minimised) and
//! `fuzz/regressions/<target>/` (inputs that once crashed a target) goes through the target's
//! check. A crash found by fuzzing stays fixed. See docs/fuzzing.md.

use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_and_regression_input_passes_its_check() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut total = 0;
    for (target, check) in edgefleet_fuzz_checks::TARGETS {
        let corpus = files(&fuzz.join("corpus").join(target));
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{target}/ is empty: every target keeps a seed corpus"
        );
        for path in corpus
            .iter()
            .chain(&files(&fuzz.join("regressions").join(target)))
        {
            let data = std::fs::read(path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(
                outcome.is_ok(),
                "{target}: {} fails its check (run `cargo fuzz run {target} {}` in fuzz/ to see it)",
                path.display(),
                path.display()
            );
            total += 1;
        }
    }
    eprintln!("replayed {total} inputs");
}

/// The kustomizations `edgefleet generate` writes (the `seed-generated-*` seeds of `diff_paths`)
/// are read without the YAML parser: their block scalars cut out, the rest by the plain reader.
/// `diff` reads thousands of them; the parser would make it several times slower.
#[test]
fn generated_kustomizations_take_the_plain_reader() {
    use edgefleet_fleet::fuzzing::{cut_block_scalars, simple_scalars};
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/diff_paths");
    let generated: Vec<PathBuf> = files(&corpus)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("seed-generated-"))
        })
        .collect();
    assert!(!generated.is_empty());
    for path in generated {
        let text = std::fs::read_to_string(&path).unwrap();
        let (rest, _) = cut_block_scalars(&text);
        assert!(
            simple_scalars(&rest).is_some(),
            "{} is left to the parser",
            path.display()
        );
    }
}
