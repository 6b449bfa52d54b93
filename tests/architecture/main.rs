//! The house rules of ARCHITECTURE.md ("Dependency direction"), checked on
//! the source itself: no import cycle between sibling modules at any level,
//! and no top-level module importing one of a higher layer.

mod lex;
mod modgraph;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use modgraph::{Edge, Graph};

fn crate_graph() -> Graph {
    modgraph::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
}

fn describe(edges: &[&Edge]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let show = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    edges
        .iter()
        .map(|e| {
            format!(
                "      {} uses {} ({})",
                show(&e.from),
                e.written,
                show(&e.to)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_import_cycle_between_sibling_modules() {
    let graph = crate_graph();
    let mut report = Vec::new();
    for (level, pairs) in graph.sibling_edges() {
        let arrows: BTreeSet<(String, String)> = pairs.keys().cloned().collect();
        for cycle in modgraph::cycles(&arrows) {
            let parent = if level.is_empty() {
                "crate".to_string()
            } else {
                level.join("::")
            };
            report.push(format!("  in {parent}: {}", cycle.join(" ⇄ ")));
            for ((a, b), edges) in &pairs {
                if cycle.contains(a) && cycle.contains(b) {
                    report.push(format!("    {a} → {b}:\n{}", describe(edges)));
                }
            }
        }
    }
    assert!(
        report.is_empty(),
        "import cycles between modules (move the shared item into the lower module, \
         or a leaf module both can read):\n{}",
        report.join("\n")
    );
}

/// The layers of ARCHITECTURE.md's "Dependency direction", bottom first: the
/// lines of its `layers` block, each a layer's top-level modules.
fn documented_layers() -> Vec<Vec<String>> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md is readable");
    let block = doc
        .split("```layers\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("ARCHITECTURE.md has a ```layers block");
    let mut layers: Vec<Vec<String>> = block
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(_, modules)| modules.split_whitespace().map(str::to_string).collect())
        .collect();
    // Written top first, as a reader expects a stack.
    layers.reverse();
    layers
}

#[test]
fn no_module_imports_a_higher_layer() {
    let graph = crate_graph();
    let layers = documented_layers();
    let layer_of: BTreeMap<&str, usize> = layers
        .iter()
        .enumerate()
        .flat_map(|(n, mods)| mods.iter().map(move |m| (m.as_str(), n)))
        .collect();
    let levels = graph.sibling_edges();
    let top = levels.get(&Vec::new()).cloned().unwrap_or_default();
    let top_modules: BTreeSet<&String> =
        graph.module_of.values().filter_map(|m| m.first()).collect();
    let unplaced: Vec<&&String> = top_modules
        .iter()
        .filter(|m| !layer_of.contains_key(m.as_str()))
        .collect();
    assert!(
        unplaced.is_empty(),
        "top-level modules missing from ARCHITECTURE.md's layers: {unplaced:?}"
    );
    let mut report = Vec::new();
    for ((a, b), edges) in &top {
        if layer_of[a.as_str()] < layer_of[b.as_str()] {
            report.push(format!("  {a} → {b}:\n{}", describe(edges)));
        }
    }
    assert!(
        report.is_empty(),
        "lower layers importing higher ones:\n{}",
        report.join("\n")
    );
}

/// The reader itself, on a crate small enough to check by hand.
#[test]
fn the_reader_finds_uses_paths_reexports_and_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("store")).unwrap();
    std::fs::write(
        src.join("lib.rs"),
        "pub mod ack;\npub mod store;\nmod types { pub struct T; }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("ack.rs"),
        "// use crate::store; (a comment)\nconst S: &str = \"crate::store::X\";\n\
         pub fn f() { let c = '{'; crate::types::T; }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("store/mod.rs"),
        "mod batch;\n#[path = \"sql/rows.rs\"]\nmod rows;\npub use batch::Batch;\n",
    )
    .unwrap();
    std::fs::create_dir_all(src.join("store/sql")).unwrap();
    std::fs::write(
        src.join("store/batch.rs"),
        "use super::rows::{self, Row};\npub struct Batch;\n",
    )
    .unwrap();
    std::fs::write(
        src.join("store/sql/rows.rs"),
        "use crate::{ack, store::Batch as B};\npub struct Row;\n",
    )
    .unwrap();
    let graph = modgraph::read(&src.join("lib.rs"));
    let name = |p: &Path| p.strip_prefix(src).unwrap().display().to_string();
    let edges: BTreeSet<(String, String)> = graph
        .edges
        .iter()
        .map(|e| (name(&e.from), name(&e.to)))
        .collect();
    let expected: BTreeSet<(String, String)> = [
        // An item of an inline module lives in its file.
        ("ack.rs", "lib.rs"),
        // A `mod` declaration is not a use; the re-export is.
        ("store/mod.rs", "store/batch.rs"),
        ("store/batch.rs", "store/sql/rows.rs"),
        ("store/sql/rows.rs", "ack.rs"),
        // Through the re-export in store/mod.rs.
        ("store/sql/rows.rs", "store/batch.rs"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(edges, expected);
    let levels = graph.sibling_edges();
    let store: BTreeSet<(String, String)> =
        levels[&vec!["store".to_string()]].keys().cloned().collect();
    assert_eq!(
        modgraph::cycles(&store),
        vec![vec!["batch".to_string(), "rows".to_string()]]
    );
    let top: BTreeSet<(String, String)> = levels[&Vec::new()].keys().cloned().collect();
    // ack → types (lib.rs's inline module is the crate's own file: not a
    // sibling edge), store → ack.
    assert_eq!(top, BTreeSet::from([("store".into(), "ack".into())]));
    assert!(modgraph::cycles(&top).is_empty());
}
